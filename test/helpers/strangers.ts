// Strangers for test/swarm/strangers.test.ts: clients that hold a track's
// .torrent and know a seeder's address but are not trusted devices. Also a
// tap on a seeder's listener that records, per connection, every byte each
// way, so a test can check from the seeder's side what it sent and when it
// hung up. The seeder's port is a TLS link port (src/link/): the tap records
// what moved inside TLS for peers that completed the TLS handshake, and the
// raw bytes for those that did not. The BitTorrent parsing here is our own
// (not src/'s Wire) so the test does not trust the code it tests.
import { connect, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { linkSocket } from './link.ts'
import { execFile, type ChildProcess } from 'node:child_process'
import { createServer as createHttpServer } from 'node:http'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ExecutionContext } from 'ava'
import { decode, asDict, asBytes } from '../../src/codec/index.ts'
import { decodeCertificate } from '../../src/identity/index.ts'
import { encodeInfoDict, type TorrentMeta } from '../../src/swarm/index.ts'

export const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')

export const MSG_NAMES: Record<number, string> = {
  0: 'choke', 1: 'unchoke', 2: 'interested', 3: 'not-interested', 4: 'have',
  5: 'bitfield', 6: 'request', 7: 'piece', 8: 'cancel', 20: 'extended',
}

/** A .torrent holding exactly the track's info dict: its infohash is the swarm's. */
export function torrentFileFor(meta: TorrentMeta, circleSecret: Uint8Array): Buffer {
  const info = encodeInfoDict(meta, circleSecret)
  return Buffer.concat([Buffer.from('d4:info', 'latin1'), info, Buffer.from('e', 'latin1')])
}

// ---- a tolerant BitTorrent stream parser ------------------------------

export interface BtHandshake {
  reserved: Buffer
  infoHash: Buffer
  peerId: Buffer
}

export interface BtStream {
  /** False when the first 20 bytes are not the BitTorrent protocol string (e.g. an encrypted handshake). */
  bittorrent: boolean
  handshake: BtHandshake | null
  messages: Array<{ id: number; payload: Buffer }>
}

/** Parses what went one way on a connection; an incomplete tail is ignored. */
export function parseBtStream(buf: Buffer): BtStream {
  if (buf.length < 20 || !buf.subarray(0, 20).equals(PROTOCOL)) {
    return { bittorrent: buf.length < 20 ? PROTOCOL.subarray(0, buf.length).equals(buf) : false, handshake: null, messages: [] }
  }
  if (buf.length < 68) return { bittorrent: true, handshake: null, messages: [] }
  const handshake = { reserved: buf.subarray(20, 28), infoHash: buf.subarray(28, 48), peerId: buf.subarray(48, 68) }
  const messages: BtStream['messages'] = []
  for (let at = 68; buf.length - at >= 4; ) {
    const len = buf.readUInt32BE(at)
    if (buf.length - at - 4 < len) break
    if (len > 0) messages.push({ id: buf[at + 4]!, payload: buf.subarray(at + 5, at + 4 + len) })
    at += 4 + len
  }
  return { bittorrent: true, handshake, messages }
}

// ---- the seeder-side tap ------------------------------------------------

export interface TappedConnection {
  openedAt: number
  closedAt: number | null
  /** The peer sent FIN before the socket closed: it hung up, not the seeder. */
  peerEndedFirst: boolean
  remotePort: number
  /** Whether the peer completed the TLS handshake (a djcloud link). */
  tls: boolean
  /** What the peer sent inside TLS (the TLS layer reads the raw socket in C++: a peer that never completed TLS shows nothing). */
  received: Buffer[]
  /** What the seeder wrote inside TLS (nothing goes to a peer without TLS but TLS records). */
  sent: Buffer[]
}

/** Seconds the connection was open (up to now if still open). */
export const openFor = (c: TappedConnection, now = Date.now()) => ((c.closedAt ?? now) - c.openedAt) / 1000

export function incoming(c: TappedConnection): BtStream {
  return parseBtStream(Buffer.concat(c.received))
}

export function outgoing(c: TappedConnection): BtStream {
  return parseBtStream(Buffer.concat(c.sent))
}

