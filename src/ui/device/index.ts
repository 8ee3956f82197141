// This browser as a device of the circle: its key (WebCrypto Ed25519,
// non-extractable, else @noble/curves), pairing from a link, what it keeps
// in IndexedDB, and signing with its key.
export { keepRoster, loadDevice, pairWith, sign, PairingRefused } from './device.ts'
export type { BrowserDevice, PairOptions } from './device.ts'
export { webCryptoEd25519 } from './keys.ts'
export type { KeyKind, DeviceKey } from './keys.ts'
export { claimMessage } from './claim.ts'
export { clearDevice } from './store.ts'
