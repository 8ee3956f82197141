// Tracker admission (docs/tracker.md): an announce is let
// into a swarm only when it carries a proof by an own or friend's device.
// This file decides; server.ts wires the decision into bittorrent-tracker.
import { classifyCertificate, verifyBytes, type FriendRevoked, type Roster } from '../src/identity/index.ts'
import {
  ANNOUNCE_NONCE_BYTES, INFO_HASH_BYTES, PEER_ID_BYTES, PROOF_PARAMS, announceSigningBytes,
} from '../src/swarm/index.ts'
import { NonceCache } from './nonce-cache.ts'

export const MAX_SKEW = 60_000 // ms between the announce's ts and the tracker's clock, docs/tracker.md

export const REFUSAL_REASONS = [
  'missing proof',
  'bad certificate',
  'unknown owner',
  'revoked device',
  'stale timestamp',
  'replayed nonce',
  'bad signature',
  'malformed announce',
] as const
export type RefusalReason = (typeof REFUSAL_REASONS)[number]

export type AdmissionDecision =
  | { admitted: true; kind: 'own' | 'friend'; owner: Uint8Array; device: Uint8Array }
  | { admitted: false; reason: RefusalReason }

/** Events bittorrent-tracker's swarm understands ('' = absent). */
const EVENTS = new Set(['', 'started', 'stopped', 'completed', 'update', 'paused', 'empty'])
/** A certificate is at most 512 bytes (identity's cap); leave room, refuse anything far bigger unread. */
const MAX_CERT_CHARS = 1024
const SIG_BYTES = 64
/** WebRTC offers per announce; bittorrent-tracker answers with at most 82 peers. */
const MAX_OFFERS = 82
const MAX_ID_CHARS = 64

const B64URL = /^[A-Za-z0-9_-]+$/
const HEX40 = /^[0-9a-f]{40}$/
const NONCE_HEX = new RegExp(`^[0-9a-fA-F]{${ANNOUNCE_NONCE_BYTES * 2}}$`)
const TS_DIGITS = /^[0-9]{1,16}$/

class Malformed extends Error {}

/** Strict base64url: canonical, no padding, so one proof has one spelling. */
function base64url(v: unknown, maxChars: number): Uint8Array {
  if (typeof v !== 'string' || v.length > maxChars || !B64URL.test(v)) throw new Malformed()
  const bytes = Buffer.from(v, 'base64url')
  if (bytes.toString('base64url') !== v) throw new Malformed()
  return bytes
}