/**
 * Records every connection the server accepts: open and close times from the
 * TCP socket, and once a TLS handshake completes, every byte each way inside
 * it. Registered after the seeder's own handlers, it sees each socket before
 * any byte moves; it only listens (and notes what the seeder writes).
 */
export function tapServer(server: Server): TappedConnection[] {
  const conns: TappedConnection[] = []
  const byPort = new Map<number, TappedConnection>()
  server.on('connection', (sock: Socket) => {
    const c: TappedConnection = { openedAt: Date.now(), closedAt: null, peerEndedFirst: false, remotePort: sock.remotePort ?? 0, tls: false, received: [], sent: [] }
    conns.push(c)
    byPort.set(c.remotePort, c)
    sock.on('end', () => {
      if (c.closedAt === null) c.peerEndedFirst = true
    })
    sock.on('close', () => {
      c.closedAt = Date.now()
    })
  })
  server.on('secureConnection', (sock: TLSSocket) => {
    const c = byPort.get(sock.remotePort ?? -1)
    if (!c) return
    c.tls = true
    const write = sock.write
    sock.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string') c.sent.push(Buffer.from(chunk))
      else if (chunk instanceof Uint8Array) c.sent.push(Buffer.from(chunk))
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
    } as typeof sock.write
    sock.on('data', (d: Buffer) => c.received.push(Buffer.from(d)))
  })
  return conns
}


/**
 * Who is on the other end, from what it sent the seeder: peer id prefixes of
 * the stock clients, the device name in a dj_auth certificate for djcloud
 * devices, 'no-tls' for a peer that never completed the link's TLS handshake
 * (plaintext or MSE/PE BitTorrent clients, and old djcloud devices).
 */
export function whoIs(c: TappedConnection): string {
  if (!c.tls) return 'no-tls'
  const s = incoming(c)
  if (!s.bittorrent) return 'encrypted'
  if (!s.handshake) return 'silent'
  const id = s.handshake.peerId.toString('latin1')
  if (id.startsWith('-DJ')) {
    // the seeder's dj_auth is its extension id 1 (its only extension)
    const auth = s.messages.find((m) => m.id === 20 && m.payload[0] === 1)
    if (!auth) return 'djcloud (no dj_auth)'
    try {
      const d = asDict(decode(auth.payload.subarray(1)), 'dj_auth')
      return `djcloud:${decodeCertificate(asBytes(d.cert, 'cert')).name}`
    } catch {
      return 'djcloud (bad dj_auth)'
    }
  }
  if (id.startsWith('-RAW')) return `raw:${id.slice(4, 8).replace(/-+$/, '')}`
  const m = /^-([A-Za-z]{2})/.exec(id)
  return m ? m[1]! : 'unknown'
}

// ---- a raw peer ---------------------------------------------------------

export interface RawPeerResult {
  /** Everything the seeder sent, parsed. */
  stream: BtStream
  /** ms from connect to the seeder closing the socket, or null if it never did. */
  droppedAfter: number | null
}

export interface RawPeer {
  socket: Socket | TLSSocket
  /** Resolves when the socket closes or `watchMs` passes, whichever comes first. */
  result: Promise<RawPeerResult>
}

/**
 * A hand-written BitTorrent peer. `script` runs once the seeder's handshake
 * has arrived (and again on each arrival until it returns true) and may write
 * anything; the peer itself never closes the socket (so a close is the
 * seeder's doing) before teardown.
 */
