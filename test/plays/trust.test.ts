// Whose entries a log takes, from a real roster: own devices; not a revoked
// one (from the moment the roster says so); not another owner's device.
import test from 'ava'
import { join } from 'node:path'
import { generateKeyPair, loadIdentity, revokeDevice, type Identity } from '../../src/identity/index.ts'
import { PlayBook, encodeEntry, rosterTrust, signEntry } from '../../src/plays/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SHA = (n: number) => n.toString(16).padStart(64, '0')

test('a revoked device\'s entries are refused from the revocation on; entries held before stay', async (t) => {
  const root = await tempDir(t)
  const [desk, laptop] = await makeHomes(root, ['desk', 'laptop'])
  let id: Identity = await loadIdentity(desk!)
  const lap = await loadIdentity(laptop!)
  const trust = rosterTrust(() => id)
  const lapKey = hex(lap.device.publicKey)
  t.is(trust(hex(id.device.publicKey)), 'own')
  t.is(trust(lapKey), 'own')
  t.is(trust(hex(generateKeyPair().publicKey)), 'stranger')

  const book = await PlayBook.open({ path: join(root, 'plays.log'), device: id.device, trust })
  const play = (seq: number) => encodeEntry(signEntry({ kind: 'play', device: lapKey, seq, sha256: SHA(seq), at: seq, source: 'web' }, lap.device.seed))
  t.is((await book.merge([play(1)])).added, 1)
  id = { ...id, roster: revokeDevice(id.roster, lap.device.publicKey) }
  t.is(trust(lapKey), 'revoked')
  const later = await book.merge([play(2)])
  t.deepEqual(later.refused.map((r) => r.reason), ['revoked'])
  t.deepEqual([...book.stats().keys()], [SHA(1)])
})
