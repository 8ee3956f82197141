export { selfSignedCertificate, ed25519KeyOf } from './certificate.ts'
export type { TlsCredentials } from './certificate.ts'
export { LINK_ALPN, LINK_HANDSHAKE_TIMEOUT, LinkError, channelBinding, createLinkServer, dialLink, linkFailure, linkRtt } from './secure-link.ts'
export type { LinkServerOptions, DialLinkOptions } from './secure-link.ts'
