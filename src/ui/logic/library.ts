// The library as the table uses it: one array per column, built once from
// GET /api/library?view=compact (or from TrackViews when a node has no
// compact view), so 20,000 tracks make a handful of arrays, not 20,000
// objects. Filters and sorts work on row indices.
import { camelotRank, compatibleKeys, toCamelot } from './camelot.ts'

/** [name, online 0/1, self 0/1] as the compact view sends a holder. */
export type CompactHolder = [string, number, number]

export interface Holder {
  name: string
  online: boolean
  self: boolean
}

export interface Library {
  size: number
  sha256: string[]
  audioHash: string[]
  title: string[]
  artist: string[]
  album: string[]
  genre: string[]
  /** Seconds; NaN when unknown. */
  duration: Float64Array
  format: string[]
  /** Analysed BPM, else the tag's; NaN when neither. */
  bpm: Float64Array
  /** Camelot code ("8A"), from the analysis or the key tag; '' when unknown. */
  camelot: string[]
  /** The key as people read it ("A minor", or the tag's text). */
  keyName: string[]
  holders: Holder[][]
  /** 1 when this device has the track whole in its cache (fetched, not in its own library). */
  cached: Uint8Array
  /** Plays over all own devices (the play history, docs/plays.md); 0 when never played. */
  plays: Float64Array
  /** ms since the epoch of the last play; NaN when never played. */
  lastPlayed: Float64Array
}

export interface CompactLibrary {
  fields: string[]
  rows: unknown[][]
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : String(v))
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : NaN)

function emptyLibrary(n: number): Library {
  return {
    size: n,
    sha256: new Array(n),
    audioHash: new Array(n),
    title: new Array(n),
    artist: new Array(n),
    album: new Array(n),
    genre: new Array(n),
    duration: new Float64Array(n),
    format: new Array(n),
    bpm: new Float64Array(n),
    camelot: new Array(n),
    keyName: new Array(n),
    holders: new Array(n),
    cached: new Uint8Array(n),
    plays: new Float64Array(n),
    lastPlayed: new Float64Array(n).fill(NaN),
  }
}

/** The library with play counts and last plays (GET /api/plays/counts) in its columns. */
export function withPlays(lib: Library, tracks: ReadonlyArray<{ sha256: string; count: number; last: number }>): Library {
  const by = new Map(tracks.map((t) => [t.sha256, t]))
  const plays = new Float64Array(lib.size)
  const lastPlayed = new Float64Array(lib.size).fill(NaN)
  for (let r = 0; r < lib.size; r++) {
    const t = by.get(lib.sha256[r]!)
    if (t) (plays[r] = t.count), (lastPlayed[r] = t.last)
  }
  return { ...lib, plays, lastPlayed }
}

function holdersOf(raw: unknown): Holder[] {
  if (!Array.isArray(raw)) return []
  const out: Holder[] = []
  for (const h of raw) {
    if (Array.isArray(h)) out.push({ name: str(h[0]), online: !!h[1], self: !!h[2] })
    else if (h && typeof h === 'object') {
      const o = h as { name?: unknown; online?: unknown; self?: unknown }
      out.push({ name: str(o.name), online: !!o.online, self: !!o.self })
    }
  }
  return out
}

/** Reads the compact view; columns are found by name, so their order may change. */
export function fromCompact(c: CompactLibrary): Library {
  if (!c || !Array.isArray(c.fields) || !Array.isArray(c.rows)) throw new TypeError('not a compact library')
  const at = (name: string) => c.fields.indexOf(name)
  const I = {
    sha256: at('sha256'), audioHash: at('audioHash'), title: at('title'), artist: at('artist'), album: at('album'),
    genre: at('genre'), duration: at('duration'), format: at('format'), bpm: at('bpm'), key: at('key'),
    tagBpm: at('tagBpm'), tagKey: at('tagKey'), camelot: at('camelot'), holders: at('holders'), cached: at('cached'),
  }
  const get = (row: unknown[], i: number): unknown => (i < 0 ? undefined : row[i])
  const lib = emptyLibrary(c.rows.length)
  for (let r = 0; r < c.rows.length; r++) {
    const row = c.rows[r]!
    lib.sha256[r] = str(get(row, I.sha256))
    lib.audioHash[r] = str(get(row, I.audioHash))
    lib.title[r] = str(get(row, I.title))
    lib.artist[r] = str(get(row, I.artist))
    lib.album[r] = str(get(row, I.album))
    lib.genre[r] = str(get(row, I.genre))
    lib.duration[r] = num(get(row, I.duration))
    lib.format[r] = str(get(row, I.format))
    const bpm = num(get(row, I.bpm))
    lib.bpm[r] = Number.isFinite(bpm) ? bpm : num(get(row, I.tagBpm))
    const key = str(get(row, I.key)) || str(get(row, I.tagKey))
    lib.keyName[r] = key
    lib.camelot[r] = toCamelot(str(get(row, I.camelot))) ?? toCamelot(key) ?? ''
    lib.holders[r] = holdersOf(get(row, I.holders))
    lib.cached[r] = get(row, I.cached) === 1 ? 1 : 0
  }
  return lib
}

