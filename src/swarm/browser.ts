// The part of swarm that runs in a page as well as in Node (docs/browser.md):
// the wire, dj_auth over any bound byte stream, the device channel and the
// torrent scheduler, with the piece store behind an interface. No Node-only
// import: node:crypto, node:events and node:stream are shimmed in the
// browser build. Swarm (sockets, the tracker, the DHT) and the on-disk
// piece files stay Node's (index.ts).
export { Wire, WireError, MSG, MAX_MESSAGE_BYTES } from './protocol/wire.ts'
export type { WireEvents } from './protocol/wire.ts'
export { authenticateWire, AUTH_DEADLINE, SessionError } from './protocol/authenticate-wire.ts'
export type { Admission, PeerSession, SessionOptions, WireTransport } from './protocol/authenticate-wire.ts'
export { AuthError, AUTH_EXTENSION } from './protocol/auth.ts'
export type { AuthFailure, Credentials, DeviceSigner, LocalCredentials, SignerCredentials, VerifiedPeer } from './protocol/auth.ts'
export { Torrent } from './torrent.ts'
export { prefetchForPlayback, TAIL_BYTES, STARTUP_HOLD_MS } from './playback-start.ts'
export type { TorrentOptions, TorrentEvents } from './torrent.ts'
export { DeviceChannel, deviceChannelInfoHash, LOOKUP_EXTENSION, CommandError } from './device-channel.ts'
export type { DeviceLink, Holder, CommandHandler, CommandAnswer } from './device-channel.ts'
export { metaFromTrack, metaFromInfoDict, pieceSize, pieceHash, BLOCK } from './torrent-meta.ts'
export type { TorrentMeta } from './torrent-meta.ts'
export { PieceFileError, isPartial } from './piece-store.ts'
export type { PieceSource, PartialStore } from './piece-store.ts'
export { Bitfield } from './bitfield.ts'
export { streamDuplex } from './stream-duplex.ts'
export { announceSigningBytes, ANNOUNCE_NONCE_BYTES } from './announce-proof.ts'
