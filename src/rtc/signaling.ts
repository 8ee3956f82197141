// WebRTC signaling through the circle's admission tracker: bittorrent-
// tracker's WebSocket protocol, every message an announce carrying the
// tracker's proof (docs/tracker.md: signed for port 0, on the device channel
// infohash). The tracker admits only the circle's devices (and friends'),
// forwards each offer to one admitted peer of the swarm it picks, and each
// answer to the peer it names (`to_peer_id`). Nothing here trusts a message
// for who sent it: the link's dj_auth decides that. Portable: the WebSocket
// and the proof are given, no node: modules.
import { Emitter } from './emitter.ts'
import { RtcError } from './errors.ts'
import type { WebSocketLike } from './types.ts'

/** ms between announces that keep this device in the tracker's swarm, when the tracker names none. */
export const REANNOUNCE_INTERVAL = 120_000
/** ms an offer waits for its answer. */
export const ANSWER_TIMEOUT = 10_000
/** Offers in one announce at most (bittorrent-tracker forwards up to 10). */
export const MAX_OFFERS = 10
/** Characters of an SDP taken from the tracker; longer ones are dropped (a description with every candidate is ~1-3 KB). */
const MAX_SDP = 16 * 1024

/** The announce's proof fields (dj_cert, dj_ts, dj_nonce, dj_sig) for this event, signed for port 0. */
export type AnnounceProver = (event: string) => Record<string, string> | Promise<Record<string, string>>

export interface SignalOptions {
  /** The tracker's WebSocket, open. */
  socket: WebSocketLike
  /** The swarm to meet in: the device channel's infohash (20 bytes). */
  infoHash: Uint8Array
  /** This device's peer id in that swarm (20 bytes). */
  peerId: Uint8Array
  prove: AnnounceProver
  reannounceMs?: number
}

export interface IncomingOffer {
  sdp: string
  offerId: string
  /** The tracker peer id of the offering device (binary string, as the tracker sends it): where the answer goes. */
  from: string
  /** The device key (hex) the offer says it comes from: a hint only (dj_auth decides). */
  device?: string
}

interface SignalEvents {
  offer: [offer: IncomingOffer]
  /** The tracker refused an announce (its reason), and closes the socket. */
  refused: [reason: string]
  close: []
  warning: [err: Error]
  /** The tracker answered an announce of ours (its interval): this device is in the swarm. */
  joined: []
}

/** Bytes as the binary string bittorrent-tracker's JSON carries them. */
export const binaryString = (b: Uint8Array): string => String.fromCharCode(...b)

export class TrackerSignal extends Emitter<SignalEvents> {
  closed = false
  private readonly waits = new Map<string, { resolve: (sdp: string) => void; reject: (err: Error) => void }>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly infoHash: string
  private readonly peerId: string
  private started = false
  /**
   * Other peers in the swarm as the tracker last counted them (its answer to
   * an announce of ours: complete + incomplete, this device included), or
   * undefined before its first answer. Offers go to peers it picks among
   * these at random.
   */
  others: number | undefined

  constructor(private readonly opts: SignalOptions) {
    super()
    this.infoHash = binaryString(opts.infoHash)
    this.peerId = binaryString(opts.peerId)
    opts.socket.addEventListener('message', this.onMessage)
    opts.socket.addEventListener('close', this.onClose)
  }

