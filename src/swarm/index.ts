export { Swarm, SwarmError, shareChannelInfoHash, backupChannelInfoHash, MAX_BACKUP_BLOB_BYTES, PUSH_BYTES } from './swarm.ts'
export type { SwarmOptions, SwarmSharing, SwarmBackups } from './swarm.ts'
export { Torrent, type TorrentOptions } from './torrent.ts'
export { DeviceChannel, deviceChannelInfoHash, LOOKUP_EXTENSION, CommandError, MAX_COMMAND_BODY, COMMAND_TIMEOUT } from './device-channel.ts'
export type { DeviceLink, LinkPath, Holder, ManifestNotice, CommandHandler, CommandAnswer } from './device-channel.ts'
export { metaFromTrack, metaFromInfoDict, metaFromForeignInfoDict, encodeInfoDict, pieceSize, BLOCK } from './torrent-meta.ts'
export type { TorrentMeta } from './torrent-meta.ts'
export { CompleteFile, PartialFile, cachePaths, PieceFileError } from './piece-file.ts'
export type { PieceSource } from './piece-file.ts'
export { Bitfield } from './bitfield.ts'
export { authenticate, AUTH_DEADLINE, SessionError } from './protocol/session.ts'
export type { PeerSession } from './protocol/session.ts'
export type { LocalCredentials, VerifiedPeer } from './protocol/auth.ts'
export { announce, announceSigner, signedAnnounceParams, trackerKeyTrusted, AnnounceError } from './announce.ts'
// The announce proof's wire format, which the tracker (tracker/) checks.
export {
  announceSigningBytes, announceUrl, parseAnnounceResponse, percentEncodeBytes,
  ANNOUNCE_NONCE_BYTES, INFO_HASH_BYTES, PEER_ID_BYTES, PROOF_PARAMS,
} from './announce.ts'
export type { AnnounceSigner, AnnounceOptions, AnnounceProof, AnnounceResult, AnnouncePeer } from './announce.ts'
export { TrackCache, defaultCacheBudget, formatBytes, CACHE_STATE_FILE, DEFAULT_CACHE_BUDGET_MAX } from './track-cache.ts'
export type { TrackCacheOptions, CacheEntry, CacheEntryState, CacheStats } from './track-cache.ts'
export type { SwarmErrorCode } from './errors.ts'
