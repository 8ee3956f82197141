// A device's library manifest, split so an update resends only what changed.
// Tracks are sorted into pages by the first bytes of their SHA-256; each page
// is a blob of its own, and the signed root (the envelope body) lists the
// pages' SHA-256s and this device's playlists. Changing one track changes one
// page and the root; the other pages are already held by every reader.
import { asBytes, asDict, asInt, asList, asStrictDict, asString, decode, encode, fieldList, BencodeError, type BDict, type BValue } from '../codec/index.ts'
import type { AudioFormat, Tags } from '../library/index.ts'
import { DEFAULT_TEMPO_RANGE, type Analysis, type TempoRange, type WaveformLevel } from '../analysis/index.ts'
import { ManifestError } from './errors.ts'
import { LIBRARY_CAPS, rootPageCount } from './library-root.ts'
import { cueEntriesFromValue, cueEntriesToValue, type CueSets } from './cue-manifest.ts'
import { noteEntriesFromValue, noteEntriesToValue, type NoteSets } from './note-manifest.ts'
import { CUE_CAPS, NOTE_CAPS, type CueRegister, type NoteRegister } from '../library/index.ts'

export { LIBRARY_CAPS, pageCountFor, rootPageCount, rootToBody, rootFromBody } from './library-root.ts'
export type { LibraryRoot, PlaylistRef } from './library-root.ts'

/** What a library manifest says about one track. */
export interface ManifestTrack {
  sha256: string
  audioHash: string
  size: number
  format: AudioFormat
  tags: Omit<Tags, 'hasCover' | 'comment' | 'codec'> & { hasCover?: boolean }
  /** As analysed on the publishing device, so no other own device analyses it again. */
  analysis?: ManifestAnalysis
}

/** An analysis as a library manifest carries it: the summary and the coarsest waveform level (about 128 columns). */
export type ManifestAnalysis = Omit<Analysis, 'waveform'> & { overview?: WaveformLevel }

const MAX_OVERVIEW_COLUMNS = 512
/** The longest string on a page: a grid of 4096 rows (11 bytes each) in a note. */
const MAX_STRING_BYTES = 4096 * 11

const FORMATS: readonly AudioFormat[] = ['mp3', 'flac', 'wav', 'aiff', 'm4a', 'ogg', 'opus']
const HEX64 = /^[0-9a-f]{64}$/
const TEXT_TAGS = ['title', 'artist', 'album', 'albumArtist', 'genre', 'key'] as const
const INT_TAGS = ['year', 'trackNo', 'bitrate', 'sampleRate', 'channels'] as const
// The fields of each part. The root and tracks accept nothing else (the root decides the page layout); a page's
// sections and cue/note registers a later version adds are passed over (docs/decisions/library-page-extensions.md).
const TRACK_FIELDS = fieldList('sha256', 'audio', 'size', 'format', 'tags', 'analysis')
const TAG_FIELDS = fieldList(...TEXT_TAGS, ...INT_TAGS, 'durationMs', 'centiBpm', 'cover')
const ANALYSIS_FIELDS = fieldList(
  'v', 'durationMs', 'centiBpm', 'centiRange', 'bpmConfidence', 'beatOffsetMs', 'key', 'camelot', 'openKey', 'keyStrength', 'centiLufs', 'centiPeakDb', 'overview',
)
const OVERVIEW_FIELDS = fieldList('columns', 'msPerColumn', 'data')
const MAX_TAG_BYTES = 1024

const malformed = (message: string): never => {
  throw new ManifestError('ERR_MALFORMED', message)
}

/** Which page a track goes to: the top bits of its SHA-256, so pages are stable as tracks come and go. */
export function pageOf(sha256: string, pageCount: number): number {
  return Math.floor((parseInt(sha256.slice(0, 6), 16) * pageCount) / 0x1000000)
}

function trackToValue(t: ManifestTrack): BDict | Record<string, unknown> {
  const tags: Record<string, unknown> = {}
  for (const k of TEXT_TAGS) if (t.tags[k]) tags[k] = t.tags[k]
  for (const k of INT_TAGS) if (t.tags[k] !== undefined && Number.isFinite(t.tags[k])) tags[k] = Math.round(t.tags[k]!)
  if (t.tags.duration !== undefined && Number.isFinite(t.tags.duration)) tags.durationMs = Math.round(t.tags.duration * 1000)
  if (t.tags.bpm !== undefined && Number.isFinite(t.tags.bpm)) tags.centiBpm = Math.round(t.tags.bpm * 100)
  if (t.tags.hasCover) tags.cover = 1
  const out: Record<string, unknown> = { sha256: Buffer.from(t.sha256, 'hex'), audio: Buffer.from(t.audioHash, 'hex'), size: t.size, format: t.format, tags }
  if (t.analysis) out.analysis = analysisToValue(t.analysis)
  return out
}

