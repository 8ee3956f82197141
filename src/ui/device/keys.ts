// The browser device's Ed25519 key. WebCrypto first: the private key is made
// non-extractable, so no script (ours included) can ever read it, only ask
// the browser to sign with it; IndexedDB keeps the CryptoKey as it is
// (structured clone). Where the browser has no Ed25519 in WebCrypto, or no
// WebCrypto at all (a page that is not a secure context: plain http on a LAN
// address), @noble/curves signs and the seed itself is what IndexedDB keeps:
// any script of this origin could read it, and the page says so.

/** How the key is held: by the browser (non-extractable) or as a seed in IndexedDB. */
export type KeyKind = 'webcrypto' | 'noble'

export interface DeviceKey {
  kind: KeyKind
  publicKey: Uint8Array
  /** kind webcrypto: the pair, its private half non-extractable. */
  keys?: CryptoKeyPair
  /** kind noble: the 32-byte seed. */
  seed?: Uint8Array
}

const ED25519 = { name: 'Ed25519' }

/** Whether this page can make a non-extractable Ed25519 key (a secure context whose browser has Ed25519). */
export async function webCryptoEd25519(): Promise<boolean> {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) return false
  try {
    await crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])
    return true
  } catch {
    return false
  }
}

export async function newDeviceKey(prefer: KeyKind = 'webcrypto'): Promise<DeviceKey> {
  if (prefer === 'webcrypto' && (await webCryptoEd25519())) {
    const keys = (await crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])) as CryptoKeyPair
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey))
    return { kind: 'webcrypto', publicKey, keys }
  }
  const { ed25519 } = await import('@noble/curves/ed25519.js')
  const seed = ed25519.utils.randomSecretKey()
  return { kind: 'noble', publicKey: ed25519.getPublicKey(seed), seed }
}

export async function signWith(key: DeviceKey, message: Uint8Array): Promise<Uint8Array> {
  if (key.kind === 'webcrypto') {
    if (!key.keys) throw new Error('the device key is missing from this browser')
    return new Uint8Array(await crypto.subtle.sign(ED25519, key.keys.privateKey, message as Uint8Array<ArrayBuffer>))
  }
  if (!key.seed) throw new Error('the device key is missing from this browser')
  const { ed25519 } = await import('@noble/curves/ed25519.js')
  return ed25519.sign(message, key.seed)
}
