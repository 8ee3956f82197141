// One WebRTC link to another device: a PeerConnection and its single data
// channel (label `djcloud`, ordered, reliable, binary as ArrayBuffer), with a
// Mux on it. Signaling is not trickled: each description is sent once it
// holds every candidate. Gathering is over when `iceGatheringState` is
// `complete`: node-datachannel (through webrtc-polyfill) never dispatches
// the null `icecandidate` that ends it in browsers, and waiting for that event
// cost ~10 s per link (measured here: simple-peer waits 5 s on each side); `gatherTimeoutMs` caps the
// wait (a STUN server that never answers), and what was gathered by then goes.
import { Emitter } from './emitter.ts'
import { rtcBinding, sdpFingerprint } from './binding.ts'
import { RtcError } from './errors.ts'
import { Mux, type MuxOptions } from './mux.ts'
import type { DataChannelLike, PeerConnectionFactory, PeerConnectionLike } from './types.ts'

export const DATA_CHANNEL_LABEL = 'djcloud'
/** ms the ICE candidates may take to gather before the description goes with those found. */
export const GATHER_TIMEOUT = 2_000
/** ms from the remote description to the data channel open (ICE checks and the DTLS handshake). */
export const OPEN_TIMEOUT = 15_000

export interface RtcOptions {
  /** Makes a PeerConnection: the browser's `new RTCPeerConnection(config)`, or webrtc-polyfill's in Node. */
  peerConnection: PeerConnectionFactory
  /** STUN/TURN servers (default none: host candidates only, nothing leaves for a third party). */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>
  gatherTimeoutMs?: number
  openTimeoutMs?: number
  /**
   * Whether an offer carries this side's candidates (default yes). Node
   * devices (node-datachannel) send none: when the answering side's ICE
   * checks reach libdatachannel before the answer does, applying the answer
   * closes its PeerConnection ("Got a remote candidate without ICE
   * transport", about 1 link in 3 through the tracker here). Without them
   * the answering side waits for this side's checks, and learns its address
   * from them (a peer-reflexive candidate).
   */
  offerCandidates?: boolean
  /** The multiplexer's water marks (tests). */
  mux?: Omit<MuxOptions, 'role'>
}

interface ConnectionEvents {
  close: [err?: Error]
}

/** An open WebRTC link: its Mux, and the binding of each of its streams. */
export class RtcConnection extends Emitter<ConnectionEvents> {
  readonly mux: Mux
  readonly offerFingerprint: string
  readonly answerFingerprint: string
  closed = false

  constructor(
    readonly pc: PeerConnectionLike,
    readonly channel: DataChannelLike,
    readonly role: 'offerer' | 'answerer',
    /** ms from the first description made to the data channel open. */
    readonly setupMs: number,
    opts: RtcOptions,
  ) {
    super()
    // The descriptions applied on this side: ours as local, theirs as remote.
    const local = pc.localDescription?.sdp ?? ''
    const remote = pc.remoteDescription?.sdp ?? ''
    this.offerFingerprint = sdpFingerprint(role === 'offerer' ? local : remote)
    this.answerFingerprint = sdpFingerprint(role === 'offerer' ? remote : local)
    this.mux = new Mux(channel, { ...opts.mux, role })
    this.mux.once('close', (err) => this.close(err))
    pc.addEventListener('connectionstatechange', this.onState)
  }

  /** dj_auth's channel binding for stream `id` (binding.ts). */
  binding(id: number): Uint8Array {
    return rtcBinding(id, this.offerFingerprint, this.answerFingerprint)
  }

  close(err?: Error): void {
    if (this.closed) return
    this.closed = true
    this.pc.removeEventListener('connectionstatechange', this.onState)
    this.mux.close(err)
    try {
      this.pc.close()
    } catch {
      // closed already
    }
    this.emit('close', err)
  }

  private readonly onState = () => {
    const s = this.pc.connectionState
    if (s === 'failed' || s === 'closed') this.close(new RtcError('ERR_CLOSED', `the WebRTC connection is ${s}`))
  }
}

/** An SDP without its candidate lines (and end-of-candidates): see RtcOptions.offerCandidates. */
function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate:.*|end-of-candidates)\r?\n/gm, '')
}

/** Resolves once the PeerConnection has gathered its candidates, or after `ms`. */
function gathered(pc: PeerConnectionLike, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve()
    const done = () => {
      clearTimeout(timer)
      pc.removeEventListener('icegatheringstatechange', onState)
      pc.removeEventListener('icecandidate', onCandidate)
      resolve()
    }
    const onState = () => pc.iceGatheringState === 'complete' && done()
    const onCandidate = (ev: { candidate: unknown }) => ev.candidate === null && done()
    const timer = setTimeout(done, ms)
    pc.addEventListener('icegatheringstatechange', onState)
    pc.addEventListener('icecandidate', onCandidate)
  })
}

