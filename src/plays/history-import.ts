// Plays from a DJ program's history (Traktor's history playlists: STARTDATE
// and STARTTIME per entry, NOTES.md "DJ software formats"), as the log's
// import takes them. The file's times are local wall-clock times without a
// zone: they are read in this machine's zone, as the DJ's program wrote them.
// Ids are not the file's: an import is idempotent because a play of the same
// track at the same time from the same source is added once (PlayBook.holdsPlay).

export interface HistoryItem<Ref> {
  ref: Ref
  /** "YYYY-MM-DDTHH:MM:SS", local time. */
  playedAt?: string
  durationS?: number
}

export interface ImportPlay {
  sha256: string
  at: number
  source: string
  listened?: number
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/

/** ms since the epoch of a local wall-clock time, or undefined. */
export function localTimeMs(text: string): number | undefined {
  const m = LOCAL.exec(text)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const at = new Date(y, mo - 1, d, h, mi, s).getTime()
  return Number.isFinite(at) && at >= 0 ? at : undefined
}

export function historyPlays<Ref>(
  history: readonly HistoryItem<Ref>[],
  shaOf: (ref: Ref) => string | undefined,
  source: string,
): { plays: ImportPlay[]; undated: number; unmatched: number } {
  const plays: ImportPlay[] = []
  let undated = 0
  let unmatched = 0
  for (const h of history) {
    const at = h.playedAt === undefined ? undefined : localTimeMs(h.playedAt)
    if (at === undefined) {
      undated++
      continue
    }
    const sha256 = shaOf(h.ref)
    if (!sha256) {
      unmatched++
      continue
    }
    plays.push({ sha256, at, source, ...(h.durationS !== undefined && h.durationS >= 0 && h.durationS < 1e7 ? { listened: Math.round(h.durationS) } : {}) })
  }
  return { plays, undated, unmatched }
}