function timestamp(v: unknown, type: string): number {
  // HTTP parameters are strings; a WebSocket client may send a JSON number.
  if (typeof v === 'number' && type === 'ws' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v !== 'string' || !TS_DIGITS.test(v)) throw new Malformed()
  const ts = Number(v)
  if (!Number.isSafeInteger(ts)) throw new Malformed()
  return ts
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Fields bittorrent-tracker 11 reads from an admitted announce without checks
 * of its own; a wrong shape there throws inside its callbacks and takes the
 * process down (an HTTP announce with `socket=x` and then `event=stopped`, a
 * WebSocket announce with `offers: [null]`). Such announces are malformed.
 */
function checkLibraryFields(p: Record<string, unknown>): void {
  if (p.type === 'http') {
    if (p.socket !== undefined) throw new Malformed()
    return
  }
  if (p.offers !== undefined) {
    if (!Array.isArray(p.offers) || p.offers.length > MAX_OFFERS) throw new Malformed()
    for (const o of p.offers) {
      if (!isObject(o) || !isObject(o.offer) || typeof o.offer_id !== 'string' || o.offer_id.length > MAX_ID_CHARS) throw new Malformed()
    }
  }
  if (p.answer !== undefined) {
    if (!isObject(p.answer) || typeof p.offer_id !== 'string' || p.offer_id.length > MAX_ID_CHARS) throw new Malformed()
  }
}

export interface AdmissionOptions {
  roster: Roster
  /** ms since the epoch; default Date.now */
  clock?: () => number
  /** Nonces remembered at most (default 100,000). */
  nonceCap?: number
}

export class Admission {
  #roster: Roster
  /** Friends' devices their owners revoked (the friends' rosters the node follows). */
  friendRevoked: FriendRevoked | undefined
  readonly #clock: () => number
  readonly #nonces: NonceCache

  constructor(opts: AdmissionOptions) {
    this.#roster = opts.roster
    this.#clock = opts.clock ?? Date.now
    this.#nonces = new NonceCache(opts.nonceCap)
  }

  get roster(): Roster {
    return this.#roster
  }

  set roster(r: Roster) {
    this.#roster = r
  }

  /**
   * Decides on one announce as bittorrent-tracker parsed it: `infoHash` and
   * `params.peer_id` in hex, `params.type` 'http' or 'ws', HTTP query
   * parameters or WebSocket JSON fields as given.
   */
  check(infoHash: string, params: Record<string, unknown>): AdmissionDecision {
    const refuse = (reason: RefusalReason): AdmissionDecision => ({ admitted: false, reason })
    const present = PROOF_PARAMS.filter((k) => params[k] !== undefined)
    if (present.length < PROOF_PARAMS.length) return refuse('missing proof')

    let claim
    let cert: Uint8Array
    let sig: Uint8Array
    let nonceKey: string
    try {
      const type = params.type
      if (type !== 'http' && type !== 'ws') throw new Malformed()
      if (typeof infoHash !== 'string' || !HEX40.test(infoHash)) throw new Malformed()
      if (typeof params.peer_id !== 'string' || !HEX40.test(params.peer_id)) throw new Malformed()
      // For WebSocket announces bittorrent-tracker puts the socket's remote
      // port in `port`; WebRTC peers have no listening port, so they sign 0.
      const port = type === 'ws' ? 0 : params.port
      if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 0 || port > 65535) throw new Malformed()
      const event = params.event ?? ''
      if (typeof event !== 'string' || !EVENTS.has(event)) throw new Malformed()
      checkLibraryFields(params)
      cert = base64url(params.dj_cert, MAX_CERT_CHARS)
      sig = base64url(params.dj_sig, Math.ceil((SIG_BYTES * 4) / 3))
      if (sig.length !== SIG_BYTES) throw new Malformed()
      if (typeof params.dj_nonce !== 'string' || !NONCE_HEX.test(params.dj_nonce)) throw new Malformed()
      nonceKey = params.dj_nonce.toLowerCase()
      claim = {
        infoHash: Buffer.from(infoHash, 'hex'),
        peerId: Buffer.from(params.peer_id, 'hex'),
        port,
        event,
        ts: timestamp(params.dj_ts, type),
        nonce: Buffer.from(nonceKey, 'hex'),
      }
      if (claim.infoHash.length !== INFO_HASH_BYTES || claim.peerId.length !== PEER_ID_BYTES) throw new Malformed()
    } catch (err) {
      if (err instanceof Malformed) return refuse('malformed announce')
      throw err
    }

    // Cheapest first: a clock comparison, then one signature check for the
    // certificate, one for the announce; the nonce is recorded only for an
    // announce that verified, so strangers cannot fill the replay cache.
    const now = this.#clock()
    if (Math.abs(now - claim.ts) > MAX_SKEW) return refuse('stale timestamp')
    const trust = classifyCertificate(this.#roster, cert, this.friendRevoked)
    if (!trust.trusted) {
      return refuse(trust.reason === 'revoked' ? 'revoked device' : trust.reason === 'unknown-owner' ? 'unknown owner' : 'bad certificate')
    }
    if (!verifyBytes(trust.certificate.device, announceSigningBytes(claim), sig)) return refuse('bad signature')
    if (!this.#nonces.admit(nonceKey, claim.ts, now)) return refuse('replayed nonce')
    return { admitted: true, kind: trust.kind, owner: trust.certificate.owner, device: trust.certificate.device }
  }
}
