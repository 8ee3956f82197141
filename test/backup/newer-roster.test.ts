// importBackup with a newer roster found elsewhere (restore over the network
// passes one an own device or the DHT still has): the newer owner-signed
// roster is restored instead of the backed-up one, an older one changes
// nothing, and one that does not verify under the owner is refused with the
// new home left untouched.
import test from 'ava'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { loadIdentity, revokeDevice, saveRoster } from '../../src/identity/index.ts'
import { BackupError, exportBackup, importBackup } from '../../src/backup/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'

test('a newer owner-signed roster given to importBackup is restored; an older one is not; a forged one is refused', async (t) => {
  const root = await tempDir(t)
  const [desk, old] = await makeHomes(root, ['desk', 'old'])
  const { bytes } = await exportBackup(desk!)
  const rosterFile = join(desk!, 'identity', 'roster')
  const before = await readFile(rosterFile)
  const deskId = await loadIdentity(desk!)
  const oldKey = (await loadIdentity(old!)).device.publicKey
  await saveRoster(deskId, revokeDevice(deskId.roster, oldKey))
  const newer = await readFile(rosterFile)
  const phrase = deskId.phrase!
  const isRevoked = async (home: string) => (await loadIdentity(home)).roster.revoked.some((k) => Buffer.from(k).equals(Buffer.from(oldKey)))

  const a = join(root, 'a')
  const s = await importBackup(a, bytes, { phrase, newerRoster: newer })
  t.true(await isRevoked(a))
  t.is(s.rosterSeq, deskId.roster.seq + 2, 'the newer roster with this device added')
  t.is(s.backupRosterSeq, deskId.roster.seq)

  const b = join(root, 'b')
  await importBackup(b, bytes, { phrase, newerRoster: before })
  t.false(await isRevoked(b), 'not newer: the backed-up roster')

  const forged = Buffer.from(newer)
  forged[forged.length - 10]! ^= 1
  const c = join(root, 'c')
  const err = await t.throwsAsync(importBackup(c, bytes, { phrase, newerRoster: forged }), { instanceOf: BackupError })
  t.is(err?.code, 'ERR_CONTENT')
  t.is(await stat(join(c, 'identity')).catch(() => null), null)
})