/** Resolves with the channel once open; rejects when the connection fails or `ms` pass. */
function opened(pc: PeerConnectionLike, channel: Promise<DataChannelLike>, ms: number): Promise<DataChannelLike> {
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (err: Error | null, ch?: DataChannelLike) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      pc.removeEventListener('connectionstatechange', onState)
      if (err) reject(err)
      else resolve(ch!)
    }
    const onState = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') finish(new RtcError('ERR_CONNECT', `the WebRTC connection ${pc.connectionState} before its data channel opened`))
    }
    const timer = setTimeout(() => finish(new RtcError('ERR_CONNECT', `the data channel did not open within ${ms} ms`)), ms)
    pc.addEventListener('connectionstatechange', onState)
    channel.then((ch) => {
      if (ch.readyState === 'open') return finish(null, ch)
      const onOpen = () => (ch.removeEventListener('open', onOpen), finish(null, ch))
      ch.addEventListener('open', onOpen)
    })
  })
}

/** An offer made, waiting for its answer. */
export interface PendingOffer {
  /** The offer's SDP, every candidate in it. */
  sdp: string
  /** Applies the answer and resolves once the data channel is open. */
  accept(answerSdp: string): Promise<RtcConnection>
  /** Gives up (no answer came): the PeerConnection is closed. */
  cancel(): void
}

/** Makes an offer with the `djcloud` data channel; the answer goes to `accept`. */
export async function createOffer(opts: RtcOptions): Promise<PendingOffer> {
  const t0 = performance.now()
  const pc = opts.peerConnection({ iceServers: opts.iceServers ?? [] })
  try {
    const channel = pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true })
    channel.binaryType = 'arraybuffer'
    await pc.setLocalDescription(await pc.createOffer())
    await gathered(pc, opts.gatherTimeoutMs ?? GATHER_TIMEOUT)
    const sdp = pc.localDescription?.sdp
    if (!sdp) throw new RtcError('ERR_CONNECT', 'no local description was made')
    sdpFingerprint(sdp)
    let accepted = false
    return {
      sdp: opts.offerCandidates === false ? withoutCandidates(sdp) : sdp,
      accept: async (answerSdp) => {
        if (accepted) throw new RtcError('ERR_CONNECT', 'this offer was answered already')
        accepted = true
        try {
          sdpFingerprint(answerSdp)
          await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp })
          const ch = await opened(pc, Promise.resolve(channel), opts.openTimeoutMs ?? OPEN_TIMEOUT)
          return new RtcConnection(pc, ch, 'offerer', performance.now() - t0, opts)
        } catch (err) {
          pc.close()
          throw err
        }
      },
      cancel: () => {
        if (!accepted) pc.close()
        accepted = true
      },
    }
  } catch (err) {
    pc.close()
    throw err
  }
}

/** Answers an offer: resolves with the answer's SDP, and `connection` once the data channel is open. */
export async function acceptOffer(offerSdp: string, opts: RtcOptions): Promise<{ sdp: string; connection: Promise<RtcConnection> }> {
  const t0 = performance.now()
  sdpFingerprint(offerSdp)
  const pc = opts.peerConnection({ iceServers: opts.iceServers ?? [] })
  try {
    // The channel the offer carries arrives once DTLS and SCTP are up; only ours (label `djcloud`) is taken.
    const channel = new Promise<DataChannelLike>((resolve) => {
      const onChannel = (ev: { channel: DataChannelLike }) => {
        if (ev.channel.label !== DATA_CHANNEL_LABEL) return ev.channel.close()
        pc.removeEventListener('datachannel', onChannel)
        ev.channel.binaryType = 'arraybuffer'
        resolve(ev.channel)
      }
      pc.addEventListener('datachannel', onChannel)
    })
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp })
    await pc.setLocalDescription(await pc.createAnswer())
    await gathered(pc, opts.gatherTimeoutMs ?? GATHER_TIMEOUT)
    const sdp = pc.localDescription?.sdp
    if (!sdp) throw new RtcError('ERR_CONNECT', 'no local description was made')
    const connection = opened(pc, channel, opts.openTimeoutMs ?? OPEN_TIMEOUT).then(
      (ch) => new RtcConnection(pc, ch, 'answerer', performance.now() - t0, opts),
      (err: Error) => {
        pc.close()
        throw err
      },
    )
    connection.catch(() => {}) // the caller may never await it (an answer the tracker lost)
    return { sdp, connection }
  } catch (err) {
    pc.close()
    throw err
  }
}
