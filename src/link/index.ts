export { selfSignedCertificate, ed25519KeyOf } from './certificate.ts'
export type { TlsCredentials } from './certificate.ts'
