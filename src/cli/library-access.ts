// How the CLI reaches a home's library: through the node's local API while a
// node runs on the home (it owns the LevelDB store), otherwise by opening the
// store directly.
import { hasIdentity, loadIdentity } from '../identity/index.ts'
import { openLibrary, type Library } from '../library/index.ts'
import { runningNode } from '../node/index.ts'
import { readApiToken } from '../player/index.ts'
import { RemoteLibrary } from './remote-library.ts'

export async function withLibrary<T>(home: string, fn: (lib: Library) => Promise<T>): Promise<T> {
  const node = await runningNode(home)
  if (node) return fn(new RemoteLibrary(node, (await readApiToken(home)) ?? ''))
  const circleSecret = (await hasIdentity(home)) ? (await loadIdentity(home)).circleSecret : undefined
  const lib = await openLibrary(home, { circleSecret })
  try {
    return await fn(lib)
  } finally {
    await lib.close()
  }
}
