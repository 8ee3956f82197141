import test from 'ava'
import { deriveOwnerSecrets, newRecoveryPhrase, signBytes, verifyBytes } from '../../src/identity/index.ts'

// BIP-39 test vector phrase (all-zero entropy, 24 words).
const PHRASE = Array(23).fill('abandon').join(' ') + ' art'

test('the same phrase always derives the same owner, circle secret and backup key', (t) => {
  const a = deriveOwnerSecrets(PHRASE)
  const b = deriveOwnerSecrets(`  ${PHRASE.toUpperCase().replace(/ /g, '   ')} `)
  t.deepEqual(Buffer.from(a.owner.publicKey), Buffer.from(b.owner.publicKey))
  t.deepEqual(Buffer.from(a.circleSecret), Buffer.from(b.circleSecret))
  t.deepEqual(Buffer.from(a.backupKey), Buffer.from(b.backupKey))
  // frozen: a recovery phrase must restore the same owner in every version
  t.is(Buffer.from(a.owner.publicKey).toString('hex'), FROZEN_OWNER)
})

test('derived secrets are independent of each other and of other phrases', (t) => {
  const a = deriveOwnerSecrets(PHRASE)
  const other = deriveOwnerSecrets(newRecoveryPhrase())
  const values = [a.owner.seed, a.circleSecret, a.backupKey, other.owner.seed, other.circleSecret].map((v) => Buffer.from(v).toString('hex'))
  t.is(new Set(values).size, values.length)
})

test('the owner key signs and verifies; a tampered message fails', (t) => {
  const { owner } = deriveOwnerSecrets(PHRASE)
  const msg = Buffer.from('roster v1')
  const sig = signBytes(owner.seed, msg)
  t.true(verifyBytes(owner.publicKey, msg, sig))
  t.false(verifyBytes(owner.publicKey, Buffer.from('roster v2'), sig))
  t.false(verifyBytes(owner.publicKey, msg, sig.subarray(1)))
})

test('an invalid phrase is refused with a clear error', (t) => {
  t.throws(() => deriveOwnerSecrets(PHRASE.replace('art', 'zoo')), { message: /not a valid BIP-39/ })
  t.throws(() => deriveOwnerSecrets('hello world'), { message: /not a valid BIP-39/ })
  t.is(newRecoveryPhrase().split(' ').length, 24)
})

const FROZEN_OWNER = '8a5139fcab0c781248826d4ed0c1bb8507bacf1a579579625f87dfa8e6b9bf3b'