// Numbers are scaled to integers (bencode has no floats): ms, hundredths, thousandths.
function analysisToValue(a: ManifestAnalysis): Record<string, unknown> {
  const v: Record<string, unknown> = {
    v: a.version,
    durationMs: Math.round(a.duration * 1000),
    centiBpm: Math.round(a.bpm * 100),
    centiRange: [Math.round(a.tempoRange.min * 100), Math.round(a.tempoRange.max * 100)],
    bpmConfidence: Math.round(a.bpmConfidence * 1000),
    beatOffsetMs: Math.round(a.beatOffset * 1000),
    key: a.key,
    camelot: a.camelot,
    openKey: a.openKey,
    keyStrength: Math.round(a.keyStrength * 1000),
    centiLufs: Math.round(a.lufs * 100),
    centiPeakDb: Math.round(a.peakDb * 100),
  }
  if (a.overview) v.overview = { columns: a.overview.columns, msPerColumn: Math.round(a.overview.secondsPerColumn * 1000), data: a.overview.data }
  return v
}

// Analyses of analyser version 2 went out before the range did: all of them used the default.
function tempoRangeFromValue(v: BValue | undefined): TempoRange {
  if (v === undefined) return { ...DEFAULT_TEMPO_RANGE }
  const list = asList(v, 'centiRange', 2)
  if (list.length !== 2) malformed('a tempo range is two numbers')
  const [min, max] = list.map((x) => asInt(x, 'centiRange') / 100) as [number, number]
  if (!(min > 0 && max >= min && max <= 1000)) malformed('an analysis has an impossible tempo range')
  return { min, max }
}

function analysisFromValue(v: BValue): ManifestAnalysis {
  const d = asStrictDict(v, ANALYSIS_FIELDS, 'analysis')
  const a: ManifestAnalysis = {
    version: asInt(d.v, 'analysis version'),
    duration: asInt(d.durationMs, 'durationMs') / 1000,
    bpm: asInt(d.centiBpm, 'centiBpm') / 100,
    tempoRange: tempoRangeFromValue(d.centiRange),
    bpmConfidence: asInt(d.bpmConfidence, 'bpmConfidence') / 1000,
    beatOffset: asInt(d.beatOffsetMs, 'beatOffsetMs') / 1000,
    key: asString(d.key, 'key', 32),
    camelot: asString(d.camelot, 'camelot', 4),
    openKey: asString(d.openKey, 'openKey', 4),
    keyStrength: asInt(d.keyStrength, 'keyStrength') / 1000,
    lufs: asInt(d.centiLufs, 'centiLufs') / 100,
    peakDb: asInt(d.centiPeakDb, 'centiPeakDb') / 100,
  }
  if (a.bpm <= 0 || a.bpm > 1000 || a.duration < 0) malformed('an analysis has an impossible tempo or duration')
  if (d.overview !== undefined) {
    const o = asStrictDict(d.overview, OVERVIEW_FIELDS, 'overview')
    const columns = asInt(o.columns, 'columns')
    const data = asBytes(o.data, 'overview data')
    if (columns < 1 || columns > MAX_OVERVIEW_COLUMNS || data.length !== columns * 4) malformed('an overview waveform has the wrong size')
    a.overview = { columns, secondsPerColumn: asInt(o.msPerColumn, 'msPerColumn') / 1000, data }
  }
  return a
}

function trackFromValue(v: BValue, intern: (s: string) => string): ManifestTrack {
  const d = asStrictDict(v, TRACK_FIELDS, 'track')
  const sha256 = Buffer.from(asBytes(d.sha256, 'sha256', 32)).toString('hex')
  const audioHash = Buffer.from(asBytes(d.audio, 'audio', 32)).toString('hex')
  const size = asInt(d.size, 'size')
  if (!Number.isSafeInteger(size) || size <= 0) malformed('a track size must be a positive integer')
  const format = intern(asString(d.format, 'format', 8)) as AudioFormat
  if (!FORMATS.includes(format)) malformed(`unknown track format "${format}"`)
  const td = asStrictDict(d.tags, TAG_FIELDS, 'tags')
  const tags: ManifestTrack['tags'] = {}
  for (const k of TEXT_TAGS) if (td[k] !== undefined) tags[k] = intern(asString(td[k], k, MAX_TAG_BYTES))
  for (const k of INT_TAGS) if (td[k] !== undefined) tags[k] = asInt(td[k], k)
  if (td.durationMs !== undefined) tags.duration = asInt(td.durationMs, 'durationMs') / 1000
  if (td.centiBpm !== undefined) tags.bpm = asInt(td.centiBpm, 'centiBpm') / 100
  if (td.cover !== undefined) tags.hasCover = asInt(td.cover, 'cover') === 1
  const out: ManifestTrack = { sha256, audioHash, size, format, tags }
  if (d.analysis !== undefined) out.analysis = analysisFromValue(d.analysis)
  return out
}

