// The admission tracker: bittorrent-tracker 11's swarm bookkeeping behind our
// own HTTPS server (TLS 1.3 only, a self-signed certificate of the device key
// of the device running it: clients pin it by the roster), which routes
// every request itself:
//   GET /announce      signed announces (BEP 3), checked by Admission
//   GET /stats.json    counts; infohashes only with the operator's token
//   /scrape            refused (a scrape without info_hash lists every swarm)
//   WebSocket / and /announce   signed announces (WebRTC signaling)
// bittorrent-tracker runs with http, udp and stats off (no UDP: it cannot
// carry proofs; its /stats pages list clients and its scrape lists swarms)
// and its WebSocket server in noServer mode, fed by our upgrade handler.
// Plain-HTTP connections to the port (older djclouds) get a refusal they can
// show (tls-port.ts).
import { EventEmitter } from 'node:events'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import querystring from 'node:querystring'
import type { Duplex } from 'node:stream'
import Server from 'bittorrent-tracker/server'
import type { AnnounceParams, FilterCallback, ServerOptions, TrackerWebSocket } from 'bittorrent-tracker'
import { encode } from '../src/codec/index.ts'
import { checkRoster, keyPairFromSeed, type FriendRevoked, type Roster } from '../src/identity/index.ts'
import { selfSignedCertificate } from '../src/link/index.ts'
import { logger, type Logger } from '../src/log/index.ts'
import { Admission, REFUSAL_REASONS, type RefusalReason } from './admission.ts'
import { TrackerError } from './errors.ts'
import { MIN_TOKEN_CHARS } from './token.ts'
import { splitTlsFromPlain } from './tls-port.ts'

const ANNOUNCE_INTERVAL = 10 * 60_000 // ms, told to HTTP clients (WebSocket clients get a fifth)
const PEER_TTL = 25 * 60_000 // ms without an announce before a peer is dropped (> 2 intervals)
const SWEEP_INTERVAL = 60_000 // ms between sweeps of expired peers and empty swarms
const MAX_WEBSOCKETS = 10_000 // open WebSocket connections
const MAX_WS_MESSAGE = 64 * 1024 // bytes; an announce with 10 WebRTC offers is ~20 KB
const MAX_QUERY_KEYS = 64
const SCRAPE_REFUSED = 'scrape is not served'
const HANDSHAKE_TIMEOUT = 10_000 // ms for a connection's first byte, then for its TLS handshake
const DEVICE_SEED_BYTES = 32

