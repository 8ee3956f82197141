// WebRTC links between devices (docs/rtc.md). This surface is portable (the
// browser device uses it with its own RTCPeerConnection and WebSocket); the
// Node-only pieces are the module src/rtc-node.ts.
export { Mux, MuxStream, FRAME_HEADER, FRAME_PAYLOAD, HIGH_WATER_MARK, LOW_WATER_MARK, MAX_STREAMS, FLAG_OPEN, FLAG_DATA, FLAG_END } from './mux.ts'
export type { MuxOptions } from './mux.ts'
export { rtcBinding, sdpFingerprint } from './binding.ts'
export { RtcConnection, createOffer, acceptOffer, DATA_CHANNEL_LABEL, GATHER_TIMEOUT, OPEN_TIMEOUT } from './connection.ts'
export type { RtcOptions, PendingOffer } from './connection.ts'
export { TrackerSignal, binaryString, REANNOUNCE_INTERVAL, ANSWER_TIMEOUT, MAX_OFFERS } from './signaling.ts'
export type { SignalOptions, IncomingOffer, AnnounceProver } from './signaling.ts'
export { RtcError } from './errors.ts'
export type { RtcErrorCode } from './errors.ts'
export type { DataChannelLike, PeerConnectionLike, PeerConnectionFactory, SessionDescriptionLike, WebSocketLike } from './types.ts'
export { Emitter } from './emitter.ts'
