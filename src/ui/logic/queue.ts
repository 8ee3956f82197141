// What plays next: a queue is the list a track was started from (a
// playlist, or the library as filtered and sorted); the next entry is the one
// after the current that can play, and its start is prefetched.

export interface QueueEntry {
  sha256: string
  /** false when no device holding it is online (skipped when advancing). */
  playable?: boolean
}

export interface Queue<E extends QueueEntry = QueueEntry> {
  /** Where the queue came from: "playlist:<name>", "library". */
  source: string
  entries: readonly E[]
  /** Index of the playing entry. */
  index: number
}

/** Index of the next playable entry after `from`, or -1 at the end. */
export function nextIndex(entries: readonly QueueEntry[], from: number): number {
  for (let i = Math.max(-1, from) + 1; i < entries.length; i++) if (entries[i]!.playable !== false) return i
  return -1
}

export function previousIndex(entries: readonly QueueEntry[], from: number): number {
  for (let i = Math.min(entries.length, from) - 1; i >= 0; i--) if (entries[i]!.playable !== false) return i
  return -1
}

/** The queue moved on to its next entry, or null when it is over. */
export function advance<E extends QueueEntry>(q: Queue<E>): Queue<E> | null {
  const i = nextIndex(q.entries, q.index)
  return i < 0 ? null : { ...q, index: i }
}

/** The entry to prefetch while `q` plays (null when none follows). */
export function upNext<E extends QueueEntry>(q: Queue<E> | null): E | null {
  if (!q) return null
  const i = nextIndex(q.entries, q.index)
  return i < 0 ? null : q.entries[i]!
}

/**
 * While a playlist plays, the next `count` playable tracks this device does
 * not hold are fetched whole into its cache (a gig must not wait on the
 * network between tracks); a library queue only gets the next track's start.
 */
export function wholeFetchesAhead<E extends QueueEntry & { holders?: ReadonlyArray<{ self: boolean }> }>(q: Queue<E> | null, count: number): E[] {
  if (!q || !q.source.startsWith('playlist:')) return []
  const out: E[] = []
  for (let i = nextIndex(q.entries, q.index); i >= 0 && out.length < count; i = nextIndex(q.entries, i)) {
    const e = q.entries[i]!
    if (!e.holders?.some((h) => h.self)) out.push(e)
  }
  return out
}

/** The queue after its entries changed (a playlist edited while it plays): keeps the playing track's place. */
export function reconcile<E extends QueueEntry>(q: Queue<E>, entries: readonly E[], playing: string): Queue<E> {
  const same = entries.findIndex((e, i) => e.sha256 === playing && i === q.index)
  const index = same >= 0 ? same : entries.findIndex((e) => e.sha256 === playing)
  return { ...q, entries, index }
}

/**
 * A list after moving the item at `from` to `to` (0-based, as POST
 * /api/playlists/<name>/move takes it): shown at once while the node answers.
 */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  if (from < 0 || from >= list.length) return [...list]
  const out = [...list]
  const [x] = out.splice(from, 1)
  out.splice(Math.max(0, Math.min(to, out.length)), 0, x!)
  return out
}

/** The byte range fetched ahead of the next track: enough for the first seconds of any format. */
export const PREFETCH_BYTES = 256 * 1024
export const prefetchRange = (): string => `bytes=0-${PREFETCH_BYTES - 1}`
