// The browser device's way to its circle's tracker (docs/rtc.md, "A
// browser's signaling through its node"; decisions/browser-signal-relay.md).
// A page cannot pin the tracker's TLS key (its certificate is a device key,
// not a CA's), so the node that served the page carries the page's
// signaling WebSocket: the page opens `/api/signal` on the node's API
// origin, sends its token in its first message, and the node opens its own
// pinned TLS WebSocket to a tracker of the circle and forwards frames both
// ways, unread and unsigned by it: the announces stay signed by the browser
// device's key, and the tracker admits or refuses them as any device's.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import WebSocket, { WebSocketServer } from 'ws'
import type { Roster } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import type { UpgradeRoute } from '../player/index.ts'
import { trackerWebSocket, websocketUrl } from '../swarm/index.ts'

export const SIGNAL_PATH = '/api/signal'
/** ms a page has to send its token after the WebSocket opened. */
export const SIGNAL_AUTH_WITHIN = 5_000
/** Bytes of one frame either way (an announce with ten offers is ~30 KB). */
export const SIGNAL_MAX_FRAME = 64 * 1024
/** Relays open at once, in all and per device. */
export const MAX_RELAYS = 64
export const MAX_RELAYS_PER_DEVICE = 4

/** Who a token is: the node's own token, a paired browser device's (hex key), or nobody. */
export type SignalCredential = { kind: 'token' } | { kind: 'device'; device: string } | null

export interface SignalRelayOptions {
  credential(token: string): SignalCredential
  /** Whether a device (hex key) may still use its token (not revoked): checked on every frame from the page. */
  allowed(device: string): boolean
  roster(): Roster
  /** The circle's trackers (https:// or wss:// URLs). */
  trackers(): string[]
  log: Logger
  authWithinMs?: number
}

/** Sent to the page once the tracker's WebSocket is open (the tracker's own messages follow). */
export interface RelayOpen {
  relay: 'open'
  tracker: string
}

export class SignalRelay {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: SIGNAL_MAX_FRAME })
  private readonly open = new Map<WebSocket, string>()
  private closed = false

  constructor(private readonly opts: SignalRelayOptions) {}

  route(): UpgradeRoute {
    return {
      path: SIGNAL_PATH,
      handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (this.closed) return void socket.destroy()
        this.wss.handleUpgrade(req, socket, head, (ws) => this.take(ws))
      },
    }
  }

  /** Relays open now. */
  get size(): number {
    return this.open.size
  }

  close(): void {
    this.closed = true
    for (const ws of this.open.keys()) ws.terminate()
    for (const ws of this.wss.clients) ws.terminate()
    this.wss.close()
  }

  private take(page: WebSocket): void {
    page.on('error', () => {})
    const refuse = (reason: string, code = 4403) => {
      this.opts.log('signal relay refused: %s', reason)
      if (page.readyState === WebSocket.OPEN) page.send(JSON.stringify({ 'failure reason': reason }))
      page.close(code, reason.slice(0, 120))
    }
    const timer = setTimeout(() => refuse('no token came', 4401), this.opts.authWithinMs ?? SIGNAL_AUTH_WITHIN)
    timer.unref()
    page.once('close', () => clearTimeout(timer))
    page.once('message', (data, isBinary) => {
      clearTimeout(timer)
      let hello: { token?: unknown; tracker?: unknown }
      try {
        hello = isBinary ? {} : (JSON.parse(data.toString()) as typeof hello)
      } catch {
        hello = {}
      }
      const cred = typeof hello.token === 'string' ? this.opts.credential(hello.token) : null
      if (!cred) return refuse('this token is not accepted here', 4401)
      const who = cred.kind === 'device' ? cred.device : 'owner'
      if (this.open.size >= MAX_RELAYS || [...this.open.values()].filter((d) => d === who).length >= MAX_RELAYS_PER_DEVICE) return refuse('too many signaling relays open', 4429)
      const known = [...new Set(this.opts.trackers().map(websocketUrl).filter((u): u is string => u !== null))]
      const wanted = typeof hello.tracker === 'string' ? websocketUrl(hello.tracker) : known[0]
      // Only the circle's own trackers: the relay is no way to reach any other host.
      if (!wanted || !known.includes(wanted)) return refuse('that is not a tracker of this circle')
      this.open.set(page, who)
      page.once('close', () => this.open.delete(page))
      void this.connect(page, wanted, cred)
    })
  }

  private async connect(page: WebSocket, url: string, cred: NonNullable<SignalCredential>): Promise<void> {
    let tracker: WebSocket
    try {
      tracker = await trackerWebSocket(url, this.opts.roster())
    } catch (err) {
      this.opts.log('signal relay: tracker %s: %s', url, (err as Error).message)
      if (page.readyState === WebSocket.OPEN) page.send(JSON.stringify({ 'failure reason': 'the tracker cannot be reached' }))
      return void page.close(1011)
    }
    if (page.readyState !== WebSocket.OPEN) return void tracker.terminate()
    tracker.on('error', () => {})
    const stillAllowed = () => cred.kind !== 'device' || this.opts.allowed(cred.device)
    // Frames pass as text, unread: the tracker checks each announce's proof.
    page.on('message', (data, isBinary) => {
      if (isBinary) return page.close(1003, 'text frames only')
      if (!stillAllowed()) return page.close(4403, 'this device was revoked')
      if (tracker.readyState === WebSocket.OPEN) tracker.send(data.toString())
    })
    tracker.on('message', (data) => page.readyState === WebSocket.OPEN && page.send(data.toString()))
    page.once('close', () => tracker.close())
    tracker.once('close', () => page.close(1000))
    page.send(JSON.stringify({ relay: 'open', tracker: url } satisfies RelayOpen))
  }
}
