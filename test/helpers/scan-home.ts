// A home's library filled before its node starts: the scan runs in this
// process on the home's own library (with its circle secret, so the
// torrents are the ones the node will serve), saving a CLI process per home.
import { loadIdentity } from '../../src/identity/index.ts'
import { openLibrary } from '../../src/library/index.ts'

/** Scans `dir` into the library of `home` (no node may be running on it). */
export async function scanHome(home: string, dir: string): Promise<void> {
  const lib = await openLibrary(home, { circleSecret: (await loadIdentity(home)).circleSecret })
  await lib.scan([dir])
  await lib.close()
}
