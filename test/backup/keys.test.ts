// The backup key: derived from the recovery phrase beside the owner key and
// the circle secret, frozen, and held only by admin devices.
import test from 'ava'
import { access, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { mnemonicToSeedSync } from '@scure/bip39'
import { deriveOwnerSecrets, loadIdentity } from '../../src/identity/index.ts'
import { BackupError, exportBackup } from '../../src/backup/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'

// BIP-39 test vector phrase (all-zero entropy, 24 words).
const PHRASE = Array(23).fill('abandon').join(' ') + ' art'
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

test('every derivation from the phrase is frozen, byte for byte', (t) => {
  const s = deriveOwnerSecrets(PHRASE)
  t.is(hex(s.owner.publicKey), '8a5139fcab0c781248826d4ed0c1bb8507bacf1a579579625f87dfa8e6b9bf3b')
  t.is(hex(s.circleSecret), 'e27413175ea41b0f9b9ddb458c9ae3714e0c8d2fbb1a2f767c4abaf198e38a8f')
  t.is(hex(s.backupKey), 'f5ab54575b7c2c113254426fb7f4ceac3f16a1d08ccae2464c0b05a6d90b6803')
})

test('the backup key is HKDF-SHA256 of the BIP-39 seed under its own label (checked with another HKDF)', (t) => {
  const seed = mnemonicToSeedSync(PHRASE)
  const expand = (label: string) => hex(hkdf(sha256, seed, new TextEncoder().encode('djcloud/v1'), new TextEncoder().encode(label), 32))
  const s = deriveOwnerSecrets(PHRASE)
  t.is(hex(s.backupKey), expand('backup-key'))
  t.is(hex(s.circleSecret), expand('circle-secret'))
  t.is(hex(s.owner.seed), expand('owner-key'))
  // Domain separated: no derived value equals another.
  t.is(new Set([hex(s.backupKey), hex(s.circleSecret), hex(s.owner.seed)]).size, 3)
})

test('a member device holds neither the phrase, the owner seed nor the backup key, and cannot make a backup', async (t) => {
  const root = await tempDir(t)
  const [admin, member] = await makeHomes(root, ['desk', 'phone'])
  const a = await loadIdentity(admin!)
  const m = await loadIdentity(member!)
  t.truthy(a.backupKey)
  t.is(m.backupKey, undefined)
  t.is(m.owner, undefined)
  t.is(m.phrase, undefined)
  const files = await readdir(join(member!, 'identity'))
  t.deepEqual(files.sort(), ['circle.secret', 'device.cert', 'device.key', 'roster'])
  // What it does hold is unrelated to the backup key (it is an independent HKDF output of the seed).
  t.not(hex(m.circleSecret), hex(a.backupKey!))
  t.not(hex(m.device.seed), hex(a.backupKey!))
  const err = await t.throwsAsync(exportBackup(member!), { instanceOf: BackupError })
  t.is(err?.code, 'ERR_NOT_ADMIN')
  // and nothing was written for it
  await t.throwsAsync(access(join(member!, 'backup')))
})
