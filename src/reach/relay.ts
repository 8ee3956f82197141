// Relay circuits: an always-on device joins two devices that cannot reach
// each other, byte for byte. Each end opens a TLS connection to the relay
// under RELAY_ALPN and proves who it is for this connection (the same proof
// as dj_auth, bound to this TLS session); the relay then pipes the two
// sockets, and the ends run their own link (TLS 1.3 and dj_auth) inside: the
// relay carries ciphertext only and could not pass for either end
// (docs/reach.md, "Relays").
import { randomBytes } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { asBytes, asString } from '../codec/index.ts'
import { channelBinding, dialLink } from '../link/index.ts'
import { readFrame, writeFrame } from './frame.ts'

export const RELAY_ALPN = 'djcloud-relay/1'
/** ms the relay waits for the called device to come and accept a circuit. */
export const RELAY_ACCEPT_TIMEOUT = 10_000
const FRAME_TIMEOUT = 5_000

export class RelayError extends Error {
  override name = 'RelayError'
  constructor(readonly reason: string) {
    super(reason)
  }
}

/** Who asked, as the relay's owner verified it (opaque to this module). */
export interface RelayPeer {
  device: string
  /** Owner key hex: friends' quotas are counted per owner. */
  owner: string
  own: boolean
}

export interface RelayServerOptions {
  /** Checks a proof bound to this TLS session for `purpose`; throws with a one-line reason. */
  verify: (proof: Uint8Array, binding: Uint8Array, purpose: Uint8Array) => RelayPeer
  /** Why `from` may not reach device `to` through this relay, or null when it may. */
  refuse: (from: RelayPeer, to: string) => string | null
  /** Asks device `to` (over its link with this device) to accept circuit `token`; rejects with a reason. */
  call: (to: string, token: string, from: RelayPeer) => Promise<void>
  /** Bytes a circuit for `from` may still carry (friends' quota); Infinity for own devices. */
  allowance: (from: RelayPeer) => number
  /** What a circuit carried for `from`, as it passes (counted against quotas; all the relay ever sees is the ends' ciphertext). */
  carried?: (from: RelayPeer, chunk: Buffer) => void
  acceptTimeoutMs?: number
}

export interface RelayStats {
  circuits: number
  open: number
  bytes: number
  refused: number
}

interface Pending {
  from: RelayPeer
  to: string
  socket: TLSSocket
  join: (other: TLSSocket) => void
}

/** The relay side: handles every RELAY_ALPN socket its link server hands over. */
export class RelayServer {
  readonly stats: RelayStats = { circuits: 0, open: 0, bytes: 0, refused: 0 }
  private readonly pending = new Map<string, Pending>()
  private readonly sockets = new Set<TLSSocket>()
  private closed = false

  constructor(private readonly opts: RelayServerOptions) {}

  handle(sock: TLSSocket): void {
    sock.on('error', () => {})
    if (this.closed) return void sock.destroy()
    this.sockets.add(sock)
    sock.once('close', () => this.sockets.delete(sock))
    this.serve(sock).catch((err: Error) => {
      this.stats.refused++
      if (!sock.destroyed) {
        writeFrame(sock, { err: (err as RelayError).reason ?? err.message })
        sock.end()
      }
    })
  }

