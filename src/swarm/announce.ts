// Announcing to a tracker (BEP 3 over HTTP, BEP 23 compact peers, BEP 7
// peers6) with the signed admission proof of docs/tracker.md. The proof
// format lives here because both sides need it: the client signs it, the
// admission tracker (tracker/) checks it.
//
// A circle's tracker serves TLS with a self-signed certificate of the device
// key of the device running it. The client opens the TLS connection itself
// and checks that key against the roster (a device on it, not revoked)
// before a single request byte is written; a proof never goes out over plain
// HTTP unless the caller says so.
import { randomBytes } from 'node:crypto'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { asBytes, asDict, asInt, asList, decode, type BValue } from '../codec/index.ts'
import { encodeCertificate, signBytes, type Identity, type Roster } from '../identity/index.ts'
import { ed25519KeyOf } from '../link/index.ts'

import { ANNOUNCE_NONCE_BYTES, announceSigningBytes } from './announce-proof.ts'

export { ANNOUNCE_PROOF_TYPE, ANNOUNCE_PROOF_VERSION, ANNOUNCE_NONCE_BYTES, announceSigningBytes } from './announce-proof.ts'
export type { AnnounceClaim } from './announce-proof.ts'
export const INFO_HASH_BYTES = 20
export const PEER_ID_BYTES = 20
/** The query parameters (HTTP) or JSON fields (WebSocket) carrying the proof. */
export const PROOF_PARAMS = ['dj_cert', 'dj_ts', 'dj_nonce', 'dj_sig'] as const

const DEFAULT_TIMEOUT = 10_000 // ms
/** Peers kept from one response; trackers send 50-200. */
const MAX_PEERS = 500
/** A response is a small dict: interval, counts and up to MAX_PEERS peers. */
const RESPONSE_LIMITS = {
  maxBytes: 64 * 1024,
  maxDepth: 3, // root dict > peers list > peer dict > value
  maxItems: MAX_PEERS * 4 + 32,
  maxStringBytes: MAX_PEERS * 18,
} as const
const MAX_REASON_CHARS = 512

/** BEP 3 events; absent means a regular re-announce. */
export type AnnounceEvent = 'started' | 'stopped' | 'completed'

/** What signs announces: this device's key and its encoded certificate. */
export interface AnnounceSigner {
  /** 32-byte Ed25519 seed of the device key. */
  seed: Uint8Array
  /** The device certificate as encodeCertificate() writes it. */
  certificate: Uint8Array
}

/** The proof parameters, as sent (all ASCII). */
export interface AnnounceProof {
  /** base64url of the encoded device certificate */
  dj_cert: string
  /** ms since the epoch, decimal */
  dj_ts: string
  /** 16 random bytes, lowercase hex */
  dj_nonce: string
  /** base64url Ed25519 signature over announceSigningBytes() */
  dj_sig: string
}

export type AnnounceErrorCode =
  | 'ERR_TRACKER_REFUSED' // the tracker answered with a `failure reason`
  | 'ERR_TRACKER_RESPONSE' // not a valid tracker response
  | 'ERR_TRACKER_HTTP' // a status other than 200
  | 'ERR_TRACKER_UNREACHABLE' // connection failed
  | 'ERR_TRACKER_IDENTITY' // the tracker's TLS key is not a device on the roster (or is revoked): nothing was sent
  | 'ERR_TRACKER_INSECURE' // a signed announce to a plain http:// URL without allowPlainHttp: nothing was sent
  | 'ERR_TRACKER_TIMEOUT'
  | 'ERR_ABORTED'

export class AnnounceError extends Error {
  override name = 'AnnounceError'
  constructor(
    readonly code: AnnounceErrorCode,
    message: string,
    /** The tracker's `failure reason` (ERR_TRACKER_REFUSED only). */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes`)
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} is not 0-65535`)
}

/** The signer of a loaded identity. */
export function announceSigner(id: Pick<Identity, 'device' | 'certificate'>): AnnounceSigner {
  return { seed: id.device.seed, certificate: encodeCertificate(id.certificate) }
}

export interface SignAnnounceOptions extends AnnounceSigner {
  infoHash: Uint8Array
  peerId: Uint8Array
  /** The peer port announced; 0 for WebSocket announces. */
  port: number
  event?: AnnounceEvent
  /** Default Date.now(). */
  ts?: number
  /** Default 16 fresh random bytes; never reuse one. */
  nonce?: Uint8Array
}

