// Remembers announce nonces so a captured announce cannot be replayed.
//
// A nonce must stay unseen for REPLAY_WINDOW. Memory is capped: when the cap
// is reached the oldest nonce is forgotten, and so that forgetting cannot
// open a replay, every announce whose timestamp is not newer than the
// forgotten nonce's is refused from then on (it might be the replay of that
// nonce). Honest devices send current timestamps, so they are not affected.
// Nonces that leave the window by age need no such floor: an announce that
// old already fails the freshness check (REPLAY_WINDOW > 2 x MAX_SKEW).

export const REPLAY_WINDOW = 5 * 60_000 // ms, docs/tracker.md
export const DEFAULT_NONCE_CAP = 100_000 // entries, ~10 MB at most

interface Seen {
  /** tracker clock when first seen, ms */
  at: number
  /** the announce's own timestamp, ms */
  ts: number
}

export class NonceCache {
  readonly #seen = new Map<string, Seen>()
  #floor = -Infinity

  constructor(
    readonly cap = DEFAULT_NONCE_CAP,
    readonly windowMs = REPLAY_WINDOW,
  ) {
    if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError('the nonce cap must be a positive integer')
  }

  get size(): number {
    return this.#seen.size
  }

  /**
   * Records the nonce and returns true when it is fresh; false for a nonce
   * seen within the window, or a timestamp at or below the forgetting floor.
   */
  admit(nonce: string, ts: number, now: number): boolean {
    this.#expire(now)
    if (this.#seen.has(nonce) || ts <= this.#floor) return false
    while (this.#seen.size >= this.cap) {
      const oldest = this.#seen.entries().next().value
      if (!oldest) break
      this.#seen.delete(oldest[0])
      this.#floor = Math.max(this.#floor, oldest[1].ts)
    }
    this.#seen.set(nonce, { at: now, ts })
    return true
  }

  /** Drops nonces older than the window (Map order is insertion order, i.e. time order). */
  #expire(now: number): void {
    for (const [nonce, seen] of this.#seen) {
      if (now - seen.at < this.windowMs) break
      this.#seen.delete(nonce)
    }
  }
}
