// Backups carry the play log of every own device (encrypted with the rest);
// a restore merges it into the new home's log, checking each entry again.
import test from 'ava'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportBackup, importBackup, readBackup } from '../../src/backup/index.ts'
import { generateKeyPair, loadIdentity } from '../../src/identity/index.ts'
import { PlayBook, encodeEntry, playsLogPath, rosterTrust, signEntry } from '../../src/plays/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'

const SHA = (n: number) => n.toString(16).padStart(64, '0')

test('a backup carries every own device\'s plays and removals; a restore brings them back, and not a stranger\'s', async (t) => {
  const root = await tempDir(t)
  const [desk, laptop] = await makeHomes(root, ['desk', 'laptop'])
  const deskId = await loadIdentity(desk!)
  const lapId = await loadIdentity(laptop!)
  const deskLog = await PlayBook.open({ path: playsLogPath(desk!), device: deskId.device, trust: rosterTrust(() => deskId) })
  const lapLog = await PlayBook.open({ path: playsLogPath(laptop!), device: lapId.device, trust: rosterTrust(() => lapId) })
  await deskLog.record({ sha256: SHA(1), at: 1_000, source: 'web' })
  await deskLog.record({ sha256: SHA(1), at: 2_000, source: 'web' })
  await lapLog.record({ sha256: SHA(2), at: 3_000, source: 'Symfonium', listened: 200 })
  await lapLog.record({ sha256: SHA(3), at: 9_000, source: 'web' })
  await lapLog.remove(8_000, 10_000)
  await deskLog.merge(lapLog.since(deskLog.have()).lines)
  // A line no own device signed, put in the desk's file behind its back.
  const stranger = generateKeyPair()
  await appendFile(playsLogPath(desk!), encodeEntry(signEntry({ kind: 'play', device: Buffer.from(stranger.publicKey).toString('hex'), seq: 1, sha256: SHA(4), at: 4_000, source: 'web' }, stranger.seed)) + '\n')

  const { bytes, counts } = await exportBackup(desk!)
  t.is(counts.plays, 6)
  // Sealed: the log's text is not in the bytes.
  t.false(Buffer.from(bytes).includes(Buffer.from('Symfonium')))
  t.is(readBackup(bytes, deskId.phrase!).content.plays?.length, 6)

  const fresh = join(root, 'fresh')
  const summary = await importBackup(fresh, bytes, { phrase: deskId.phrase!, name: 'new-desk' })
  t.true(summary.refused.some((r) => r.includes('1 play-log entries refused')))
  const freshId = await loadIdentity(fresh)
  const restored = await PlayBook.open({ path: playsLogPath(fresh), device: freshId.device, trust: rosterTrust(() => freshId) })
  t.deepEqual([...restored.stats()].sort(), [[SHA(1), { count: 2, last: 2_000 }], [SHA(2), { count: 1, last: 3_000 }]])
  t.is(restored.all().length, 5)
  // Restoring the same backup again adds nothing.
  await t.throwsAsync(importBackup(fresh, bytes, { phrase: deskId.phrase! }))
  t.is((await PlayBook.open({ path: playsLogPath(fresh), device: freshId.device, trust: rosterTrust(() => freshId) })).all().length, 5)
})