export function rawPeer(
  t: ExecutionContext,
  port: number,
  opts: {
    infoHash: Uint8Array
    peerId: Buffer
    extensionBit: boolean
    /** Sent right after our handshake, before anything arrives. */
    early?: Buffer[]
    /** Called on every arrival with all the seeder sent so far, until it returns true. */
    script?: (seeder: BtStream, send: (b: Buffer) => void, socket: TLSSocket | Socket) => boolean
    watchMs: number
    /** Speak BitTorrent inside a TLS link (a stranger who knows djcloud's link protocol); default: plaintext TCP. */
    link?: boolean
  },
): RawPeer {
  const socket = opts.link ? linkSocket(port) : connect(port, '127.0.0.1')
  socket.on('error', () => {})
  t.teardown(() => void socket.destroy())
  const chunks: Buffer[] = []
  let connectedAt = 0
  let scripted = false
  const reserved = Buffer.alloc(8)
  if (opts.extensionBit) reserved[5] = 0x10
  socket.on(opts.link ? 'secureConnect' : 'connect', () => {
    connectedAt = Date.now()
    socket.write(Buffer.concat([PROTOCOL, reserved, opts.infoHash, opts.peerId, ...(opts.early ?? [])]))
  })
  socket.on('data', (d: Buffer) => {
    chunks.push(d)
    if (scripted || !opts.script) return
    const s = parseBtStream(Buffer.concat(chunks))
    if (s.handshake) scripted = opts.script(s, (b) => void socket.write(b), socket)
  })
  const result = new Promise<RawPeerResult>((resolve) => {
    const done = (droppedAfter: number | null) => {
      clearTimeout(timer)
      resolve({ stream: parseBtStream(Buffer.concat(chunks)), droppedAfter })
    }
    const timer = setTimeout(() => done(null), opts.watchMs)
    socket.on('close', () => done(connectedAt ? Date.now() - connectedAt : 0))
  })
  return { socket, result }
}

/** A BitTorrent message: length prefix, id, 32-bit ints, payload. */
export function btMessage(id: number, ints: number[] = [], payload: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(5 + 4 * ints.length)
  head.writeUInt32BE(1 + 4 * ints.length + payload.length, 0)
  head[4] = id
  ints.forEach((v, i) => head.writeUInt32BE(v, 5 + 4 * i))
  return Buffer.concat([head, payload])
}

/** A peer id with a recognisable 8-byte prefix ('-RAW' + 4 characters) and 12 random bytes. */
export function rawPeerId(tag: string, random: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`-RAW${tag.padEnd(4, '-').slice(0, 4)}`, 'latin1'), random.subarray(0, 12)])
}

// ---- libtorrent ---------------------------------------------------------

export interface LibtorrentReport {
  total_payload_download: number
  total_download: number
  num_peers: number
  max_num_peers: number
  progress: number
  pieces: number
  ever_connected: boolean
  clients: string[]
  info_hash: string
  connects: Array<{ t: number }>
  disconnects: Array<{ t: number; handshake: boolean; reason: string }>
  listen_port: number
  libtorrent: string
}

const LIBTORRENT_PEER = fileURLToPath(new URL('./libtorrent_peer.py', import.meta.url))
export const PYTHON = '/usr/bin/python3'

/**
 * Runs test/helpers/libtorrent_peer.py (python3-libtorrent) for `seconds`.
 * Rejects with a clear message when python3 or libtorrent is missing: CI
 * must install python3-libtorrent, a missing one is a failure, not a skip.
 */
export function runLibtorrentPeer(
  t: ExecutionContext,
  args: { torrentPath: string; saveDir: string; port: number; seconds: number; encryption?: 'plaintext' | 'enabled' },
): Promise<LibtorrentReport> {
  let child: ChildProcess | undefined
  const done = new Promise<LibtorrentReport>((resolve, reject) => {
    child = execFile(
      PYTHON,
      [LIBTORRENT_PEER, args.torrentPath, args.saveDir, String(args.port), String(args.seconds), args.encryption ?? 'plaintext'],
      { timeout: (args.seconds + 20) * 1000 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? ''
        let parsed: (LibtorrentReport & { error?: string }) | null = null
        try {
          parsed = JSON.parse(last) as LibtorrentReport & { error?: string }
        } catch {}
        if (parsed?.error) return reject(new Error(`${parsed.error} (CI must install the Debian package python3-libtorrent)`))
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          return reject(new Error(`${PYTHON} not found: install python3 and python3-libtorrent`))
        }
        if (err || !parsed) return reject(new Error(`libtorrent_peer.py failed: ${err?.message ?? 'no JSON output'}\n${stderr}`))
        resolve(parsed)
      },
    )
  })
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  done.catch(() => {}) // awaited later by the caller; not an unhandled rejection meanwhile
  return done
}

