// WebRTC links between own devices (docs/rtc.md): this device keeps a signed
// WebSocket announce open to each of its circle's trackers on the device
// channel infohash, answers the WebRTC offers the tracker forwards from
// admitted devices, and (when asked) offers itself. Each connection that
// opens goes to the swarm (Swarm.addRtc), where dj_auth on every stream
// decides who is at the other end, as on any link. The tracker's TLS key is
// pinned by the roster before a byte is sent, as for HTTPS announces.
import WebSocket from 'ws'
import { randomBytes } from 'node:crypto'
import { acceptOffer, createOffer, MAX_OFFERS, TrackerSignal, type IncomingOffer, type RtcOptions, type WebSocketLike } from '../rtc/index.ts'
import { nodeRtcOptions } from '../rtc-node.ts'
import type { Roster } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import { pinnedConnection, signedAnnounceParams, type AnnounceSigner } from './announce.ts'
import type { DeviceLink } from './device-channel.ts'
import type { Swarm } from './swarm.ts'

/** ms to open a tracker's WebSocket (TLS, key check and upgrade). */
export const SIGNAL_CONNECT_TIMEOUT = 10_000
/** Offers being answered at once: each holds a PeerConnection until it opens or times out. */
export const MAX_PENDING_ANSWERS = 16

export interface WebRtcLinksOptions {
  swarm: Swarm
  signer: AnnounceSigner
  roster: () => Roster
  /** The circle's trackers (https:// or wss:// URLs of the admission tracker; its WebSocket is on the same port). */
  trackers: () => string[]
  /** This device's key (hex): sent with offers as a hint, so a device does not answer itself. */
  self: string
  /** PeerConnection factory and timings (default: webrtc-polyfill, production timings). */
  rtc?: Partial<RtcOptions>
  /** ms between keep-alive announces (default: the tracker's interval). */
  reannounceMs?: number
  /** ms an offer waits for its answer (default ANSWER_TIMEOUT). */
  answerTimeoutMs?: number
  log: Logger
  onWarning?: (err: Error) => void
}

/** wss://host:port of a tracker URL (https:// or wss://, any path). */
export function websocketUrl(tracker: string): string | null {
  try {
    const u = new URL(tracker)
    if (u.protocol !== 'https:' && u.protocol !== 'wss:') return null
    return `wss://${u.host}`
  } catch {
    return null
  }
}

/**
 * A WebSocket to a tracker (`wss://host:port`) over a TLS connection whose
 * key was checked against the roster first (as for HTTPS announces): no byte
 * goes to a tracker that is not a device of the circle. The signal relay
 * (src/node/signal-relay.ts) opens the same for a browser device.
 */
export async function trackerWebSocket(url: string, roster: Roster, timeoutMs = SIGNAL_CONNECT_TIMEOUT): Promise<WebSocket> {
  const signal = AbortSignal.timeout(timeoutMs)
  const tls = await pinnedConnection(new URL(url), roster, signal)
  const ws = new WebSocket(url, { createConnection: () => tls, maxPayload: 64 * 1024 })
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => (ws.terminate(), reject(new Error(`tracker ${url}: the WebSocket did not open in time`)))
    signal.addEventListener('abort', onAbort, { once: true })
    ws.once('open', () => (signal.removeEventListener('abort', onAbort), resolve()))
    ws.once('error', (err) => (signal.removeEventListener('abort', onAbort), reject(err)))
  })
  return ws
}

export class WebRtcLinks {
  private readonly signals = new Map<string, TrackerSignal>()
  /** Trackers being joined now (a round started while another still connects must not join twice). */
  private readonly joining = new Set<string>()
  private pending = 0
  /** Offers the trackers forwarded here, answered or not. */
  offersSeen = 0
  private closed = false
  /** The trackers' WebSockets open now (terminated on close). */
  private readonly sockets = new Set<WebSocket>()
  private rtc: Promise<RtcOptions> | undefined

  constructor(private readonly opts: WebRtcLinksOptions) {}

  /** Opens a signed WebSocket announce to every tracker not open yet; resolves once each is open or failed. */
  async start(): Promise<void> {
    const urls = [...new Set(this.opts.trackers().map(websocketUrl).filter((u): u is string => u !== null))]
    await Promise.all(
      urls
        .filter((u) => !this.signals.has(u) && !this.joining.has(u))
        .map((u) => {
          this.joining.add(u)
          return this.join(u)
            .catch((err: Error) => this.warn(err))
            .finally(() => this.joining.delete(u))
        }),
    )
  }

