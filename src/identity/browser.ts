// The part of identity that runs in a page as well as in Node (docs/browser.md):
// keys, certificates, rosters and the trust gate, with no Node-only import
// (node:crypto's hashes are shimmed in the browser build; keys.ts has a
// browser twin, keys-browser.ts). Pairing and the identity store stay Node's.
export { IdentityError } from './errors.ts'
export type { IdentityErrorCode } from './errors.ts'
export { keyPairFromSeed, signBytes, verifyBytes } from './keys.ts'
export type { KeyPair } from './keys.ts'
export { formatId, parseId, shortId } from './ids.ts'
export type { IdKind } from './ids.ts'
export { encodeCertificate, decodeCertificate, verifyCertificate } from './certificate.ts'
export type { DeviceCertificate, DeviceRole } from './certificate.ts'
export { verifyRoster, checkRoster, isRevoked } from './roster.ts'
export type { Roster, Friend } from './roster.ts'
export { classifyCertificate } from './trust.ts'
export type { TrustDecision, FriendRevoked } from './trust.ts'