/** The subset of TrackView this reads (GET /api/library without the compact view). */
export interface TrackViewLike {
  sha256: string
  audioHash?: string
  format?: string
  tags?: { title?: string; artist?: string; album?: string; genre?: string; duration?: number; bpm?: number; key?: string }
  paths?: string[]
  analysis?: { bpm?: number; key?: string; camelot?: string; duration?: number }
  holders?: Array<{ name: string; online: boolean; self: boolean }>
}

export function fromTrackViews(tracks: TrackViewLike[]): Library {
  const lib = emptyLibrary(tracks.length)
  tracks.forEach((t, r) => {
    const tags = t.tags ?? {}
    lib.sha256[r] = t.sha256
    lib.audioHash[r] = t.audioHash ?? ''
    lib.title[r] = tags.title ?? basename(t.paths?.[0] ?? '')
    lib.artist[r] = tags.artist ?? ''
    lib.album[r] = tags.album ?? ''
    lib.genre[r] = tags.genre ?? ''
    lib.duration[r] = num(t.analysis?.duration ?? tags.duration)
    lib.format[r] = t.format ?? ''
    lib.bpm[r] = num(t.analysis?.bpm ?? tags.bpm)
    lib.keyName[r] = t.analysis?.key ?? tags.key ?? ''
    lib.camelot[r] = toCamelot(t.analysis?.camelot) ?? toCamelot(tags.key) ?? ''
    lib.holders[r] = holdersOf(t.holders ?? [])
  })
  return lib
}

const basename = (p: string) => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1)

/** Lower case without accents: "Beyoncé" and "BEYONCE" both read "beyonce". */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase()
}

/** The folded text search runs over, one string per row; built on first search. */
export function searchIndex(lib: Library): string[] {
  const out = new Array<string>(lib.size)
  for (let r = 0; r < lib.size; r++) {
    out[r] = fold(`${lib.title[r]}\u0000${lib.artist[r]}\u0000${lib.album[r]}\u0000${lib.genre[r]}\u0000${lib.keyName[r]}\u0000${lib.camelot[r]}`)
  }
  return out
}

export interface Filter {
  /** Every word must appear (accents and case ignored). */
  query?: string
  bpmMin?: number
  bpmMax?: number
  /** Only these Camelot codes (e.g. compatibleKeys(playing)). */
  keys?: ReadonlySet<string>
}

/** Row indices that pass the filter, in `order` (all rows in library order by default). */
export function filterRows(lib: Library, filter: Filter, order?: ArrayLike<number>, index?: () => string[]): number[] {
  const words = fold(filter.query ?? '').split(/\s+/).filter(Boolean)
  const hay = words.length ? (index ?? (() => searchIndex(lib)))() : undefined
  const min = Number.isFinite(filter.bpmMin) ? filter.bpmMin! : -Infinity
  const max = Number.isFinite(filter.bpmMax) ? filter.bpmMax! : Infinity
  const bpmOn = min > -Infinity || max < Infinity
  const keys = filter.keys
  const n = order ? order.length : lib.size
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const r = order ? order[i]! : i
    if (bpmOn) {
      const b = lib.bpm[r]!
      if (!(b >= min && b <= max)) continue
    }
    if (keys && !keys.has(lib.camelot[r]!)) continue
    if (hay) {
      const h = hay[r]!
      let ok = true
      for (const w of words) if (!h.includes(w)) { ok = false; break }
      if (!ok) continue
    }
    out.push(r)
  }
  return out
}

export const SORT_COLUMNS = ['title', 'artist', 'album', 'bpm', 'key', 'duration', 'format', 'plays', 'lastPlayed'] as const
export type SortColumn = (typeof SORT_COLUMNS)[number]

/**
 * Row indices in column order; rows without a value go last in both
 * directions, ties keep library order (a stable sort).
 */
export function sortOrder(lib: Library, column: SortColumn, descending = false): Int32Array {
  const idx = Array.from({ length: lib.size }, (_, i) => i)
  const dir = descending ? -1 : 1
  let cmp: (a: number, b: number) => number
  if (column === 'bpm' || column === 'duration' || column === 'key' || column === 'plays' || column === 'lastPlayed') {
    const v = column === 'bpm' ? lib.bpm : column === 'duration' ? lib.duration : column === 'plays' ? lib.plays : column === 'lastPlayed' ? lib.lastPlayed : Float64Array.from(lib.camelot, camelotRank)
    cmp = (a, b) => {
      const x = v[a]!
      const y = v[b]!
      const nx = Number.isNaN(x)
      const ny = Number.isNaN(y)
      if (nx || ny) return nx === ny ? a - b : nx ? 1 : -1
      return x === y ? a - b : (x - y) * dir
    }
  } else {
    // Sort keys made once: folded text compared with < is far faster than a
    // collator per pair, and folding already ignores case and accents.
    const keys = lib[column].map(fold)
    cmp = (a, b) => {
      const x = keys[a]!
      const y = keys[b]!
      if (!x || !y) return !x && !y ? a - b : !x ? 1 : -1
      if (x === y) return a - b
      return (x < y ? -1 : 1) * dir
    }
  }
  idx.sort(cmp)
  return Int32Array.from(idx)
}

/** The Camelot codes compatible with a row's key (empty when it has none). */
export function compatibleWith(lib: Library, row: number): Set<string> {
  return compatibleKeys(lib.camelot[row])
}

export function rowOf(lib: Library, sha256: string): number {
  return lib.sha256.indexOf(sha256)
}