/** Signs one announce: a fresh proof per announce (the tracker refuses a reused nonce). */
export function signedAnnounceParams(o: SignAnnounceOptions): AnnounceProof {
  checkLength('infoHash', o.infoHash, INFO_HASH_BYTES)
  checkLength('peerId', o.peerId, PEER_ID_BYTES)
  checkPort(o.port)
  const ts = o.ts ?? Date.now()
  if (!Number.isSafeInteger(ts) || ts < 0) throw new RangeError('ts must be ms since the epoch')
  const nonce = o.nonce ?? randomBytes(ANNOUNCE_NONCE_BYTES)
  checkLength('nonce', nonce, ANNOUNCE_NONCE_BYTES)
  const sig = signBytes(o.seed, announceSigningBytes({ infoHash: o.infoHash, peerId: o.peerId, port: o.port, event: o.event ?? '', ts, nonce }))
  return {
    dj_cert: Buffer.from(o.certificate).toString('base64url'),
    dj_ts: String(ts),
    dj_nonce: Buffer.from(nonce).toString('hex'),
    dj_sig: Buffer.from(sig).toString('base64url'),
  }
}

export interface AnnounceOptions extends Partial<AnnounceProof> {
  infoHash: Uint8Array
  peerId: Uint8Array
  port: number
  event?: AnnounceEvent
  numwant?: number
  uploaded?: number
  downloaded?: number
  /** Bytes left to download; default 0 (a seeder). */
  left?: number
  /** Ask for BEP 23 compact peers (default true). */
  compact?: boolean
  /**
   * Signs a fresh proof for this announce. Alternatively spread a proof made
   * by signedAnnounceParams() into the options; without either the announce
   * goes out unsigned (for standard trackers).
   */
  signer?: AnnounceSigner
  /**
   * Pins an https:// tracker: its TLS certificate's Ed25519 key must be the
   * device key of a device on this roster, not revoked. Required for signed
   * announces over https (without it an unsigned one checks the certificate
   * against the system's CAs, as any HTTPS client).
   */
  roster?: Roster
  /**
   * Sends a signed announce to a plain http:// URL, where anyone on the path
   * reads the certificate and the infohash. Off by default: such an announce
   * is refused with ERR_TRACKER_INSECURE before anything is sent.
   */
  allowPlainHttp?: boolean
  signal?: AbortSignal
  /** Default 10 s. */
  timeoutMs?: number
}

/** Whether a tracker's TLS key is one of the roster's devices and not revoked. */
export function trackerKeyTrusted(roster: Roster, key: Uint8Array): boolean {
  const same = (k: Uint8Array) => Buffer.from(k).equals(key)
  return roster.devices.some((d) => same(d.device)) && !roster.revoked.some(same)
}

export interface AnnouncePeer {
  host: string
  port: number
}

export interface AnnounceResult {
  peers: AnnouncePeer[]
  /** Seconds until the next regular announce. */
  interval: number
  minInterval?: number
  complete: number
  incomplete: number
  /** The tracker's `warning message`, if any. */
  warning?: string
}

/** Percent-encodes raw bytes the way BitTorrent trackers expect (every byte outside RFC 3986 unreserved). */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9.\-_~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function nonNegative(what: string, n: number | undefined): string | undefined {
  if (n === undefined) return undefined
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer`)
  return String(n)
}

/** The announce URL with every parameter in its query. */
export function announceUrl(base: string, o: AnnounceOptions, proof?: AnnounceProof): URL {
  checkLength('infoHash', o.infoHash, INFO_HASH_BYTES)
  checkLength('peerId', o.peerId, PEER_ID_BYTES)
  checkPort(o.port)
  if (o.port === 0) throw new RangeError('an HTTP announce needs a peer port (1-65535)')
  const url = new URL(base)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`not an HTTP tracker URL: ${base}`)
  const plain: Array<[string, string | undefined]> = [
    ['port', String(o.port)],
    ['uploaded', nonNegative('uploaded', o.uploaded ?? 0)],
    ['downloaded', nonNegative('downloaded', o.downloaded ?? 0)],
    ['left', nonNegative('left', o.left ?? 0)],
    ['compact', o.compact === false ? '0' : '1'],
    ['numwant', nonNegative('numwant', o.numwant)],
    ['event', o.event],
    ...PROOF_PARAMS.map((k) => [k, proof?.[k]] as [string, string | undefined]),
  ]
  const parts = [`info_hash=${percentEncodeBytes(o.infoHash)}`, `peer_id=${percentEncodeBytes(o.peerId)}`]
  for (const [k, v] of plain) if (v !== undefined) parts.push(`${k}=${encodeURIComponent(v)}`)
  const existing = url.search.replace(/^\?/, '')
  url.search = existing ? `${existing}&${parts.join('&')}` : parts.join('&')
  return url
}

function bytesToText(v: BValue | undefined, what: string): string {
  return Buffer.from(asBytes(v, what)).toString('utf8').slice(0, MAX_REASON_CHARS)
}

function peerPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what}: port ${port} out of range`)
  return port
}

