// What a friend's node holds of another circle's backups, as its owner sees
// it in `djcloud backup status --json`: the tests wait on it to know the
// friends' nodes have linked and a push has reached the friend.
import { cli } from './cli.ts'

/** The seqs `home` holds of the first owner it holds backups for, newest first ([] when none). */
export async function heldSeqs(home: string): Promise<number[]> {
  const s = JSON.parse(await cli(home, ['backup', 'status', '--json'])) as { held: Array<{ versions: Array<{ seq: number }> }> }
  return s.held[0]?.versions.map((v) => v.seq) ?? []
}