/** Throws a clear error unless /usr/bin/python3 can import libtorrent (Debian: python3-libtorrent). */
export function requireLibtorrent(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout.trim())
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${PYTHON} not found` : stderr.trim().split('\n').pop()
      reject(new Error(`python3-libtorrent is required by this test and is missing (${missing}). Install it: apt-get install -y python3-libtorrent (CI: .ci/run)`))
    })
  })
}

// ---- webtorrent 3 (no type declarations: the part used here) -------------

export interface WtWire {
  peerId: string
  downloaded: number
  destroyed: boolean
  once(event: 'close', fn: () => void): void
}

export interface WtTorrent {
  infoHash: string
  downloaded: number
  received: number
  progress: number
  numPeers: number
  pieces: unknown[]
  bitfield: { get(i: number): boolean } | null
  path: string
  on(event: 'wire', fn: (wire: WtWire, addr?: string) => void): void
  on(event: 'verified', fn: (index: number) => void): void
  on(event: 'ready' | 'infoHash' | 'metadata', fn: () => void): void
  on(event: 'error' | 'warning', fn: (err: Error | string) => void): void
  once(event: 'ready', fn: () => void): void
  addPeer(addr: string): boolean
}

export interface WtClient {
  peerId: string
  add(torrent: Uint8Array, opts: { path: string }, onTorrent?: (t: WtTorrent) => void): WtTorrent
  on(event: 'error', fn: (err: Error | string) => void): void
  destroy(cb?: (err?: Error) => void): void
}

export type WebTorrentCtor = new (opts: Record<string, unknown>) => WtClient

// Loaded through a string so the strict type check does not look for types.
const webtorrentModule: string = 'webtorrent'
export async function loadWebTorrent(): Promise<WebTorrentCtor> {
  return ((await import(webtorrentModule)) as { default: WebTorrentCtor }).default
}

const parseTorrentModule: string = 'parse-torrent'
export async function parseTorrentInfoHash(torrent: Uint8Array): Promise<string> {
  const { default: parseTorrent } = (await import(parseTorrentModule)) as { default: (t: Uint8Array) => Promise<{ infoHash: string }> }
  return (await parseTorrent(torrent)).infoHash
}

// ---- aria2c -------------------------------------------------------------

export interface Aria2Report {
  /** aria2c's exit code (it gives up after --bt-stop-timeout with no progress). */
  code: number | null
  /** Announces the one-peer tracker answered: aria2c learned the seeder's address. */
  announces: number
  stdout: string
}

/**
 * Stock aria2c (Debian `aria2`) holding the .torrent: the torrent is private,
 * so it finds peers only through a tracker; a one-peer HTTP tracker here hands
 * it the seeder's address. `requireCrypto` makes it speak MSE/PE only.
 */
export async function runAria2(
  t: ExecutionContext,
  args: { torrentPath: string; saveDir: string; port: number; seconds: number; requireCrypto: boolean },
): Promise<Aria2Report> {
  let announces = 0
  const peer = Buffer.from([127, 0, 0, 1, args.port >> 8, args.port & 0xff])
  const tracker = createHttpServer((_req, res) => {
    announces++
    res.end(Buffer.concat([Buffer.from('d8:intervali60e5:peers6:', 'latin1'), peer, Buffer.from('e', 'latin1')]))
  })
  tracker.listen(0, '127.0.0.1')
  await once(tracker, 'listening')
  t.teardown(() => new Promise<void>((r) => tracker.close(() => r())))
  const url = `http://127.0.0.1:${(tracker.address() as { port: number }).port}/announce`
  let child: ChildProcess | undefined
  const done = new Promise<Aria2Report>((resolve, reject) => {
    child = execFile(
      'aria2c',
      [
        `--dir=${args.saveDir}`, `--bt-tracker=${url}`, '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
        `--bt-require-crypto=${args.requireCrypto}`, `--bt-min-crypto-level=${args.requireCrypto ? 'arc4' : 'plain'}`, `--bt-stop-timeout=${Math.ceil(args.seconds)}`,
        '--seed-time=0', '--summary-interval=0', '--console-log-level=warn', '--no-conf=true', '--file-allocation=none', args.torrentPath,
      ],
      { timeout: (args.seconds + 20) * 1000 },
      (err, stdout) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new Error('aria2c not found: CI must install the Debian package aria2'))
        resolve({ code: child?.exitCode ?? null, announces, stdout })
      },
    )
  })
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  done.catch(() => {})
  return done
}
