// Pairing a web browser as a device of the circle, from a link the admin
// device shows (docs/identity.md, "Browser devices"):
//
//   admin page   POST /api/pair/link            -> {url: <ui>/#pair=CODE, expiresAt, qrSvg}
//   new browser  POST /api/pair/browser {code, name, key, sig}
//                                               -> {certificate, roster, circleSecret, token, ...}
//
// The browser makes its Ed25519 key itself and signs the claim with it
// (`claimMessage`), so a certificate is only issued for a key its requester
// holds. The code is the only credential of the claim (the browser has no
// token yet): 128 random bits, kept as SHA-256 and compared in constant time,
// one open at a time, single use (spent by the first claim that presents it,
// whatever happens next), expiring after ttlMs. Wrong codes are counted per
// remote address; past maxFailures in failureWindowMs that address is
// refused (429) before its code is even looked at.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { certifyDevice, encodeCertificate, formatId, IdentityError, verifyBytes, type Identity } from '../identity/index.ts'
import { ApiError } from '../player/index.ts'
import type { DeviceTokens } from './device-tokens.ts'

export const BROWSER_PAIRING_DEFAULTS = {
  ttlMs: 5 * 60_000, // ms a pairing link stays valid
  maxFailures: 5, // wrong codes from one address before it must wait
  failureWindowMs: 60_000, // ms over which wrong codes are counted
} as const
export const CODE_BYTES = 16 // 128 bits, as the pairing secret of `djcloud pair`
/** A code as it travels: base64url of CODE_BYTES. */
export const CODE_SHAPE = /^[A-Za-z0-9_-]{22}$/
/** Codes remembered after they were used or expired, to say so (rather than "wrong"). */
const SPENT_KEPT = 16
/** Addresses whose failures are tracked at once; the oldest is forgotten beyond this. */
const FAILURES_KEPT = 1024

/**
 * What the browser signs with its new key: the code, its public key and its
 * name, one per line (the name last, so a newline in it changes nothing).
 * src/ui/device/claim.ts builds the same bytes in the browser.
 */
export function claimMessage(code: string, key: Uint8Array, name: string): Uint8Array {
  return new TextEncoder().encode(`djcloud-pair-browser/v1\n${code}\n${Buffer.from(key).toString('hex')}\n${name}`)
}

export interface BrowserPairingOptions {
  identity: () => Identity
  tokens: DeviceTokens
  /** A browser joined: the node takes in the roster the pairing wrote (and publishes it). */
  onPaired: () => Promise<void>
  ttlMs?: number
  maxFailures?: number
  failureWindowMs?: number
  now?: () => number
}

export interface BrowserClaim {
  code: string
  /** Already checked by the route (checkDeviceName). */
  name: string
  key: Uint8Array
  sig: Uint8Array
}

/** What the new browser device keeps: everything a device of the circle needs, and its own API token for this node. */
export interface BrowserWelcome {
  device: string
  name: string
  role: 'browser'
  owner: string
  /** base64 of the encoded certificate and of the owner-signed roster. */
  certificate: string
  roster: string
  circleSecret: string
  trackers: string[]
  bootstrap: string[]
  token: string
}

interface OpenCode {
  digest: Buffer
  expires: number
}

const digest = (code: string) => createHash('sha256').update(code, 'utf8').digest()
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')

export class BrowserPairing {
  private open: OpenCode | null = null
  private spent: Array<{ digest: Buffer; why: 'used' | 'expired' }> = []
  private failures = new Map<string, { count: number; since: number }>()
  private readonly now: () => number

  constructor(private readonly opts: BrowserPairingOptions) {
    this.now = opts.now ?? Date.now
  }