  /** Trackers whose WebSocket is open. */
  get joined(): number {
    return this.signals.size
  }

  /**
   * Offers a WebRTC link to up to `count` (at most MAX_OFFERS) devices of
   * each tracker's swarm (the tracker picks them); resolves with the device
   * links that came up.
   */
  async offer(count = 1): Promise<DeviceLink[]> {
    count = Math.max(0, Math.min(count, MAX_OFFERS))
    const rtc = await this.options()
    const links: Array<Promise<DeviceLink | null>> = []
    for (const signal of this.signals.values()) {
      const offers = await Promise.all(Array.from({ length: count }, () => createOffer(rtc)))
      let answers
      try {
        answers = await signal.offer(offers.map((o) => o.sdp), { device: this.opts.self, ...(this.opts.answerTimeoutMs ? { timeoutMs: this.opts.answerTimeoutMs } : {}) })
      } catch (err) {
        offers.forEach((o) => o.cancel())
        this.warn(err as Error)
        continue
      }
      answers.forEach((answer, i) => {
        const pending = offers[i]!
        links.push(
          answer
            .then(async (a) => {
              if (!a) return (pending.cancel(), null)
              const conn = await pending.accept(a.sdp)
              return await this.opts.swarm.addRtc(conn)
            })
            .catch((err: Error) => (this.opts.log('webrtc offer failed: %s', err.message), null)),
        )
      })
    }
    return (await Promise.all(links)).filter((l): l is DeviceLink => l !== null)
  }

  close(): void {
    this.closed = true
    for (const s of this.signals.values()) s.close()
    this.signals.clear()
    // The close frames are written; the sockets go now. A tracker that does not
    // answer (its device frozen, its link gone) would hold each one through ws's
    // 30 s close handshake, and the node's stop with it.
    for (const ws of this.sockets) ws.terminate()
    this.sockets.clear()
  }

  private options(): Promise<RtcOptions> {
    this.rtc ??= nodeRtcOptions(this.opts.rtc)
    return this.rtc
  }

  private async join(url: string): Promise<void> {
    const socket = await this.connect(url)
    if (this.closed) return void this.close()
    const infoHash = this.opts.swarm.channel
    const peerId = randomBytes(20)
    const signal = new TrackerSignal({
      socket,
      infoHash,
      peerId,
      prove: (event) => ({ ...signedAnnounceParams({ ...this.opts.signer, infoHash, peerId, port: 0, ...(event === 'started' ? { event } : {}) }) }),
      ...(this.opts.reannounceMs ? { reannounceMs: this.opts.reannounceMs } : {}),
    })
    signal.on('offer', (o) => void this.answer(signal, o))
    signal.on('refused', (reason) => this.warn(new Error(`tracker ${url} refused this device's WebSocket announce: ${reason}`)))
    signal.on('warning', (err) => this.warn(err))
    signal.once('close', () => this.signals.get(url) === signal && this.signals.delete(url))
    this.signals.set(url, signal)
    try {
      await signal.start()
    } catch (err) {
      signal.close()
      throw err
    }
  }

  private async connect(url: string): Promise<WebSocketLike> {
    const ws = await trackerWebSocket(url, this.opts.roster())
    ws.on('error', (err) => this.opts.log('tracker %s websocket: %s', url, err.message))
    this.sockets.add(ws)
    ws.once('close', () => this.sockets.delete(ws))
    return ws as unknown as WebSocketLike
  }

  /** An offer the tracker forwarded: answer it, and hand the connection to the swarm once open. */
  private async answer(signal: TrackerSignal, o: IncomingOffer): Promise<void> {
    this.offersSeen++
    if (this.closed || o.device === this.opts.self) return
    if (this.pending >= MAX_PENDING_ANSWERS) return this.opts.log('webrtc offer dropped: %d being answered', this.pending)
    this.pending++
    try {
      const { sdp, connection } = await acceptOffer(o.sdp, await this.options())
      await signal.answer(o, sdp)
      await this.opts.swarm.addRtc(await connection)
    } catch (err) {
      this.opts.log('webrtc answer failed: %s', (err as Error).message)
    } finally {
      this.pending--
    }
  }

  private warn(err: Error): void {
    this.opts.log('webrtc: %s', err.message)
    this.opts.onWarning?.(err)
  }
}