  private async serve(sock: TLSSocket): Promise<void> {
    const binding = channelBinding(sock)
    const req = await readFrame(sock, FRAME_TIMEOUT)
    const kind = asString(req.k, 'k', 8)
    if (kind === 'open') {
      const to = asString(req.to, 'to', 64)
      const from = this.opts.verify(asBytes(req.a, 'a'), binding, Buffer.from(to, 'hex'))
      const refusal = this.opts.refuse(from, to)
      if (refusal) throw new RelayError(refusal)
      const token = randomBytes(16).toString('hex')
      const acceptMs = this.opts.acceptTimeoutMs ?? RELAY_ACCEPT_TIMEOUT
      const other = await new Promise<TLSSocket>((resolve, reject) => {
        const fail = (err: Error) => {
          clearTimeout(timer)
          this.pending.delete(token)
          reject(err)
        }
        const timer = setTimeout(() => fail(new RelayError(`the device did not come to the relay within ${acceptMs} ms`)), acceptMs)
        timer.unref()
        sock.once('close', () => fail(new RelayError('the caller left')))
        this.pending.set(token, { from, to, socket: sock, join: (s) => (clearTimeout(timer), resolve(s)) })
        // The called device answers once it joined: its answer is not waited for, its failure is.
        this.opts.call(to, token, from).catch((err: Error) => fail(new RelayError(`the device could not be asked: ${err.message}`)))
      })
      this.pipe(from, sock, other)
    } else if (kind === 'accept') {
      const token = Buffer.from(asBytes(req.t, 't', 16)).toString('hex')
      const p = this.pending.get(token)
      if (!p) throw new RelayError('no such circuit')
      const who = this.opts.verify(asBytes(req.a, 'a'), binding, Buffer.from(token, 'hex'))
      if (who.device !== p.to) throw new RelayError('this circuit is for another device')
      this.pending.delete(token)
      p.join(sock)
    } else throw new RelayError(`unknown request ${kind}`)
  }

  /** Joins the two ends; each learns it is joined by an `ok` frame, and bytes flow as the slower side takes them. */
  private pipe(from: RelayPeer, a: TLSSocket, b: TLSSocket): void {
    this.stats.circuits++
    this.stats.open++
    let left = this.opts.allowance(from)
    const count = (d: Buffer) => {
      this.stats.bytes += d.length
      this.opts.carried?.(from, d)
      left -= d.length
      if (left < 0) (a.destroy(), b.destroy())
    }
    a.on('data', count)
    b.on('data', count)
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      this.stats.open--
      a.destroy()
      b.destroy()
    }
    a.once('close', end)
    b.once('close', end)
    writeFrame(a, { ok: 1 })
    writeFrame(b, { ok: 1 })
    a.pipe(b)
    b.pipe(a)
    a.resume()
    b.resume()
  }

  close(): void {
    this.closed = true
    for (const s of this.sockets) s.destroy()
    this.pending.clear()
  }
}

/** How an end proves itself to the relay: a proof bound to `binding` for `purpose`. */
export type RelayProver = (binding: Uint8Array, purpose: Uint8Array) => Uint8Array

/**
 * Opens a circuit to device `to` through the relay at host:port; resolves
 * with the socket to run the inner link over once the other end joined.
 */
export async function openCircuit(host: string, port: number, to: string, prove: RelayProver, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TLSSocket> {
  return circuit(host, port, (b) => ({ k: 'open', to, a: prove(b, Buffer.from(to, 'hex')) }), (opts.timeoutMs ?? RELAY_ACCEPT_TIMEOUT) + FRAME_TIMEOUT, opts.signal)
}

/** Joins circuit `token` at the relay that called this device. */
export async function acceptCircuit(host: string, port: number, token: string, prove: RelayProver, opts: { signal?: AbortSignal } = {}): Promise<TLSSocket> {
  const t = Buffer.from(token, 'hex')
  return circuit(host, port, (b) => ({ k: 'accept', t, a: prove(b, t) }), FRAME_TIMEOUT, opts.signal)
}

async function circuit(host: string, port: number, request: (binding: Uint8Array) => Record<string, string | Uint8Array>, timeoutMs: number, signal?: AbortSignal): Promise<TLSSocket> {
  const sock = await dialLink(host, port, { alpn: RELAY_ALPN, signal })
  try {
    writeFrame(sock, request(channelBinding(sock)))
    const answer = await readFrame(sock, timeoutMs)
    if (answer.ok === undefined) throw new RelayError(`relay ${host}:${port} refused: ${answer.err instanceof Uint8Array ? Buffer.from(answer.err).toString().slice(0, 200) : 'no reason'}`)
    return sock
  } catch (err) {
    sock.destroy()
    throw err instanceof RelayError ? err : new RelayError(`relay ${host}:${port}: ${(err as Error).message}`)
  }
}
