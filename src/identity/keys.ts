// Ed25519 keys on Node's built-in crypto. Keys are kept as raw 32-byte seeds
// and public keys; KeyObjects are built on demand.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'

// DER prefixes that wrap a raw Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface KeyPair {
  /** 32-byte private seed. */
  readonly seed: Uint8Array
  /** 32-byte public key. */
  readonly publicKey: Uint8Array
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes')
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

// The same few keys are checked over and over (a DHT get verifies each
// answering node's copy of an item: ~20 signatures by one key), and building
// a KeyObject costs more than the check itself.
const KEY_CACHE_SIZE = 256
const publicKeys = new Map<string, KeyObject>()

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes')
  const id = Buffer.from(publicKey).toString('base64')
  let key = publicKeys.get(id)
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (publicKeys.size >= KEY_CACHE_SIZE) publicKeys.delete(publicKeys.keys().next().value!)
    publicKeys.set(id, key)
  }
  return key
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const pub = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' })
  return { seed: Uint8Array.from(seed), publicKey: Uint8Array.from(pub.subarray(SPKI_PREFIX.length)) }
}

export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519')
  const der = privateKey.export({ format: 'der', type: 'pkcs8' })
  return keyPairFromSeed(der.subarray(PKCS8_PREFIX.length))
}

export function signBytes(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return Uint8Array.from(sign(null, message, privateKeyObject(seed)))
}

/** False for a bad signature or a malformed key; never throws on peer input. */
export function verifyBytes(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return verify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