function compactPeers(bytes: Uint8Array, size: 6 | 18): AnnouncePeer[] {
  if (bytes.length % size !== 0) throw new Error(`compact peers of ${bytes.length} bytes are not ${size}-byte entries`)
  const buf = Buffer.from(bytes)
  const out: AnnouncePeer[] = []
  for (let at = 0; at < buf.length; at += size) {
    const port = peerPort(buf.readUInt16BE(at + size - 2), 'compact peer')
    if (size === 6) {
      out.push({ host: `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`, port })
    } else {
      const groups: string[] = []
      for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(at + i).toString(16))
      out.push({ host: groups.join(':'), port })
    }
  }
  return out
}

/** Parses a tracker's bencoded announce response; `failure reason` becomes an AnnounceError. */
export function parseAnnounceResponse(body: Uint8Array): AnnounceResult {
  let d
  try {
    d = asDict(decode(body, RESPONSE_LIMITS), 'announce response')
  } catch (err) {
    throw new AnnounceError('ERR_TRACKER_RESPONSE', `bad tracker response: ${(err as Error).message}`, undefined, { cause: err })
  }
  if (d['failure reason'] !== undefined) {
    let reason: string
    try {
      reason = bytesToText(d['failure reason'], 'failure reason')
    } catch {
      reason = 'unreadable failure reason'
    }
    throw new AnnounceError('ERR_TRACKER_REFUSED', `tracker refused the announce: ${reason}`, reason)
  }
  try {
    const interval = asInt(d.interval, 'interval')
    if (interval < 0) throw new Error('interval: negative')
    const count = (v: BValue | undefined, what: string) => {
      if (v === undefined) return 0
      const n = asInt(v, what)
      if (n < 0) throw new Error(`${what}: negative`)
      return n
    }
    const peers: AnnouncePeer[] = []
    if (d.peers instanceof Uint8Array) peers.push(...compactPeers(d.peers, 6))
    else if (d.peers !== undefined) {
      for (const p of asList(d.peers, 'peers', MAX_PEERS)) {
        const pd = asDict(p, 'peer')
        const host = bytesToText(pd.ip, 'peer ip')
        if (!host || host.length > 255) throw new Error('peer ip: empty or too long')
        peers.push({ host, port: peerPort(asInt(pd.port, 'peer port'), 'peer') })
      }
    }
    if (d.peers6 !== undefined) peers.push(...compactPeers(asBytes(d.peers6, 'peers6'), 18))
    if (peers.length > MAX_PEERS) throw new Error(`more than ${MAX_PEERS} peers`)
    const result: AnnounceResult = {
      peers,
      interval,
      complete: count(d.complete, 'complete'),
      incomplete: count(d.incomplete, 'incomplete'),
    }
    if (d['min interval'] !== undefined) result.minInterval = count(d['min interval'], 'min interval')
    if (d['warning message'] !== undefined) result.warning = bytesToText(d['warning message'], 'warning message')
    return result
  } catch (err) {
    throw new AnnounceError('ERR_TRACKER_RESPONSE', `bad tracker response: ${(err as Error).message}`, undefined, { cause: err })
  }
}

/**
 * Opens a TLS connection to an https:// tracker and resolves once its key is
 * checked against the roster. A tracker that is not one of the circle's
 * devices is dropped right after the handshake, before any request byte.
 */
