// A request one own device makes of another: "pull this playlist". It is
// signed by the asking device's key over its canonical bencode, names both
// devices, and carries a nonce and an expiry, so the target can refuse what
// is unsigned, signed by anyone but an own device that is not revoked,
// replayed, expired, or meant for another device. The device channel already
// authenticated the link; the signature binds the request itself to the
// device that sent it (and is checked against that link's device).
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { asBytes, asDict, asInt, asStrictDict, asString, decode, encode, fieldList } from '../codec/index.ts'
import { isRevoked, signBytes, verifyBytes, type Roster } from '../identity/index.ts'

const REQUEST_TYPE = 'djcloud-device-request'
export const PULL_REQUEST_TTL = 60_000 // ms from signing to expiry
/** Expiries further ahead than this are refused: nonces are remembered until they expire. */
export const MAX_REQUEST_TTL = 5 * 60_000 // ms
const MAX_NONCES = 4096
const MAX_PLAYLIST_BYTES = 256
const MAX_REQUEST_BYTES = 1024
/** The wire form's fields; the request inside must be canonical (re-encoded, the very bytes signed), so it has no others. */
const SIGNED_FIELDS = fieldList('req', 'sig')

export interface PullRequest {
  kind: 'pull'
  playlist: string
  /** 16 random bytes. */
  nonce: Uint8Array
  /** ms since the epoch. */
  expires: number
  /** The asking device's key. */
  from: Uint8Array
  /** The target device's key. */
  to: Uint8Array
}

/** The wire form: the request's bytes and the asking device's signature over them. */
export interface SignedRequest {
  req: Uint8Array
  sig?: Uint8Array
}

/** Why a request is refused; sent back to the asker as the reason. */
export type RequestRefusal =
  | 'unsigned request'
  | 'malformed request'
  | 'not for this device'
  | 'signer is not the sending device'
  | 'foreign signer'
  | 'revoked signer'
  | 'bad signature'
  | 'expired request'
  | 'expiry too far ahead'
  | 'replayed request'
  | 'too many requests'

export class RequestRefused extends Error {
  override name = 'RequestRefused'
  constructor(readonly reason: RequestRefusal) {
    super(reason)
  }
}

function requestDict(r: PullRequest) {
  return { type: REQUEST_TYPE, v: 1, kind: r.kind, playlist: r.playlist, nonce: r.nonce, expires: r.expires, from: r.from, to: r.to }
}

/** Makes and signs a pull request (expires PULL_REQUEST_TTL from now). */
export function signPullRequest(
  device: { seed: Uint8Array; publicKey: Uint8Array },
  to: Uint8Array,
  playlist: string,
  now = Date.now(),
): { request: PullRequest; wire: Uint8Array } {
  const request: PullRequest = { kind: 'pull', playlist, nonce: randomBytes(16), expires: now + PULL_REQUEST_TTL, from: device.publicKey, to }
  const req = encode(requestDict(request))
  return { request, wire: encodeSigned({ req, sig: signBytes(device.seed, req) }) }
}

export function encodeSigned(s: SignedRequest): Uint8Array {
  return encode({ req: s.req, ...(s.sig ? { sig: s.sig } : {}) })
}

export interface CheckContext {
  roster: Roster
  /** This device's key. */
  self: Uint8Array
  /** The key of the device whose authenticated link carried the request. */
  sender: Uint8Array
  nonces: NonceBook
  now?: number
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)

/**
 * Checks a signed request as received; returns it, or throws RequestRefused.
 * Cheapest checks first; the nonce is remembered only once everything else
 * passed, so nobody but an own device can fill the book.
 */