/**
 * Splits tracks into pages (plain bencoded bytes, one per bucket, in bucket
 * order); this device's cue registers go on the page their audio hash names.
 */
export function encodePages(tracks: readonly ManifestTrack[], cues: CueSets = new Map(), notes: NoteSets = new Map()): Uint8Array[] {
  if (tracks.length > LIBRARY_CAPS.tracks) throw new ManifestError('ERR_TOO_LARGE', `a library manifest holds at most ${LIBRARY_CAPS.tracks} tracks`)
  cues = new Map([...cues].filter(([, regs]) => regs.length > 0))
  if (cues.size > CUE_CAPS.recordings) throw new ManifestError('ERR_TOO_LARGE', `a library manifest holds cues of at most ${CUE_CAPS.recordings} recordings`)
  notes = new Map([...notes].filter(([, regs]) => regs.length > 0))
  if (notes.size > NOTE_CAPS.recordings) throw new ManifestError('ERR_TOO_LARGE', `a library manifest holds notes of at most ${NOTE_CAPS.recordings} recordings`)
  const n = rootPageCount({ count: tracks.length, cued: cues.size, noted: notes.size })
  const buckets: ManifestTrack[][] = Array.from({ length: n }, () => [])
  for (const t of tracks) buckets[pageOf(t.sha256, n)]!.push(t)
  const cueBuckets: Array<Array<[string, readonly CueRegister[]]>> = Array.from({ length: n }, () => [])
  for (const [audio, regs] of cues) cueBuckets[pageOf(audio, n)]!.push([audio, regs])
  const noteBuckets: Array<Array<[string, readonly NoteRegister[]]>> = Array.from({ length: n }, () => [])
  for (const [audio, regs] of notes) noteBuckets[pageOf(audio, n)]!.push([audio, regs])
  return buckets.map((b, i) => {
    b.sort((x, y) => (x.sha256 < y.sha256 ? -1 : x.sha256 > y.sha256 ? 1 : 0))
    const page: Record<string, unknown> = { tracks: b.map(trackToValue) }
    const c = cueEntriesToValue(cueBuckets[i]!)
    if (c.length) page.cues = c
    const o = noteEntriesToValue(noteBuckets[i]!)
    if (o.length) page.notes = o
    return encode(page as never)
  })
}

/**
 * Reads one page; `index` and `pageCount` say which SHA-256s (and audio
 * hashes of cues) may be on it. `intern` may return one shared copy of equal
 * tag texts.
 */
export function decodeLibraryPage(
  plain: Uint8Array, index: number, pageCount: number, intern: (s: string) => string = (s) => s,
): { tracks: ManifestTrack[]; cues: Map<string, CueRegister[]>; notes: Map<string, NoteRegister[]> } {
  try {
    // A page's sections this version does not know (a later version's) are passed over: docs/decisions/library-page-extensions.md.
    const d = asDict(
      decode(plain, { maxBytes: LIBRARY_CAPS.pageBytes, maxDepth: 5, maxItems: LIBRARY_CAPS.tracksPerPage * 48, maxStringBytes: MAX_STRING_BYTES }),
      'page',
    )
    const list = asList(d.tracks, 'tracks', LIBRARY_CAPS.tracksPerPage)
    const out = list.map((v) => trackFromValue(v, intern))
    for (let i = 0; i < out.length; i++) {
      if (pageOf(out[i]!.sha256, pageCount) !== index) malformed('a track sits on the wrong page')
      if (i > 0 && out[i - 1]!.sha256 >= out[i]!.sha256) malformed('a page is not sorted by SHA-256 or repeats a track')
    }
    const cues = cueEntriesFromValue(d.cues, (audio) => pageOf(audio, pageCount) === index, LIBRARY_CAPS.tracksPerPage)
    const notes = noteEntriesFromValue(d.notes, (audio) => pageOf(audio, pageCount) === index, LIBRARY_CAPS.tracksPerPage)
    return { tracks: out, cues, notes }
  } catch (err) {
    if (err instanceof BencodeError) throw new ManifestError(err.overLimit ? 'ERR_TOO_LARGE' : 'ERR_MALFORMED', `library page: ${err.message}`)
    throw err
  }
}

/** The tracks of one page (see decodeLibraryPage). */
export function decodePage(plain: Uint8Array, index: number, pageCount: number, intern: (s: string) => string = (s) => s): ManifestTrack[] {
  return decodeLibraryPage(plain, index, pageCount, intern).tracks
}

export const isSha256Hex = (s: string) => HEX64.test(s)