export function pinnedConnection(url: URL, roster: Roster, signal: AbortSignal): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const socket = tlsConnect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      minVersion: 'TLSv1.3',
      // The certificate is self-signed: it is checked against the roster below, not against CAs.
      rejectUnauthorized: false,
    })
    const onAbort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    const done = () => {
      signal.removeEventListener('abort', onAbort)
      socket.off('error', onError)
    }
    const onError = (err: Error) => {
      done()
      reject(err)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', onError)
    socket.once('secureConnect', () => {
      done()
      const der = socket.getPeerX509Certificate()?.raw
      const key = der ? ed25519KeyOf(der) : null
      if (key && trackerKeyTrusted(roster, key)) return resolve(socket)
      socket.destroy()
      const what = key ? `its TLS key ${Buffer.from(key).toString('hex').slice(0, 16)} is not a device on the roster, or is revoked` : 'its TLS certificate has no Ed25519 key'
      reject(new AnnounceError('ERR_TRACKER_IDENTITY', `tracker ${url.host} is not one of this circle's devices (${what}); nothing was sent`))
    })
  })
}

/** Announces over HTTP(S) GET and returns the peers. Rejects with AnnounceError. */
export async function announce(trackerUrl: string, o: AnnounceOptions): Promise<AnnounceResult> {
  const given = PROOF_PARAMS.filter((k) => o[k] !== undefined)
  if (o.signer && given.length) throw new TypeError('pass either signer or a signed proof, not both')
  if (given.length && given.length !== PROOF_PARAMS.length) throw new TypeError(`a proof needs all of ${PROOF_PARAMS.join(', ')}`)
  const proof = o.signer
    ? signedAnnounceParams({ ...o.signer, infoHash: o.infoHash, peerId: o.peerId, port: o.port, ...(o.event ? { event: o.event } : {}) })
    : given.length
      ? { dj_cert: o.dj_cert!, dj_ts: o.dj_ts!, dj_nonce: o.dj_nonce!, dj_sig: o.dj_sig! }
      : undefined
  const url = announceUrl(trackerUrl, o, proof)
  if (proof && url.protocol === 'http:' && !o.allowPlainHttp) {
    throw new AnnounceError('ERR_TRACKER_INSECURE', `tracker ${url.host} is plain http://: a signed announce would show this device's certificate and the infohash to the network; nothing was sent`)
  }
  if (proof && url.protocol === 'https:' && !o.roster) throw new TypeError('a signed announce over https needs the roster that pins the tracker')
  const timeout = AbortSignal.timeout(o.timeoutMs ?? DEFAULT_TIMEOUT)
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout
  if (o.signal?.aborted) throw new AnnounceError('ERR_ABORTED', 'announce aborted', undefined, { cause: o.signal.reason })
  const failure = (err: unknown): AnnounceError => {
    if (err instanceof AnnounceError) return err
    if (o.signal?.aborted) return new AnnounceError('ERR_ABORTED', 'announce aborted', undefined, { cause: o.signal.reason })
    if (timeout.aborted) return new AnnounceError('ERR_TRACKER_TIMEOUT', `tracker ${url.host} did not answer within ${o.timeoutMs ?? DEFAULT_TIMEOUT} ms`)
    return new AnnounceError('ERR_TRACKER_UNREACHABLE', `tracker ${url.host}: ${(err as Error).message}`, undefined, { cause: err })
  }
  let pinned: TLSSocket | undefined
  if (url.protocol === 'https:' && o.roster) {
    try {
      pinned = await pinnedConnection(url, o.roster, signal)
    } catch (err) {
      throw failure(err)
    }
  }
  const body = await new Promise<Uint8Array>((resolve, reject) => {
    const fail = (err: unknown) => reject(failure(err))
    const common = {
      method: 'GET',
      headers: { connection: 'close', 'accept-encoding': 'identity' },
      signal,
    }
    const req = pinned
      ? httpRequest({ ...common, host: url.hostname, port: url.port || 443, path: url.pathname + url.search, headers: { ...common.headers, host: url.host }, createConnection: () => pinned! })
      : (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { ...common, agent: false }) // one connection per announce; nothing lingers after it
    req.on('error', fail)
    req.on('response', (res: IncomingMessage) => {
      res.on('error', fail)
      if (res.statusCode !== 200) {
        res.resume()
        req.destroy()
        reject(new AnnounceError('ERR_TRACKER_HTTP', `tracker ${url.host} answered HTTP ${res.statusCode}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > RESPONSE_LIMITS.maxBytes) {
          req.destroy()
          reject(new AnnounceError('ERR_TRACKER_RESPONSE', `tracker response over ${RESPONSE_LIMITS.maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => resolve(Buffer.concat(chunks)))
    })
    req.end()
  })
  return parseAnnounceResponse(body)
}