export function checkPullRequest(wire: Uint8Array, ctx: CheckContext): PullRequest {
  const now = ctx.now ?? Date.now()
  let req: Uint8Array
  let sig: Uint8Array | undefined
  let r: PullRequest
  try {
    const outer = asStrictDict(decode(wire, { maxBytes: MAX_REQUEST_BYTES + 128, maxDepth: 1, maxItems: 4 }), SIGNED_FIELDS, 'signed request')
    req = asBytes(outer.req, 'req')
    sig = outer.sig === undefined ? undefined : asBytes(outer.sig, 'sig')
    if (req.length > MAX_REQUEST_BYTES) throw new Error('request too large')
    const d = asDict(decode(req, { maxDepth: 1, maxItems: 10 }), 'request')
    if (asString(d.type, 'type', 64) !== REQUEST_TYPE || asInt(d.v, 'v') !== 1) throw new Error('not a device request')
    if (asString(d.kind, 'kind', 16) !== 'pull') throw new Error('unknown request kind')
    r = {
      kind: 'pull',
      playlist: asString(d.playlist, 'playlist', MAX_PLAYLIST_BYTES),
      nonce: asBytes(d.nonce, 'nonce', 16),
      expires: asInt(d.expires, 'expires'),
      from: asBytes(d.from, 'from', 32),
      to: asBytes(d.to, 'to', 32),
    }
    // Canonical: re-encoding gives the very bytes that were signed.
    if (!Buffer.from(encode(requestDict(r))).equals(req)) throw new Error('not canonical')
  } catch {
    throw new RequestRefused('malformed request')
  }
  if (!sig) throw new RequestRefused('unsigned request')
  if (!same(r.to, ctx.self)) throw new RequestRefused('not for this device')
  if (!same(r.from, ctx.sender)) throw new RequestRefused('signer is not the sending device')
  if (isRevoked(ctx.roster, r.from)) throw new RequestRefused('revoked signer')
  if (!ctx.roster.devices.some((c) => same(c.device, r.from))) throw new RequestRefused('foreign signer')
  if (!verifyBytes(r.from, req, sig)) throw new RequestRefused('bad signature')
  if (r.expires <= now) throw new RequestRefused('expired request')
  if (r.expires > now + MAX_REQUEST_TTL) throw new RequestRefused('expiry too far ahead')
  ctx.nonces.use(r.nonce, r.expires, now)
  return r
}

/** Where a home keeps the nonces of pull requests it accepted. */
export const PULL_NONCES_FILE = 'pull-nonces.json'
export const pullNoncesPath = (home: string) => join(home, PULL_NONCES_FILE)

/**
 * Nonces of accepted requests, each kept until its request expires. With a
 * file (open()), they outlive a restart: a target restarted within a
 * request's lifetime still refuses its replay. save() writes the book
 * atomically; the caller awaits it before acting on the request.
 */
export class NonceBook {
  private readonly seen = new Map<string, number>() // nonce hex -> expires
  private saving: Promise<void> = Promise.resolve()

  constructor(private readonly file?: string) {}

  /**
   * The book kept in `file`, expired nonces dropped. A file that cannot be
   * read as a book is reported through onBad and set aside (renamed
   * `.bad`), and the book starts empty: refusing every pull forever would
   * be worse than a replay window of one request lifetime.
   */
  static async open(file: string, opts: { now?: number; onBad?: (err: Error) => void } = {}): Promise<NonceBook> {
    const book = new NonceBook(file)
    const now = opts.now ?? Date.now()
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return book
      throw err
    }
    try {
      const j = JSON.parse(text) as { v?: unknown; nonces?: unknown }
      if (j.v !== 1 || typeof j.nonces !== 'object' || j.nonces === null || Array.isArray(j.nonces)) throw new Error('not a nonce book')
      for (const [k, exp] of Object.entries(j.nonces)) {
        if (!/^[0-9a-f]{32}$/.test(k) || !Number.isSafeInteger(exp)) throw new Error('a malformed entry')
        if ((exp as number) > now && book.seen.size < MAX_NONCES) book.seen.set(k, exp as number)
      }
    } catch (err) {
      opts.onBad?.(new Error(`${file} is not a nonce book (${(err as Error).message}); set aside as ${file}.bad`))
      await rename(file, `${file}.bad`).catch(() => {})
    }
    return book
  }

  /** Remembers a nonce; throws RequestRefused when it was seen (or the book is full). */
  use(nonce: Uint8Array, expires: number, now = Date.now()): void {
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k)
    const key = Buffer.from(nonce).toString('hex')
    if (this.seen.has(key)) throw new RequestRefused('replayed request')
    if (this.seen.size >= MAX_NONCES) throw new RequestRefused('too many requests')
    this.seen.set(key, expires)
  }

  /** Writes the book to its file (tmp + rename), one write at a time; nothing without a file. */
  save(): Promise<void> {
    const file = this.file
    if (!file) return Promise.resolve()
    const run = async () => {
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
      await writeFile(tmp, JSON.stringify({ v: 1, nonces: Object.fromEntries(this.seen) }), { mode: 0o600 })
      await rename(tmp, file).catch(async (err: unknown) => {
        await rm(tmp, { force: true })
        throw err
      })
    }
    const next = this.saving.then(run, run)
    this.saving = next.catch(() => {})
    return next
  }

  get size(): number {
    return this.seen.size
  }
}
