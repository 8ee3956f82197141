// Bans by what failed (docs/swarm.md, "Bans"). A failure that proved who it
// was (a device key whose signature over this link verified, bad pieces from
// an authenticated peer) bans that device key, at any address. A failure
// that proved nothing counts against its address, which is then throttled,
// not cut off: behind a NAT, own devices share the address with whoever
// failed, and they still get a few handshakes per window to prove themselves.
import { logger } from '../log/index.ts'

const log = logger('swarm:ban') // DEBUG=djcloud:swarm:ban
export const BAN_WINDOW = 10 * 60_000 // ms in which failures count
export const BAN_FAILURES = 3 // failures within the window that earn a ban (or a throttle)
export const BAN_TIME = 10 * 60_000 // ms a ban or a throttle lasts
/** Handshakes a throttled address gets per THROTTLE_WINDOW: enough for a household's devices to relink, little work for a stranger. */
export const THROTTLE_HANDSHAKES = 4
export const THROTTLE_WINDOW = 60_000 // ms
const MAX_ENTRIES = 10_000 // a peer-controlled collection: capped

export interface BanListOptions {
  now?: () => number
  /**
   * Loopback addresses never count (default true): every process on this
   * machine shares them (several devices in one demo). Tests turn it off to
   * play a NAT's shared address on 127.0.0.1. Identity bans apply anyway.
   */
  exemptLoopback?: boolean
  failures?: number
  windowMs?: number
  banMs?: number
  throttleHandshakes?: number
  throttleWindowMs?: number
}

export interface BanStats {
  /** Addresses throttled now. */
  throttledAddresses: number
  /** Device keys banned now. */
  bannedIdentities: number
  /** Connections from throttled addresses let through to a handshake, since start. */
  throttledAdmitted: number
  /** Connections from throttled addresses closed at once (over their budget), since start. */
  throttledRefused: number
}

const isLoopback = (host: string): boolean => host.startsWith('127.') || host === '::1' || host.startsWith('::ffff:127.')

/** Failure times within a window and ban deadlines, per key (an address or a device key, hex). */
class Strikes {
  private readonly failures = new Map<string, number[]>()
  private readonly until = new Map<string, number>()

  constructor(
    private readonly now: () => number,
    private readonly o: { failures: number; windowMs: number; banMs: number },
  ) {}

  active(key: string): boolean {
    const t = this.until.get(key)
    if (t === undefined) return false
    if (t > this.now()) return true
    this.until.delete(key)
    return false
  }

  /** One failure; true when it earned a ban. */
  add(key: string): boolean {
    const now = this.now()
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.o.windowMs)
    list.push(now)
    if (this.failures.size >= MAX_ENTRIES && !this.failures.has(key)) this.failures.delete(this.failures.keys().next().value!)
    this.failures.set(key, list)
    return list.length >= this.o.failures
  }

  set(key: string): void {
    if (this.until.size >= MAX_ENTRIES && !this.until.has(key)) this.until.delete(this.until.keys().next().value!)
    this.until.set(key, this.now() + this.o.banMs)
    this.failures.delete(key)
  }

  get size(): number {
    const now = this.now()
    let n = 0
    for (const t of this.until.values()) if (t > now) n++
    return n
  }
}

export class BanList {
  private readonly now: () => number
  private readonly exemptLoopback: boolean
  private readonly banMs: number
  private readonly windowMin: number
  private readonly failuresN: number
  private readonly addresses: Strikes
  private readonly identities: Strikes
  private readonly throttleHandshakes: number
  private readonly throttleWindowMs: number
  /** Handshakes let through per throttled address, in its current window. */
  private readonly budget = new Map<string, { start: number; used: number }>()
  private admitted = 0
  private refusedCount = 0

  constructor(opts: BanListOptions = {}) {
    this.now = opts.now ?? Date.now
    this.exemptLoopback = opts.exemptLoopback ?? true
    const o = { failures: opts.failures ?? BAN_FAILURES, windowMs: opts.windowMs ?? BAN_WINDOW, banMs: opts.banMs ?? BAN_TIME }
    this.banMs = o.banMs
    this.windowMin = o.windowMs / 60_000
    this.failuresN = o.failures
    this.addresses = new Strikes(this.now, o)
    this.identities = new Strikes(this.now, o)
    this.throttleHandshakes = opts.throttleHandshakes ?? THROTTLE_HANDSHAKES
    this.throttleWindowMs = opts.throttleWindowMs ?? THROTTLE_WINDOW
  }

  // ---- addresses: failures that proved no identity ------------------------

  /** A failure that proved no identity, from `host`: enough of them throttle it. */
  failure(host: string, why = 'failed proof'): void {
    if (this.exemptLoopback && isLoopback(host)) return
    if (this.addresses.add(host)) this.throttle(host, `${this.failuresN} failures in ${this.windowMin} min (last: ${why})`)
  }

  private throttle(host: string, why: string): void {
    log('throttle %s for %d s: %s', host, this.banMs / 1000, why)
    this.addresses.set(host)
  }

  /** Whether `host` is throttled: few handshakes, short deadlines. */
  throttled(host: string): boolean {
    return this.addresses.active(host)
  }

  /**
   * A new incoming connection from `host`, before any TLS byte: false when
   * the address is throttled and has used its handshakes for this window.
   * Connections this device dials are never asked about.
   */
  admit(host: string): boolean {
    if (!this.throttled(host)) {
      this.budget.delete(host)
      return true
    }
    const now = this.now()
    let b = this.budget.get(host)
    if (!b || now - b.start >= this.throttleWindowMs) {
      if (!b && this.budget.size >= MAX_ENTRIES) this.budget.delete(this.budget.keys().next().value!)
      b = { start: now, used: 0 }
      this.budget.set(host, b)
    }
    if (b.used >= this.throttleHandshakes) {
      this.refusedCount++
      return false
    }
    b.used++
    this.admitted++
    return true
  }

  // ---- identities: failures by a device that proved who it is -------------

  /** A refusal of a device that proved its key (a revoked one): enough of them ban the key. */
  identityFailure(device: string, why: string): void {
    if (this.identities.add(device)) this.banIdentity(device, `${this.failuresN} refused proofs in ${this.windowMin} min (last: ${why})`)
  }

  /** Bans a device key (hex), wherever it connects from. */
  banIdentity(device: string, why: string): void {
    log('ban device %s for %d s: %s', device.slice(0, 16), this.banMs / 1000, why)
    this.identities.set(device)
  }

  identityBanned(device: string): boolean {
    return this.identities.active(device)
  }

  get stats(): BanStats {
    return { throttledAddresses: this.addresses.size, bannedIdentities: this.identities.size, throttledAdmitted: this.admitted, throttledRefused: this.refusedCount }
  }
}
