// keys.ts for the browser build (docs/browser.md, "Shims"): the same four
// functions on @noble/curves, since a page has no node:crypto KeyObjects and
// WebCrypto's Ed25519 is async. The browser build substitutes this file for
// keys.ts (vite.browser.config.ts); Node never loads it. Strict RFC 8032
// verification (zip215: false), as OpenSSL does: test/identity/keys-browser
// checks both agree, signatures byte for byte.
import { ed25519 } from '@noble/curves/ed25519.js'
import type { KeyPair } from './keys.ts'

export type { KeyPair } from './keys.ts'

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes')
  return { seed: Uint8Array.from(seed), publicKey: ed25519.getPublicKey(seed) }
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(ed25519.utils.randomSecretKey())
}

export function signBytes(seed: Uint8Array, message: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes')
  return ed25519.sign(message, seed)
}

/** False for a bad signature or a malformed key; never throws on peer input. */
export function verifyBytes(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}
