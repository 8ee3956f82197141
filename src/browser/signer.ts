// A device key held by WebCrypto as dj_auth's async signer: the private key
// may be non-extractable (kept in IndexedDB, signing without ever being
// read). Ed25519 signatures are deterministic, so the proof is the same
// bytes a seed would sign (test/e2e/browser-protocol.test.ts checks it).
import type { DeviceSigner } from '../swarm/browser.ts'

interface SubtleSign {
  sign(algorithm: 'Ed25519', key: unknown, data: Uint8Array): Promise<ArrayBuffer>
}

/** `privateKey`: a WebCrypto Ed25519 CryptoKey with usage 'sign'; `publicKey`: its raw 32 bytes. */
export function cryptoKeySigner(privateKey: unknown, publicKey: Uint8Array): DeviceSigner {
  if (publicKey.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes')
  const subtle = globalThis.crypto.subtle as unknown as SubtleSign
  return {
    publicKey: Uint8Array.from(publicKey),
    sign: async (message) => new Uint8Array(await subtle.sign('Ed25519', privateKey, message)),
  }
}