/** The error a refused announce carries through bittorrent-tracker: its message is the failure reason. */
class AdmissionRefusal extends Error {
  override name = 'AdmissionRefusal'
  constructor(readonly reason: RefusalReason) {
    super(reason)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const digest = (s: string) => createHash('sha256').update(s).digest()

/** Sends one failure over a WebSocket and closes it (1008: policy violation). */
function refuseSocket(ws: TrackerWebSocket, reason: string): void {
  ws.send(JSON.stringify({ 'failure reason': reason }), () => {})
  ws.close(1008, 'refused')
}

/**
 * bittorrent-tracker with one override: WebSocket messages are checked before
 * the library parses them. It would answer a scrape with every swarm's
 * infohash, and a refused scrape without info_hash throws in its callback.
 */
class GatedServer extends Server {
  readonly #onMalformed: () => void

  constructor(opts: ServerOptions, onMalformed: () => void) {
    super(opts)
    this.#onMalformed = onMalformed
  }

  protected override _onWebSocketRequest(socket: TrackerWebSocket, opts: object, raw: unknown): void {
    let msg: unknown
    try {
      msg = JSON.parse(String(raw))
    } catch {
      msg = undefined
    }
    if (isObject(msg) && msg.action === 'announce' && typeof msg.info_hash === 'string' && msg.info_hash.length === 20 &&
      typeof msg.peer_id === 'string' && msg.peer_id.length === 20) {
      super._onWebSocketRequest(socket, opts, raw)
      return
    }
    if (isObject(msg) && msg.action === 'scrape') return refuseSocket(socket, SCRAPE_REFUSED)
    this.#onMalformed()
    refuseSocket(socket, 'malformed announce')
  }
}

/** Which device an admitted peer entry belongs to, so a new roster can drop it. */
interface PeerRecord {
  infoHash: string
  type: 'http' | 'ws'
  /** bittorrent-tracker's key for the peer in its swarm: `addr` (http) or hex `peer_id` (ws). */
  key: string
  peerId: string
  owner: string
  device: string
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export interface AdmissionTrackerOptions {
  /** The circle's roster: its own devices, revoked keys and friends. */
  roster: Roster
  /**
   * The Ed25519 seed of the device key of the device running the tracker:
   * its TLS certificate is made from it, and clients accept the tracker only
   * when that key is a device on their roster, not revoked.
   */
  deviceSeed: Uint8Array
  /** The operator token; /stats.json lists infohashes to `Authorization: Bearer <token>`. */
  token: string
  /** ms since the epoch; default Date.now. */
  clock?: () => number
  /** Announce interval told to clients, ms (default 10 min). */
  intervalMs?: number
  /** Nonces remembered at most (default 100,000). */
  nonceCap?: number
  /** ms a connection may take for its first byte, then for its TLS handshake (default 10 s). */
  handshakeTimeoutMs?: number
}

export interface TrackerStats {
  /** Swarms with at least one peer. */
  swarms: number
  peers: number
  refusals: Record<RefusalReason, number>
  admitted: number
  /** Hex infohashes of those swarms; only with the operator's token. */
  infoHashes?: string[]
}

export interface ListenResult {
  /** The port of HTTPS and WSS announces. */
  port: number
  host: string
}

/**
 * An admission tracker. Nothing happens until listen(); close() is
 * idempotent. Emits 'warning' (Error) for faults that do not stop it
 * (unparseable requests, socket errors); refusals are counted, not warned.
 */
export class AdmissionTracker extends EventEmitter {
  /** The tracker's TLS key: the device key of the device running it. */
  readonly publicKey: Uint8Array
  readonly #admission: Admission
  readonly #bt: GatedServer
  readonly #https: HttpsServer
  readonly #handshakeTimeout: number
  readonly #seed: Uint8Array
  /** Every TCP connection, TLS or not yet known: close() ends them all. */
  readonly #connections = new Set<Socket>()
  readonly #token: Buffer
  readonly #sockets = new Set<TrackerWebSocket>()
  readonly #peers = new Map<string, PeerRecord>()
  readonly #refusals = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>
  #admitted = 0
  #sweepTimer: NodeJS.Timeout | undefined
  #listening: Promise<ListenResult> | undefined
  #closing: Promise<void> | undefined
  /** DEBUG=djcloud:tracker:admission: each refusal with its reason, admissions, peers dropped; lines start with the circle's owner key. */
  readonly #log: Logger

  constructor(opts: AdmissionTrackerOptions) {
    super()
    if (typeof opts.token !== 'string' || opts.token.length < MIN_TOKEN_CHARS) {
      throw new TrackerError('ERR_TRACKER_TOKEN', `the operator token must be at least ${MIN_TOKEN_CHARS} characters`)
    }
    checkRoster(opts.roster)
    this.#log = logger('tracker:admission').instance(opts.roster.owner)
    this.#token = digest(opts.token)
    if (!(opts.deviceSeed instanceof Uint8Array) || opts.deviceSeed.length !== DEVICE_SEED_BYTES) {
      throw new TrackerError('ERR_TRACKER_KEY', `the device seed must be ${DEVICE_SEED_BYTES} bytes`)
    }
    this.#handshakeTimeout = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT
    this.#seed = Uint8Array.from(opts.deviceSeed)
    this.publicKey = keyPairFromSeed(this.#seed).publicKey
    // The certificate is made in listen() (its ASN.1 libraries load on first use).
    this.#https = createHttpsServer({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      handshakeTimeout: this.#handshakeTimeout,
      requestTimeout: 10_000,
      headersTimeout: 5_000,
    })
    // Every connection reaches the TLS layer only if it opens with a TLS
    // handshake; the listener node:tls installed is called by hand after that.
    const [tlsConnection] = this.#https.listeners('connection') as Array<(socket: Socket) => void>
    if (typeof tlsConnection !== 'function') throw new Error('node:https has no connection listener to wrap')
    this.#https.removeAllListeners('connection')
    this.#https.on('connection', (socket: Socket) => this.#onConnection(socket, tlsConnection))
    this.#https.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) => this.#log('TLS handshake with %s failed: %s', socket.remoteAddress, err.message))
    this.#admission = new Admission({
      roster: opts.roster,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.nonceCap ? { nonceCap: opts.nonceCap } : {}),
    })
    this.#bt = new GatedServer(
      {
        http: false,
        udp: false,
        stats: false,
        ws: { noServer: true, maxPayload: MAX_WS_MESSAGE },
        interval: opts.intervalMs ?? ANNOUNCE_INTERVAL,
        peersCacheTtl: PEER_TTL,
        filter: (infoHash, params, cb) => this.#filter(infoHash, params, cb),
      },
      () => this.#refuse('malformed announce', 'a WebSocket message'),
    )
    this.#bt.on('warning', (err: Error) => {
      if (!(err instanceof AdmissionRefusal)) this.#warn(err)
    })
    this.#bt.on('error', (err: Error) => this.#warn(err)) // its WebSocket server's errors arrive here too
    this.#https.on('request', (req, res) => this.#onRequest(req, res))
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head))
  }

  /** Listens for HTTPS and WSS announces (default 127.0.0.1, a port from the OS). */
  listen(port = 0, host = '127.0.0.1'): Promise<ListenResult> {
    if (this.#closing) return Promise.reject(new TrackerError('ERR_TRACKER_STATE', 'the tracker is closed'))
    if (this.#listening) return Promise.reject(new TrackerError('ERR_TRACKER_STATE', 'the tracker is already listening'))
    this.#listening = selfSignedCertificate(this.#seed).then((tls) => new Promise<ListenResult>((resolve, reject) => {
      this.#https.setSecureContext({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
      const onError = (err: Error) => {
        this.#https.off('listening', onListening)
        reject(new TrackerError('ERR_TRACKER_LISTEN', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }))
      }
      const onListening = () => {
        this.#https.off('error', onError)
        this.#https.on('error', (err) => this.#warn(err))
        this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL).unref()
        const address = this.#https.address()
        resolve({ port: typeof address === 'object' && address ? address.port : port, host })
      }
      this.#https.once('error', onError)
      this.#https.once('listening', onListening)
      this.#https.listen(port, host)
    }))
    return this.#listening
  }

  /** Stops listening, drops every connection and forgets every swarm. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listening?.catch(() => {})
      clearInterval(this.#sweepTimer)
      await new Promise<void>((resolve) => this.#bt.close(() => resolve()))
      for (const ws of this.#sockets) ws.terminate()
      this.#sockets.clear()
      if (this.#https.listening) {
        await new Promise<void>((resolve) => {
          this.#https.close(() => resolve())
          for (const socket of this.#connections) socket.destroy()
        })
      }
    })()
    return this.#closing
  }

  /** Serves a newer roster of the same owner from now on (rosters change: devices join, get revoked). */
  setRoster(roster: Roster): void {
    const current = this.#admission.roster
    if (!Buffer.from(roster.owner).equals(current.owner)) {
      throw new TrackerError('ERR_TRACKER_ROSTER', 'that roster belongs to another owner; a tracker serves one circle')
    }
    if (roster.seq < current.seq) {
      throw new TrackerError('ERR_TRACKER_ROSTER', `refusing roster version ${roster.seq}: version ${current.seq} is already served`)
    }
    checkRoster(roster)
    this.#admission.roster = roster
    this.#dropUntrusted()
  }

  get roster(): Roster {
    return this.#admission.roster
  }

  /**
   * Refuses friends' devices their owners revoked (answered from the
   * friends' rosters the node follows), from now on and in the swarms now.
   */
  setFriendRevoked(friendRevoked: FriendRevoked | undefined): void {
    this.#admission.friendRevoked = friendRevoked
    this.#dropUntrusted()
  }

  /** Counts; with `infoHashes: true` also the swarms' infohashes (operator only). */
  stats(opts: { infoHashes?: boolean } = {}): TrackerStats {
    this.#sweep()
    const swarms = Object.values(this.#bt.torrents)
    const out: TrackerStats = {
      swarms: swarms.length,
      peers: swarms.reduce((n, s) => n + s.peers.length, 0),
      refusals: { ...this.#refusals },
      admitted: this.#admitted,
    }
    if (opts.infoHashes) out.infoHashes = Object.keys(this.#bt.torrents).sort()
    return out
  }

  #warn(err: unknown): void {
    this.emit('warning', err instanceof Error ? err : new Error(String(err)))
  }

  #refuse(reason: RefusalReason, what: string): void {
    this.#refusals[reason]++
    this.#log('refused %s: %s', what, reason)
  }

  #filter(infoHash: string, params: AnnounceParams, cb: FilterCallback): void {
    let decision
    try {
      decision = this.#admission.check(infoHash, params)
    } catch (err) {
      // A bug of ours, not the peer's: surface it, and admit nothing.
      this.#warn(err)
      decision = { admitted: false as const, reason: 'malformed announce' as const }
    }
    const who = this.#log.enabled ? `${params.type === 'ws' ? 'ws' : 'http'} announce for ${String(infoHash).slice(0, 8)} from ${String(params.addr ?? params.peer_id)}` : ''
    if (decision.admitted) {
      this.#log('admitted %s: %s device %s', who, decision.kind, Buffer.from(decision.device).toString('hex').slice(0, 8))
      this.#admitted++
      this.#record(infoHash, params, decision.owner, decision.device)
      cb(null)
      return
    }
    this.#refuse(decision.reason, who)
    cb(new AdmissionRefusal(decision.reason)) // bittorrent-tracker answers with the failure reason, synchronously
    if (params.type === 'ws' && isObject(params.socket)) (params.socket as unknown as TrackerWebSocket).close(1008, 'refused')
  }

  #record(infoHash: string, params: AnnounceParams, owner: Uint8Array, device: Uint8Array): void {
    const type = params.type === 'ws' ? 'ws' : 'http'
    const peerId = String(params.peer_id)
    const key = type === 'ws' ? peerId : String(params.addr)
    const id = `${infoHash} ${key}`
    if (params.event === 'stopped') this.#peers.delete(id)
    else this.#peers.set(id, { infoHash, type, key, peerId, owner: hex(owner), device: hex(device) })
  }

  /** After a roster change: peers of devices now revoked, or of friends no longer trusted, leave their swarms at once. */
  #dropUntrusted(): void {
    const r = this.#admission.roster
    const owners = new Set([hex(r.owner), ...r.friends.map((f) => hex(f.owner))])
    const revoked = new Set(r.revoked.map(hex))
    const friendRevoked = this.#admission.friendRevoked
    const self = hex(r.owner)
    for (const [id, p] of this.#peers) {
      const revokedByFriend = p.owner !== self && !!friendRevoked?.(Buffer.from(p.owner, 'hex'), Buffer.from(p.device, 'hex'))
      if (owners.has(p.owner) && !revoked.has(p.device) && !revokedByFriend) continue
      this.#log('dropped %s from %s: device %s no longer trusted', p.key, p.infoHash.slice(0, 8), p.device.slice(0, 8))
      this.#peers.delete(id)
      const swarm = this.#bt.torrents[p.infoHash]
      if (swarm?.peers.peek(p.key)) {
        swarm.announce({ type: p.type, event: 'stopped', numwant: 0, peer_id: p.peerId, addr: p.key }, () => {})
      }
    }
  }

  /**
   * Drops expired peers (the library expires them only when looked at),
   * empty swarms (it never does) and records of peers that are gone.
   */
  #sweep(): void {
    const torrents = this.#bt.torrents
    for (const infoHash of Object.keys(torrents)) {
      const swarm = torrents[infoHash]!
      for (const key of swarm.peers.keys) swarm.peers.peek(key)
      if (swarm.peers.length === 0) delete torrents[infoHash]
    }
    for (const [id, p] of this.#peers) {
      if (!torrents[p.infoHash]?.peers.peek(p.key)) this.#peers.delete(id)
    }
  }

  #onConnection(socket: Socket, tlsConnection: (socket: Socket) => void): void {
    if (this.#closing) return void socket.destroy()
    this.#connections.add(socket)
    socket.once('close', () => this.#connections.delete(socket))
    splitTlsFromPlain(socket, {
      timeoutMs: this.#handshakeTimeout,
      tls: () => tlsConnection.call(this.#https, socket),
      plain: () => this.#log('refused a plain-HTTP connection from %s: TLS only', socket.remoteAddress),
    })
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? ''
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const query = q < 0 ? '' : url.slice(q + 1)
    if (path === '/announce') {
      if (req.method !== 'GET') return sendText(res, 405, 'announce with GET\n')
      if (!wellFormedHttpAnnounce(query)) {
        this.#refuse('malformed announce', `http announce from ${req.socket.remoteAddress}`)
        return sendBencode(res, { 'failure reason': 'malformed announce' })
      }
      return this.#bt.onHttpRequest(req, res, { action: 'announce' })
    }
    if (path === '/scrape') return sendBencode(res, { 'failure reason': SCRAPE_REFUSED })
    if (path === '/stats.json') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'GET only\n')
      const auth = req.headers.authorization
      if (auth === undefined) return sendJson(res, 200, this.stats())
      if (this.#tokenMatches(auth)) return sendJson(res, 200, this.stats({ infoHashes: true }))
      res.setHeader('www-authenticate', 'Bearer')
      return sendJson(res, 401, { error: 'bad operator token' })
    }
    sendText(res, 404, 'not found\n')
  }

  #tokenMatches(header: string): boolean {
    const m = /^Bearer ([^\s]+)$/i.exec(header.trim())
    return m !== null && timingSafeEqual(digest(m[1]!), this.#token)
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const path = (req.url ?? '').split('?')[0]
    const wss = this.#bt.ws
    if (this.#closing || !wss || (path !== '/' && path !== '/announce')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (this.#sockets.size >= MAX_WEBSOCKETS) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closing) return ws.terminate()
      this.#sockets.add(ws)
      ws.on('close', () => this.#sockets.delete(ws))
      wss.emit('connection', ws, req) // bittorrent-tracker takes it from here
    })
  }
}

/**
 * The checks bittorrent-tracker's parse-http.js makes, made first so that a
 * malformed announce is answered and counted like every other refusal. Its
 * own check lets a fractional port through, which cannot be signed.
 */
function wellFormedHttpAnnounce(query: string): boolean {
  const p = querystring.parse(query, '&', '=', { decodeURIComponent: unescape, maxKeys: MAX_QUERY_KEYS })
  const port = p.port
  return typeof p.info_hash === 'string' && p.info_hash.length === 20 &&
    typeof p.peer_id === 'string' && p.peer_id.length === 20 &&
    typeof port === 'string' && /^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535
}

function sendBencode(res: ServerResponse, value: Record<string, string>): void {
  res.setHeader('content-type', 'text/plain')
  res.end(Buffer.from(encode(value)))
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(value) + '\n')
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' })
  res.end(text)
}

export function createAdmissionTracker(opts: AdmissionTrackerOptions): AdmissionTracker {
  return new AdmissionTracker(opts)
}
