// The djcloud protocol in a page (docs/browser.md): the entry of the browser
// bundle (dist/browser/djcloud-device.js, vite.browser.config.ts). The same
// wire, dj_auth, device channel and torrent scheduler as a Node device, over
// a byte stream the page's transport gives (a WebRTC data channel), and the
// page's own track store on OPFS. The shims come first: the modules after
// them use Buffer and process.nextTick as they find them.
import './shims/globals.ts'

export {
  Wire, WireError, authenticateWire, AuthError, AUTH_EXTENSION, SessionError, Torrent, DeviceChannel, deviceChannelInfoHash,
  LOOKUP_EXTENSION, metaFromTrack, metaFromInfoDict, pieceSize, BLOCK, Bitfield, PieceFileError,
} from '../swarm/browser.ts'
export type {
  Credentials, DeviceSigner, SignerCredentials, PeerSession, SessionOptions, WireTransport, VerifiedPeer, TorrentMeta, PieceSource, PartialStore,
} from '../swarm/browser.ts'
export { classifyCertificate, decodeCertificate, encodeCertificate, verifyRoster, IdentityError, keyPairFromSeed, signBytes, verifyBytes } from '../identity/browser.ts'
export type { Roster, DeviceCertificate } from '../identity/browser.ts'
export { messageStream, MAX_MESSAGE } from './message-stream.ts'
export type { MessageChannelLike, MessageStreamOptions } from './message-stream.ts'
export { cryptoKeySigner } from './signer.ts'
export { loadFastHashes } from './shims/node-crypto.ts'
export { BrowserTrackStore, OpfsPartialFile, OpfsCompleteFile, TrackStoreError, DEFAULT_BROWSER_BUDGET } from './track-store.ts'
export type { TrackStoreOptions, TrackInfo, TrackStoreErrorCode } from './track-store.ts'
export { servePlayback, torrentTrack, RATE_WINDOW } from './playback.ts'
export type { PlaybackSource, PlaybackOptions, PlaybackTrack, OpenTrack, PlaybackStream, PlaybackServer, WorkerContainer } from './playback.ts'
export { BrowserDevice, MAX_LINKS, OFFER_ROUND, FETCH_LOOKUP_TIMEOUT, BROWSER_QUEUE_MIN } from './device.ts'
export type { BrowserDeviceOptions, PairedDevice, LinkView, FetchResult } from './device.ts'
export { openRelay, pageSignal, announceProof, signalUrl, SIGNAL_PATH } from './signal.ts'
export { createOffer, RtcError } from '../rtc/index.ts'
export type { RtcConnection, PendingOffer, RtcOptions } from '../rtc/index.ts'
export { PagePlaylists, playlistName } from './playlists.ts'
export type { PagePlaylistsOptions, PagePlaylist, PlaylistNotice } from './playlists.ts'
