// How the CLI reaches a home's library. Today it opens the LevelDB store
// directly; when a node runs on the home (djcloud serve), the store is the
// node's and this is where the CLI will switch to the node's local API.
import { hasIdentity, loadIdentity } from '../identity/index.ts'
import { openLibrary, type Library } from '../library/index.ts'

export async function withLibrary<T>(home: string, fn: (lib: Library) => Promise<T>): Promise<T> {
  const circleSecret = (await hasIdentity(home)) ? (await loadIdentity(home)).circleSecret : undefined
  const lib = await openLibrary(home, { circleSecret })
  try {
    return await fn(lib)
  } finally {
    await lib.close()
  }
}
