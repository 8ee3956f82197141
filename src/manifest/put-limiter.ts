// A token bucket per source address for BEP 44 puts: each address may put
// `burst` items at once and `rate` a second after that. Per address, not per
// address and port: a flooder picks ports freely. The map of buckets is
// capped; when it is full of addresses that are still below a full bucket,
// an address not in it yet is refused until one refills (failing closed: a
// flood from many addresses cannot reset its own buckets by crowding the map).
export interface PutLimits {
  /** Puts a second an address may keep up (default 5). */
  rate: number
  /** Puts an address may make at once (default 200: a device re-putting its items in a small DHT). */
  burst: number
  /** Addresses tracked at most (default 10,000). */
  maxSources?: number
}

export const DEFAULT_PUT_LIMITS: Readonly<Required<PutLimits>> = { rate: 5, burst: 200, maxSources: 10_000 }

export class PutLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #rate: number
  readonly #burst: number
  readonly #maxSources: number
  /** Puts refused so far. */
  refused = 0

  constructor(
    limits: Partial<PutLimits> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    const l = { ...DEFAULT_PUT_LIMITS, ...limits }
    if (!(l.rate > 0) || !(l.burst >= 1) || !Number.isInteger(l.maxSources) || l.maxSources < 1) {
      throw new RangeError('put limits: rate > 0, burst >= 1 and maxSources >= 1 (an integer)')
    }
    this.#rate = l.rate
    this.#burst = l.burst
    this.#maxSources = l.maxSources
  }

  /** Takes one token for `address`; false when it has none left (the put is refused). */
  take(address: string): boolean {
    const now = this.now()
    let b = this.#buckets.get(address)
    if (b) {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate)
      b.at = now
    } else {
      if (this.#buckets.size >= this.#maxSources) this.#prune(now)
      if (this.#buckets.size >= this.#maxSources) {
        this.refused++
        return false
      }
      b = { tokens: this.#burst, at: now }
      this.#buckets.set(address, b)
    }
    if (b.tokens < 1) {
      this.refused++
      return false
    }
    b.tokens -= 1
    return true
  }

  /** Addresses tracked now. */
  get sources(): number {
    return this.#buckets.size
  }

  /** Drops buckets that have refilled: an absent address starts full, so they are the same. */
  #prune(now: number): void {
    for (const [addr, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(addr)
    }
  }
}
