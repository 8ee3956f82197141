// The Node-only half of src/rtc (a module of its own, so src/rtc/index.ts
// stays portable for the browser): PeerConnections from webrtc-polyfill over
// node-datachannel, loaded on first use (a native
// module of ~10 MB: processes that never link over WebRTC do not load it).
// A browser uses its own RTCPeerConnection and does not import this file.
import type { MuxStream, PeerConnectionFactory, PeerConnectionLike, RtcOptions } from './rtc/index.ts'

type PolyfillCtor = new (config: { iceServers: unknown[] }) => PeerConnectionLike

let polyfill: Promise<PolyfillCtor> | undefined

/** webrtc-polyfill's RTCPeerConnection as a PeerConnectionFactory (imported once, on first call). */
export async function nodePeerConnection(): Promise<PeerConnectionFactory> {
  polyfill ??= import('webrtc-polyfill').then((m) => (m as unknown as { RTCPeerConnection: PolyfillCtor }).RTCPeerConnection)
  const Ctor = await polyfill
  return (config) => new Ctor(config)
}

/**
 * RtcOptions for a Node device: webrtc-polyfill's PeerConnections, offers
 * without candidates (RtcOptions.offerCandidates: libdatachannel's race).
 */
export async function nodeRtcOptions(extra: Partial<RtcOptions> = {}): Promise<RtcOptions> {
  return { offerCandidates: false, ...extra, peerConnection: extra.peerConnection ?? (await nodePeerConnection()) }
}