  /** A new code, valid ttlMs; it replaces any open one (which then reads as expired). */
  start(ttlMs = this.opts.ttlMs ?? BROWSER_PAIRING_DEFAULTS.ttlMs): { code: string; expiresAt: number } {
    if (!this.opts.identity().owner) throw new ApiError(403, 'ERR_FORBIDDEN', 'pairing needs an admin device (one holding the owner key)')
    if (this.open) this.retire(this.open, 'expired')
    const code = randomBytes(CODE_BYTES).toString('base64url')
    this.open = { digest: digest(code), expires: this.now() + ttlMs }
    return { code, expiresAt: this.open.expires }
  }

  /** Checks the code and, once it matches, spends it and certifies the browser's key. */
  async claim(c: BrowserClaim, remote: string): Promise<BrowserWelcome> {
    this.limit(remote)
    // Signed by the key it names: checked before the code, so a broken client does not spend it.
    if (!verifyBytes(c.key, claimMessage(c.code, c.key, c.name), c.sig)) {
      throw new ApiError(400, 'ERR_BAD_PARAM', 'the signature does not verify under the key sent')
    }
    const given = digest(c.code)
    const open = this.open
    if (!open || !timingSafeEqual(given, open.digest)) {
      const spent = this.spent.find((s) => timingSafeEqual(given, s.digest))
      if (spent?.why === 'used') throw new ApiError(410, 'ERR_PAIRING_USED', 'this pairing link was already used: make a new one on the admin device')
      if (spent) throw new ApiError(410, 'ERR_PAIRING_EXPIRED', 'this pairing link has expired: make a new one on the admin device')
      this.fail(remote)
      throw new ApiError(403, 'ERR_PAIRING_CODE', 'not a pairing code of this device')
    }
    if (open.expires <= this.now()) {
      this.retire(open, 'expired')
      throw new ApiError(410, 'ERR_PAIRING_EXPIRED', 'this pairing link has expired: make a new one on the admin device')
    }
    // Spent before any await: a second claim with the same code, even at once, is refused.
    this.retire(open, 'used')
    let certified
    try {
      certified = await certifyDevice(this.opts.identity(), c.key, c.name, 'browser')
    } catch (err) {
      if (err instanceof IdentityError && err.code === 'ERR_CONFLICT') throw new ApiError(409, 'ERR_CONFLICT', err.message)
      if (err instanceof IdentityError && err.code === 'ERR_NOT_ADMIN') throw new ApiError(403, 'ERR_FORBIDDEN', err.message)
      throw err
    }
    const token = await this.opts.tokens.issue(c.key)
    await this.opts.onPaired()
    const roster = certified.identity.roster
    return {
      device: Buffer.from(c.key).toString('hex'),
      name: certified.certificate.name,
      role: 'browser',
      owner: formatId('owner', roster.owner),
      certificate: b64(encodeCertificate(certified.certificate)),
      roster: b64(certified.rosterBytes),
      circleSecret: b64(certified.identity.circleSecret),
      trackers: roster.trackers,
      bootstrap: roster.bootstrap,
      token,
    }
  }

  private retire(code: OpenCode, why: 'used' | 'expired'): void {
    if (this.open === code) this.open = null
    this.spent = [...this.spent, { digest: code.digest, why }].slice(-SPENT_KEPT)
  }

  private limit(remote: string): void {
    const f = this.failures.get(remote)
    if (!f) return
    if (this.now() - f.since >= (this.opts.failureWindowMs ?? BROWSER_PAIRING_DEFAULTS.failureWindowMs)) {
      this.failures.delete(remote)
      return
    }
    if (f.count >= (this.opts.maxFailures ?? BROWSER_PAIRING_DEFAULTS.maxFailures)) {
      throw new ApiError(429, 'ERR_RATE_LIMITED', 'too many wrong pairing codes from this address: wait a minute')
    }
  }

  private fail(remote: string): void {
    const f = this.failures.get(remote)
    if (f) f.count++
    else {
      if (this.failures.size >= FAILURES_KEPT) this.failures.delete(this.failures.keys().next().value!)
      this.failures.set(remote, { count: 1, since: this.now() })
    }
  }
}
