// The Node-only half of src/rtc (a module of its own, so src/rtc/index.ts
// stays portable for the browser): a mux stream as a node:stream Duplex (the
// swarm's Wire reads and writes sockets), and PeerConnections from
// webrtc-polyfill over node-datachannel, loaded on first use (a native
// module of ~10 MB: processes that never link over WebRTC do not load it).
// A browser uses its own RTCPeerConnection and does not import this file.
import { Duplex } from 'node:stream'
import type { MuxStream, PeerConnectionFactory, PeerConnectionLike, RtcOptions } from './rtc/index.ts'

/** A mux stream as a Duplex: writes finish once handed to the data channel (its backpressure), reads are the stream's data. */
export function streamDuplex(stream: MuxStream): Duplex {
  const d = new Duplex({
    allowHalfOpen: false,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      stream.write(chunk, (err) => cb(err ?? null))
    },
    final(cb) {
      stream.end()
      cb()
    },
    destroy(err, cb) {
      stream.destroy()
      cb(err)
    },
  })
  stream.on('data', (chunk) => d.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
  stream.once('close', (err) => {
    d.push(null)
    if (err) d.destroy(err)
    else if (!d.destroyed) d.destroy()
  })
  return d
}

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
