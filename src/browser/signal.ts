// The page's signaling: a WebSocket to the node that served it
// (`/api/signal`), which carries it to the circle's tracker over the node's
// own pinned TLS connection (docs/rtc.md, "A browser's signaling through
// its node"). The page sends its API token first; once the node says the
// tracker is open, the socket is the tracker's, and every announce on it is
// signed here by the browser device's key (the node reads none of them).
import { RtcError, TrackerSignal, type WebSocketLike } from '../rtc/index.ts'
import { announceSigningBytes, ANNOUNCE_NONCE_BYTES, type DeviceSigner } from '../swarm/browser.ts'

export const SIGNAL_PATH = '/api/signal'
/** ms for the node to open the tracker's WebSocket. */
export const RELAY_OPEN_TIMEOUT = 15_000

const base64url = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/** The four dj_* proof fields of one announce, signed by the device (port 0: WebSocket announces). */
export async function announceProof(o: { signer: DeviceSigner; certificate: Uint8Array; infoHash: Uint8Array; peerId: Uint8Array; event: string }): Promise<Record<string, string>> {
  const ts = Date.now()
  const nonce = crypto.getRandomValues(new Uint8Array(ANNOUNCE_NONCE_BYTES))
  const sig = await o.signer.sign(announceSigningBytes({ infoHash: o.infoHash, peerId: o.peerId, port: 0, event: o.event, ts, nonce }))
  return { dj_cert: base64url(o.certificate), dj_ts: String(ts), dj_nonce: hex(nonce), dj_sig: base64url(sig) }
}

/** ws(s)://host/api/signal of a node's http(s) origin. */
export function signalUrl(node: string): string {
  const u = new URL(SIGNAL_PATH, node)
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
  return u.href
}

/**
 * Opens the relay and waits for the node to open the tracker's WebSocket;
 * rejects with the node's refusal (ERR_SIGNAL_REFUSED: a revoked device's
 * token, a tracker not of the circle) or ERR_SIGNAL_CLOSED.
 */
export async function openRelay(node: string, token: string, opts: { tracker?: string; timeoutMs?: number } = {}): Promise<WebSocket> {
  const ws = new WebSocket(signalUrl(node))
  ws.binaryType = 'arraybuffer'
  return new Promise<WebSocket>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer)
      ws.removeEventListener('open', onOpen)
      ws.removeEventListener('message', onMessage)
      ws.removeEventListener('close', onClose)
      if (!err) return resolve(ws)
      ws.close()
      reject(err)
    }
    const timer = setTimeout(() => done(new RtcError('ERR_SIGNAL_CLOSED', 'the node did not open the tracker in time')), opts.timeoutMs ?? RELAY_OPEN_TIMEOUT)
    const onOpen = () => ws.send(JSON.stringify({ token, ...(opts.tracker ? { tracker: opts.tracker } : {}) }))
    const onMessage = (ev: MessageEvent) => {
      let m: Record<string, unknown> = {}
      try {
        m = JSON.parse(String(ev.data)) as Record<string, unknown>
      } catch {
        // not JSON: refused below
      }
      if (m.relay === 'open') return done()
      done(new RtcError('ERR_SIGNAL_REFUSED', `the node refused signaling: ${typeof m['failure reason'] === 'string' ? m['failure reason'] : 'an unexpected answer'}`))
    }
    const onClose = (ev: CloseEvent) => done(new RtcError(ev.code === 4401 || ev.code === 4403 ? 'ERR_SIGNAL_REFUSED' : 'ERR_SIGNAL_CLOSED', `the node closed the signaling WebSocket (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`))
    ws.addEventListener('open', onOpen)
    ws.addEventListener('message', onMessage)
    ws.addEventListener('close', onClose)
  })
}

export interface PageSignalOptions {
  node: string
  token: string
  signer: DeviceSigner
  certificate: Uint8Array
  infoHash: Uint8Array
  tracker?: string
  reannounceMs?: number
}

/** Joins the device channel's swarm at the tracker through the node: resolves once the tracker admitted the announce. */
export async function pageSignal(o: PageSignalOptions): Promise<TrackerSignal> {
  const socket = await openRelay(o.node, o.token, o.tracker ? { tracker: o.tracker } : {})
  const peerId = crypto.getRandomValues(new Uint8Array(20))
  const signal = new TrackerSignal({
    socket: socket as unknown as WebSocketLike,
    infoHash: o.infoHash,
    peerId,
    prove: (event) => announceProof({ signer: o.signer, certificate: o.certificate, infoHash: o.infoHash, peerId, event }),
    ...(o.reannounceMs ? { reannounceMs: o.reannounceMs } : {}),
  })
  try {
    await signal.start()
  } catch (err) {
    signal.close()
    throw err
  }
  return signal
}