  /**
   * Joins the swarm (event `started`) and keeps announcing, so offers reach
   * this device; resolves once the tracker answered that announce (from then
   * on offers are forwarded here), rejects with its refusal.
   */
  async start(timeoutMs = ANSWER_TIMEOUT): Promise<void> {
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new RtcError('ERR_SIGNAL_CLOSED', `the tracker did not answer within ${timeoutMs} ms`)), timeoutMs)
      const finish = (err?: Error) => {
        clearTimeout(timer)
        this.off('joined', onJoined)
        this.off('refused', onRefused)
        this.off('close', onClose)
        if (err) reject(err)
        else resolve()
      }
      const onJoined = () => finish()
      const onRefused = (reason: string) => finish(new RtcError('ERR_SIGNAL_REFUSED', `the tracker refused: ${reason}`))
      const onClose = () => finish(new RtcError('ERR_SIGNAL_CLOSED', 'the tracker closed the WebSocket'))
      this.on('joined', onJoined)
      this.on('refused', onRefused)
      this.on('close', onClose)
    })
    await this.announce({ event: 'started' })
    this.started = true
    await acked
  }

  /**
   * Sends offers to up to `sdps.length` admitted peers of the swarm (the
   * tracker picks them); resolves with each answer's SDP and its peer id as
   * they come, null for offers nobody answered within `timeoutMs`.
   */
  async offer(sdps: string[], opts: { device?: string; timeoutMs?: number } = {}): Promise<Array<Promise<{ sdp: string } | null>>> {
    const batch = sdps.slice(0, MAX_OFFERS).map((sdp) => ({ sdp, id: randomId() }))
    const answers = batch.map(({ id }) => this.waitAnswer(id, opts.timeoutMs ?? ANSWER_TIMEOUT))
    await this.announce({
      ...(this.started ? {} : { event: 'started' }),
      numwant: batch.length,
      offers: batch.map(({ sdp, id }) => ({ offer: { type: 'offer', sdp, ...(opts.device ? { device: opts.device } : {}) }, offer_id: id })),
    })
    this.started = true
    return answers
  }

  /**
   * Announces without offers and resolves with the tracker's fresh count of
   * the other peers (`others`), or undefined when it does not answer within
   * `timeoutMs`: a plain announce is one message, an offer a connection.
   */
  async recount(timeoutMs = ANSWER_TIMEOUT): Promise<number | undefined> {
    const counted = new Promise<number | undefined>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.off('joined', done)
        resolve(this.others)
      }
      const timer = setTimeout(() => {
        this.off('joined', done)
        resolve(undefined)
      }, timeoutMs)
      this.on('joined', done)
    })
    await this.announce({})
    return counted
  }

  /** Answers an offer: the tracker passes it to the peer that offered. */
  async answer(to: IncomingOffer, sdp: string): Promise<void> {
    await this.announce({ to_peer_id: to.from, offer_id: to.offerId, answer: { type: 'answer', sdp } })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    this.opts.socket.removeEventListener('message', this.onMessage)
    this.opts.socket.removeEventListener('close', this.onClose)
    for (const w of this.waits.values()) w.reject(new RtcError('ERR_SIGNAL_CLOSED', 'signaling closed'))
    this.waits.clear()
    try {
      this.opts.socket.close(1000)
    } catch {
      // closed already
    }
    this.emit('close')
  }

  private waitAnswer(id: string, ms: number): Promise<{ sdp: string } | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(id)
        resolve(null)
      }, ms)
      ;(timer as { unref?: () => void }).unref?.()
      this.waits.set(id, {
        resolve: (sdp) => (clearTimeout(timer), this.waits.delete(id), resolve({ sdp })),
        reject: () => (clearTimeout(timer), resolve(null)),
      })
    })
  }

  private async announce(fields: Record<string, unknown>): Promise<void> {
    if (this.closed || this.opts.socket.readyState !== 1) throw new RtcError('ERR_SIGNAL_CLOSED', 'the tracker WebSocket is not open')
    const event = typeof fields.event === 'string' ? fields.event : ''
    const proof = await this.opts.prove(event)
    this.opts.socket.send(JSON.stringify({ action: 'announce', info_hash: this.infoHash, peer_id: this.peerId, numwant: 0, ...fields, ...proof }))
    this.schedule()
  }

  /** The next keep-alive announce, with no event (the tracker takes it as `update`); each announce, an offer too, moves it. */
  private schedule(ms = this.opts.reannounceMs ?? REANNOUNCE_INTERVAL): void {
    clearTimeout(this.timer)
    if (this.closed) return
    this.timer = setTimeout(() => void this.announce({}).catch((err: Error) => this.emit('warning', err)), ms)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private readonly onClose = () => {
    if (this.closed) return
    this.close()
  }

  private readonly onMessage = (ev: { data: unknown }) => {
    let m: Record<string, unknown>
    try {
      const v = JSON.parse(typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data as Uint8Array)) as unknown
      if (!v || typeof v !== 'object') throw new Error('not an object')
      m = v as Record<string, unknown>
    } catch {
      return this.emit('warning', new RtcError('ERR_PROTOCOL', 'the tracker sent something other than JSON'))
    }
    if (typeof m['failure reason'] === 'string') {
      this.emit('refused', m['failure reason'])
      return
    }
    if (m.info_hash !== this.infoHash) return
    if (typeof m.interval === 'number' && m.interval > 0) {
      if (this.opts.reannounceMs === undefined) this.schedule(m.interval * 1000)
      const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined)
      const [complete, incomplete] = [count(m.complete), count(m.incomplete)]
      if (complete !== undefined && incomplete !== undefined) this.others = Math.max(0, complete + incomplete - 1)
      this.emit('joined')
    }
    const offerId = typeof m.offer_id === 'string' && m.offer_id.length <= 64 ? m.offer_id : undefined
    const sdpOf = (d: unknown, type: string): string | undefined => {
      if (!d || typeof d !== 'object') return undefined
      const o = d as Record<string, unknown>
      return o.type === type && typeof o.sdp === 'string' && o.sdp.length <= MAX_SDP ? o.sdp : undefined
    }
    if (m.answer !== undefined && offerId) {
      const sdp = sdpOf(m.answer, 'answer')
      if (sdp) this.waits.get(offerId)?.resolve(sdp)
      return
    }
    if (m.offer !== undefined && offerId && typeof m.peer_id === 'string' && m.peer_id.length === 20) {
      const sdp = sdpOf(m.offer, 'offer')
      if (!sdp) return
      const device = (m.offer as Record<string, unknown>).device
      this.emit('offer', { sdp, offerId, from: m.peer_id, ...(typeof device === 'string' && /^[0-9a-f]{64}$/.test(device) ? { device } : {}) })
    }
  }
}

function randomId(): string {
  const b = new Uint8Array(16)
  globalThis.crypto.getRandomValues(b)
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
