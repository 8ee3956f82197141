// Nearest first (docs/swarm.md, "Source choice"): the mission's "local cache,
// then a nearby peer, then the stream". A source counts as nearer only when
// its round trip is clearly lower (under half, less 10 ms): on one LAN or
// loopback, jitter (a busy event loop, Wi-Fi) is not distance, and such
// sources share the work as before; a venue LAN at 2-10 ms against a home
// link at 30 ms and more is.
const NEARER_FACTOR = 2
const NEARER_SLACK_MS = 10

/** Whether a round trip of `a` ms is clearly nearer than one of `b` ms; unknown ones are never compared. */
export function clearlyNearer(a: number | undefined, b: number | undefined): boolean {
  return a !== undefined && b !== undefined && a * NEARER_FACTOR + NEARER_SLACK_MS < b
}

/**
 * `xs` by round trip, nearest first, in classes that double (under 10 ms,
 * 10-30, 30-70, ...): within one, and among those not known (last), the order
 * given stays, so sources at one distance are not reordered by jitter.
 */
export function byRtt<T>(xs: Iterable<T>, rtt: (x: T) => number | undefined): T[] {
  const key = (x: T) => {
    const r = rtt(x)
    return r === undefined ? Infinity : Math.floor(Math.log2(1 + Math.max(0, r) / NEARER_SLACK_MS))
  }
  return [...xs].sort((a, b) => (key(a) === key(b) ? 0 : key(a) < key(b) ? -1 : 1))
}

/**
 * The sources worth asking first: every one not clearly farther than the
 * nearest known (sources whose round trip is not known stay in: nothing says
 * they are far).
 */
export function nearestOf<T>(xs: readonly T[], rtt: (x: T) => number | undefined): T[] {
  const known = xs.map(rtt).filter((r): r is number => r !== undefined)
  if (known.length === 0) return [...xs]
  const min = Math.min(...known)
  return xs.filter((x) => !clearlyNearer(min, rtt(x)))
}
