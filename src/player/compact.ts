// GET /api/library?view=compact: the library as rows of plain values in a
// fixed field order, for a table of 20,000 tracks. No TrackView objects are
// made, and the JSON is about a third of the full view's.
import type { TrackRecord } from '../library/index.ts'

export const COMPACT_FIELDS = [
  'sha256', 'audioHash', 'title', 'artist', 'album', 'genre', 'duration', 'format', 'size',
  'bpm', 'key', 'tagBpm', 'tagKey', 'camelot', 'openKey', 'lufs', 'holders', 'cached',
] as const

export interface CompactHolder {
  name: string
  online: boolean
  self: boolean
}

/** A track and the devices holding it, as the node's union library has it (no copy of the record). */
export interface LibraryEntry {
  track: TrackRecord
  holders?: readonly CompactHolder[]
}

/**
 * `bpm` and `key` are the analysis' (the file's own tags are `tagBpm`, `tagKey`); missing values are null.
 * `cached` is 1 when this device has the whole track in its cache of fetched tracks (not in its library).
 */
export function compactRow(t: TrackRecord, holders: readonly CompactHolder[] | undefined, cached = false): unknown[] {
  const tags = t.tags
  const a = t.analysis
  return [
    t.sha256,
    t.audioHash,
    tags.title ?? null,
    tags.artist ?? null,
    tags.album ?? null,
    tags.genre ?? null,
    a?.duration ?? tags.duration ?? null,
    t.format,
    t.size,
    a?.bpm ?? null,
    a?.key ?? null,
    tags.bpm ?? null,
    tags.key ?? null,
    a?.camelot ?? null,
    a?.openKey ?? null,
    a?.lufs ?? null,
    holders ? holders.map((h) => [h.name, h.online ? 1 : 0, h.self ? 1 : 0]) : [],
    cached && !holders?.some((h) => h.self) ? 1 : 0,
  ]
}

export function compactLibrary(entries: Iterable<LibraryEntry>, cached?: (sha256: string) => boolean): { fields: readonly string[]; rows: unknown[][] } {
  const rows: unknown[][] = []
  for (const e of entries) rows.push(compactRow(e.track, e.holders, cached?.(e.track.sha256)))
  return { fields: COMPACT_FIELDS, rows }
}
