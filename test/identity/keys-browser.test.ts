// keys-browser.ts (the browser build's keys.ts, on @noble/curves) against
// keys.ts (node:crypto): the same public keys and signatures, byte for byte,
// and the same verdict on good, tampered and non-canonical signatures.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import * as node from '../../src/identity/keys.ts'
import * as browser from '../../src/identity/keys-browser.ts'

// The order of Ed25519's group: S + L is the same point check, a malleable signature strict verifiers refuse.
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const le = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n)
const toLe = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))

test('the same key pair and the same signatures from a seed', (t) => {
  for (let i = 0; i < 20; i++) {
    const seed = randomBytes(32)
    const msg = randomBytes(i * 7)
    t.deepEqual(Buffer.from(browser.keyPairFromSeed(seed).publicKey), Buffer.from(node.keyPairFromSeed(seed).publicKey))
    t.deepEqual(Buffer.from(browser.signBytes(seed, msg)), Buffer.from(node.signBytes(seed, msg)))
  }
  const fresh = browser.generateKeyPair()
  t.deepEqual(Buffer.from(node.keyPairFromSeed(fresh.seed).publicKey), Buffer.from(fresh.publicKey))
})

test('the same verdict on good, tampered, malleated and malformed signatures', (t) => {
  const key = node.generateKeyPair()
  const msg = randomBytes(100)
  const sig = node.signBytes(key.seed, msg)
  const tampered = Uint8Array.from(sig)
  tampered[10]! ^= 1
  const malleated = Uint8Array.from(sig)
  malleated.set(toLe(le(sig.subarray(32)) + L), 32)
  const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
    ['good', key.publicKey, msg, sig],
    ['another message', key.publicKey, randomBytes(100), sig],
    ['tampered', key.publicKey, msg, tampered],
    ['S + L', key.publicKey, msg, malleated],
    ['short signature', key.publicKey, msg, sig.subarray(0, 63)],
    ['short key', key.publicKey.subarray(1), msg, sig],
    ['key not on the curve', Uint8Array.from({ length: 32 }, () => 0xff), msg, sig],
  ]
  for (const [name, pub, m, s] of cases) t.is(browser.verifyBytes(pub, m, s), node.verifyBytes(pub, m, s), name)
  t.true(browser.verifyBytes(key.publicKey, msg, sig))
  t.false(browser.verifyBytes(key.publicKey, msg, malleated))
})
