// Addresses whose dials failed, left alone for a while that doubles with each
// failure in a row (first `firstMs`, at most `maxMs`) and is forgotten on a
// success. A dial that fails cannot say why: a device refusing us (another
// friend's device on the same channel, which counts refusals towards a ban)
// and a device killed or restarting mid-handshake both just close the
// connection. A flat long block for the first failure left a friend without
// an owner's new backups for an hour after one restart of the owner's device.

/**
 * Whether a dial failed only because nobody answered there now (refused,
 * unreachable, timed out): worth trying again soon. Anything else closed at
 * the wire, which may be a refusal of us.
 */
export function unreachable(err: Error): boolean {
  return /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|in time/.test(err.message)
}

export interface DialBackoffOptions {
  /** ms an address is left alone after its first failure (default 30 s). */
  firstMs?: number
  /** ms at most (default 1 hour). */
  maxMs?: number
  /** Addresses remembered at most; the oldest are forgotten first. */
  maxEntries?: number
  now?: () => number
}

export class DialBackoff {
  private readonly entries = new Map<string, { failures: number; until: number }>()

  constructor(private readonly opts: DialBackoffOptions = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)()
  }

  /** Whether the address may be dialled now. */
  allows(key: string): boolean {
    const e = this.entries.get(key)
    return !e || e.until <= this.now()
  }

  failed(key: string): void {
    const failures = (this.entries.get(key)?.failures ?? 0) + 1
    const wait = Math.min(this.opts.maxMs ?? 60 * 60_000, (this.opts.firstMs ?? 30_000) * 2 ** Math.min(failures - 1, 20))
    this.entries.delete(key) // re-inserted last: the map's order is the order of last failure
    this.entries.set(key, { failures, until: this.now() + wait })
    const max = this.opts.maxEntries ?? 10_000
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!)
  }

  succeeded(key: string): void {
    this.entries.delete(key)
  }
}
