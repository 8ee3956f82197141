// What a backup holds, and its canonical encoding: one bencoded dict,
// brotli-compressed before it is sealed (format.ts). Everything decoded here
// is checked as hostile input with hard caps, even though it only decrypts
// under the owner's backup key: a bug or a damaged disk on the device that
// made it must not be able to hurt the device that restores it.
//
//   { type: "djcloud-backup", v: 1, owner, seq, created,       (repeat the header: bound again inside)
//     device: {key, name},                                      the admin device that made it
//     roster: <the owner-signed roster bytes>,
//     playlists: [{name, author, edits}],     every own device's edit set of every playlist (author = device key)
//     cues: [{author, sets: [{audio, regs}]}],  every own device's cue registers, by recording
//     notes?: [{author, sets: [{audio, regs}]}], every own device's note registers (grid, key, rating, ...), by recording;
//                                             absent when there are none, so a backup without notes is what it was
//     plays?: [line],                         every own device's play-log entries (docs/plays.md) as signed JSON lines,
//                                             sorted; absent when there are none
//     analyses: [{audio, rec, wave?}],        the library store's analyses (rec: JSON text), by audio hash,
//                                             wave: [{cols, spc, data}] (spc: seconds per column as text, data: 4 bytes a column)
//     manifests: {libraries: [sha256], playlists: [sha256], blobs: [bytes]} }
//
// Lists are sorted and hold no repeats, so the encoding of a content is unique.
import { createHash } from 'node:crypto'
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import {
  BencodeError, asBytes, asDict, asInt, asString, decode, encode, type BDict, type BInput, type BValue,
} from '../codec/index.ts'
import { IdentityError, verifyRoster, type Roster } from '../identity/index.ts'
import type { CueRegister, NoteRegister, StoredAnalysis, StoredWaveform } from '../library/index.ts'
import {
  ManifestError, MAX_BLOB_BYTES, MAX_NAME_BYTES, cueEntriesFromValue, cueEntriesToValue, editsFromBody, editsToBody, noteEntriesFromValue, noteEntriesToValue,
  type PlaylistEdits,
} from '../manifest/index.ts'
import { BackupError } from './errors.ts'

export const CONTENT_TYPE = 'djcloud-backup'

/** Hard caps, checked while decoding. */
export const BACKUP_CAPS = {
  /**
   * The decompressed content (what brotli may inflate to). An analysed
   * recording costs about 5 KB (a 4.6 KB waveform and its record), so this
   * holds some 45,000 of them beside the manifests.
   */
  contentBytes: 256 * 1024 * 1024,
  depth: 10,
  /** Items across all lists and dicts. */
  items: 4_000_000,
  /** Longest byte string: a manifest blob. */
  stringBytes: MAX_BLOB_BYTES,
  /** (playlist, author) edit sets. */
  playlistSets: 8192,
  /** Devices whose cue registers are carried. */
  cueAuthors: 256,
  /** Recordings per device with cue registers. */
  cueRecordings: 100_000,
  analyses: 200_000,
  /** One analysis record, as JSON text. */
  recordBytes: 4096,
  waveformLevels: 4,
  waveformColumns: 8192,
  blobs: 65_536,
  deviceNameBytes: 64,
  /** Play-log entries, and the bytes of one (its JSON line). */
  plays: 1_000_000,
  playBytes: 1024,
} as const

export interface BackupPlaylistSet {
  name: string
  /** The device key (hex) that authored these edits. */
  author: string
  edits: PlaylistEdits
}

export interface BackupAnalysis {
  /** Audio hash, 64 hex. */
  audio: string
  record: StoredAnalysis
  waveform?: StoredWaveform
}

export interface BackupContent {
  owner: Uint8Array
  seq: number
  created: number
  /** The admin device that made the backup. */
  device: { key: Uint8Array; name: string }
  /** The roster exactly as the owner signed it. */
  roster: Uint8Array
  playlists: BackupPlaylistSet[]
  /** Cue registers by author (device key hex), then by audio hash. */
  cues: Map<string, Map<string, CueRegister[]>>
  /** Note registers by author (device key hex), then by audio hash (absent or empty: none). */
  notes?: Map<string, Map<string, NoteRegister[]>>
  /** Play-log entries of every own device, each a signed JSON line (checked again where restored). */
  plays?: string[]
  analyses: BackupAnalysis[]
  manifests: {
    /** SHA-256 (hex) of the library root blobs: every own device's signed library manifest this device held. */
    libraries: string[]
    /** SHA-256 (hex) of signed playlist manifest blobs. */
    playlists: string[]
    /** The blobs, by SHA-256 hex: those roots, their pages and the playlists they name. */
    blobs: Map<string, Uint8Array>
  }
}

/** A decoded content with its roster verified. */
export interface CheckedContent extends BackupContent {
  rosterDecoded: Roster
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const bad = (message: string): never => {
  throw new BackupError('ERR_CONTENT', message)
}
const tooLarge = (message: string): never => {
  throw new BackupError('ERR_TOO_LARGE', message)
}
const HEX64 = /^[0-9a-f]{64}$/

export function encodeContent(c: BackupContent): Uint8Array {
  const playlists = [...c.playlists].sort((a, b) => cmp(a.name, b.name) || cmp(a.author, b.author))
  const cues = [...c.cues].filter(([, sets]) => [...sets.values()].some((r) => r.length > 0)).sort(([a], [b]) => cmp(a, b))
  const notes = [...(c.notes ?? [])].filter(([, sets]) => [...sets.values()].some((r) => r.length > 0)).sort(([a], [b]) => cmp(a, b))
  const analyses = [...c.analyses].sort((a, b) => cmp(a.audio, b.audio))
  const blobs = [...c.manifests.blobs].sort(([a], [b]) => cmp(a, b))
  const value: { [key: string]: BInput } = {
    type: CONTENT_TYPE,
    v: 1,
    owner: c.owner,
    seq: c.seq,
    created: c.created,
    device: { key: c.device.key, name: c.device.name },
    roster: c.roster,
    playlists: playlists.map((p) => ({ name: p.name, author: Buffer.from(p.author, 'hex'), edits: editsToBody(p.edits) })),
    cues: cues.map(([author, sets]) => ({ author: Buffer.from(author, 'hex'), sets: cueEntriesToValue([...sets]) as BInput[] })),
    ...(notes.length ? { notes: notes.map(([author, sets]) => ({ author: Buffer.from(author, 'hex'), sets: noteEntriesToValue([...sets]) as BInput[] })) } : {}),
    ...(c.plays?.length ? { plays: [...new Set(c.plays)].sort().map((l) => Buffer.from(l, 'utf8')) } : {}),
    analyses: analyses.map((a) => {
      const out: { [key: string]: BInput } = { audio: Buffer.from(a.audio, 'hex'), rec: JSON.stringify(a.record) }
      if (a.waveform) out.wave = a.waveform.levels.map((l) => ({ cols: l.columns, spc: String(l.secondsPerColumn), data: Buffer.from(l.data, 'base64') }))
      return out
    }),
    manifests: {
      libraries: [...new Set(c.manifests.libraries)].sort().map((s) => Buffer.from(s, 'hex')),
      playlists: [...new Set(c.manifests.playlists)].sort().map((s) => Buffer.from(s, 'hex')),
      blobs: blobs.map(([, b]) => b),
    },
  }
  return encode(value)
}

/** brotli at quality 5, as manifest blobs are. */
export function compressContent(plain: Uint8Array): Uint8Array {
  return brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length } })
}

/** Inflates decrypted content, refusing to go past the content cap (no decompression bombs). */
export function decompressContent(data: Uint8Array, maxBytes: number = BACKUP_CAPS.contentBytes): Uint8Array {
  try {
    return brotliDecompressSync(data, { maxOutputLength: maxBytes })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|too large/i.test((err as Error).message)) {
      return tooLarge(`the backup content inflates past the ${maxBytes}-byte cap`)
    }
    return bad(`the backup content is not valid compressed data: ${(err as Error).message}`)
  }
}

/** A list of at most `max` items; more is a cap, not a syntax error. */
function capped(v: BValue | undefined, what: string, max: number): BValue[] {
  if (!Array.isArray(v)) return bad(`${what}: expected a list`)
  if (v.length > max) tooLarge(`${what}: ${v.length} items, over the cap of ${max}`)
  return v
}

function only(d: BDict, what: string, keys: readonly string[]): void {
  for (const k of Object.keys(d)) if (!keys.includes(k)) bad(`${what}: unknown field "${k.slice(0, 32)}"`)
}

function sortedUnique(keys: string[], what: string): void {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! >= keys[i]!) bad(`${what} are not sorted or repeat one`)
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`${what}: expected a number`)
  return v
}

function shortText(v: unknown, what: string, maxBytes = 64): string {
  if (typeof v !== 'string' || Buffer.byteLength(v) > maxBytes) return bad(`${what}: expected text of at most ${maxBytes} bytes`)
  return v
}

function json(v: BValue | undefined, what: string, maxBytes: number): Record<string, unknown> {
  const text = asString(v, what, maxBytes)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return bad(`${what}: not JSON`)
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return bad(`${what}: expected an object`)
  return parsed as Record<string, unknown>
}

function object(v: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad(`${what}: expected an object`)
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${what}: unknown field "${k.slice(0, 32)}"`)
  return o
}

const SUMMARY_NUMBERS = ['version', 'duration', 'bpm', 'bpmConfidence', 'beatOffset', 'keyStrength', 'lufs', 'peakDb'] as const
const SUMMARY_TEXTS = ['key', 'camelot', 'openKey'] as const

/** A stored analysis record as the library store keeps it, checked field by field. */
export function checkStoredAnalysis(o: Record<string, unknown>, what = 'analysis'): StoredAnalysis {
  object(o, what, ['version', 'at', 'source', 'result', 'error'])
  const version = finite(o.version, `${what}: version`)
  const at = finite(o.at, `${what}: at`)
  if (!Number.isSafeInteger(version) || version < 0 || !Number.isSafeInteger(at) || at < 0) bad(`${what}: version and at are non-negative integers`)
  if (o.source !== 'local' && o.source !== 'device') bad(`${what}: source is "local" or "device"`)
  const out: StoredAnalysis = { version, at, source: o.source as StoredAnalysis['source'] }
  if (o.result !== undefined) {
    const r = object(o.result, `${what}: result`, [...SUMMARY_NUMBERS, ...SUMMARY_TEXTS, 'tempoRange'])
    const result: Record<string, unknown> = {}
    for (const k of SUMMARY_NUMBERS) result[k] = finite(r[k], `${what}: result.${k}`)
    for (const k of SUMMARY_TEXTS) result[k] = shortText(r[k], `${what}: result.${k}`)
    if (r.tempoRange !== undefined) {
      const t = object(r.tempoRange, `${what}: result.tempoRange`, ['min', 'max'])
      result.tempoRange = { min: finite(t.min, `${what}: tempoRange.min`), max: finite(t.max, `${what}: tempoRange.max`) }
    }
    out.result = result as unknown as NonNullable<StoredAnalysis['result']>
  }
  if (o.error !== undefined) {
    const e = object(o.error, `${what}: error`, ['code', 'message'])
    out.error = { code: shortText(e.code, `${what}: error.code`), message: shortText(e.message, `${what}: error.message`, 1024) }
  }
  if (!out.result === !out.error) bad(`${what}: holds either a result or an error`)
  return out
}

/** A waveform as the backup carries it (binary levels), back to the store's form. */
function waveformFromValue(v: BValue): StoredWaveform {
  const levels = capped(v, 'waveform', BACKUP_CAPS.waveformLevels).map((x, i) => {
    const l = asDict(x, `waveform level ${i}`)
    only(l, `waveform level ${i}`, ['cols', 'spc', 'data'])
    const columns = asInt(l.cols, 'waveform columns')
    if (!Number.isSafeInteger(columns) || columns < 1 || columns > BACKUP_CAPS.waveformColumns) bad(`waveform columns ${columns} out of range`)
    const spc = asString(l.spc, 'waveform seconds per column', 32)
    const secondsPerColumn = Number(spc)
    if (!/^[0-9.e+-]+$/i.test(spc) || !Number.isFinite(secondsPerColumn) || secondsPerColumn < 0) bad('waveform seconds per column is not a number')
    const data = asBytes(l.data, 'waveform data', columns * 4)
    return { columns, secondsPerColumn, data: Buffer.from(data).toString('base64') }
  })
  return { levels }
}

/** Reads decompressed content; `expect` is what the authenticated header says. */
export function decodeContent(plain: Uint8Array, expect: { owner: Uint8Array; seq: number; created: number }): CheckedContent {
  if (plain.length > BACKUP_CAPS.contentBytes) tooLarge(`the backup content is over the ${BACKUP_CAPS.contentBytes}-byte cap`)
  try {
    return decodeChecked(plain, expect)
  } catch (err) {
    if (err instanceof BencodeError) throw new BackupError(err.overLimit ? 'ERR_TOO_LARGE' : 'ERR_CONTENT', `backup content: ${err.message}`)
    if (err instanceof ManifestError) throw new BackupError(err.code === 'ERR_TOO_LARGE' ? 'ERR_TOO_LARGE' : 'ERR_CONTENT', `backup content: ${err.message}`)
    throw err
  }
}

function decodeChecked(plain: Uint8Array, expect: { owner: Uint8Array; seq: number; created: number }): CheckedContent {
  const d = asDict(
    decode(plain, { maxBytes: BACKUP_CAPS.contentBytes, maxDepth: BACKUP_CAPS.depth, maxItems: BACKUP_CAPS.items, maxStringBytes: BACKUP_CAPS.stringBytes }),
    'backup',
  )
  only(d, 'backup', ['type', 'v', 'owner', 'seq', 'created', 'device', 'roster', 'playlists', 'cues', 'notes', 'plays', 'analyses', 'manifests'])
  if (asString(d.type, 'type', 64) !== CONTENT_TYPE) bad('not djcloud backup content')
  if (asInt(d.v, 'v') !== 1) bad('unsupported backup content version')
  const owner = asBytes(d.owner, 'owner', 32)
  const seq = asInt(d.seq, 'seq')
  const created = asInt(d.created, 'created')
  if (!Buffer.from(owner).equals(expect.owner) || seq !== expect.seq || created !== expect.created) {
    bad('the content does not match its header (owner, seq or created)')
  }
  const dev = asDict(d.device, 'device')
  only(dev, 'device', ['key', 'name'])
  const device = { key: asBytes(dev.key, 'device key', 32), name: asString(dev.name, 'device name', BACKUP_CAPS.deviceNameBytes) }

  const roster = asBytes(d.roster, 'roster')
  let rosterDecoded: Roster
  try {
    rosterDecoded = verifyRoster(roster, owner)
  } catch (err) {
    if (err instanceof IdentityError || err instanceof BencodeError) return bad(`the roster in the backup: ${err.message}`)
    throw err
  }

  const playlists = capped(d.playlists, 'playlists', BACKUP_CAPS.playlistSets).map((v, i): BackupPlaylistSet => {
    const p = asDict(v, `playlists[${i}]`)
    only(p, `playlists[${i}]`, ['name', 'author', 'edits'])
    const name = asString(p.name, 'playlist name', MAX_NAME_BYTES)
    if (!name) bad('a playlist name is 1-256 bytes')
    return { name, author: hex(asBytes(p.author, 'playlist author', 32)), edits: editsFromBody(p.edits) }
  })
  sortedUnique(playlists.map((p) => `${p.name}\u0000${p.author}`), 'playlist edit sets')

  const cues = new Map<string, Map<string, CueRegister[]>>()
  const authors: string[] = []
  for (const [i, v] of capped(d.cues, 'cues', BACKUP_CAPS.cueAuthors).entries()) {
    const c = asDict(v, `cues[${i}]`)
    only(c, `cues[${i}]`, ['author', 'sets'])
    const author = hex(asBytes(c.author, 'cue author', 32))
    authors.push(author)
    const sets = cueEntriesFromValue(c.sets, () => true, BACKUP_CAPS.cueRecordings)
    if (sets.size === 0) bad('a cue author without cues')
    cues.set(author, sets)
  }
  sortedUnique(authors, 'cue authors')

  const notes = new Map<string, Map<string, NoteRegister[]>>()
  const noteAuthors: string[] = []
  for (const [i, v] of (d.notes === undefined ? [] : capped(d.notes, 'notes', BACKUP_CAPS.cueAuthors)).entries()) {
    const c = asDict(v, `notes[${i}]`)
    only(c, `notes[${i}]`, ['author', 'sets'])
    const author = hex(asBytes(c.author, 'note author', 32))
    noteAuthors.push(author)
    const sets = noteEntriesFromValue(c.sets, () => true, BACKUP_CAPS.cueRecordings)
    if (sets.size === 0) bad('a note author without notes')
    notes.set(author, sets)
  }
  sortedUnique(noteAuthors, 'note authors')

  const plays = (d.plays === undefined ? [] : capped(d.plays, 'plays', BACKUP_CAPS.plays)).map((v) => {
    const b = asBytes(v, 'play entry')
    if (b.length === 0 || b.length > BACKUP_CAPS.playBytes) tooLarge(`a play entry of ${b.length} bytes is outside 1-${BACKUP_CAPS.playBytes}`)
    return Buffer.from(b).toString('utf8')
  })
  sortedUnique(plays, 'plays')

  const analyses = capped(d.analyses, 'analyses', BACKUP_CAPS.analyses).map((v, i): BackupAnalysis => {
    const a = asDict(v, `analyses[${i}]`)
    only(a, `analyses[${i}]`, ['audio', 'rec', 'wave'])
    const out: BackupAnalysis = {
      audio: hex(asBytes(a.audio, 'analysis audio hash', 32)),
      record: checkStoredAnalysis(json(a.rec, 'analysis record', BACKUP_CAPS.recordBytes)),
    }
    if (a.wave !== undefined) out.waveform = waveformFromValue(a.wave)
    return out
  })
  sortedUnique(analyses.map((a) => a.audio), 'analyses')

  const m = asDict(d.manifests, 'manifests')
  only(m, 'manifests', ['libraries', 'playlists', 'blobs'])
  const blobs = new Map<string, Uint8Array>()
  for (const b of capped(m.blobs, 'blobs', BACKUP_CAPS.blobs)) {
    const bytes = asBytes(b, 'blob')
    if (bytes.length === 0 || bytes.length > MAX_BLOB_BYTES) tooLarge(`a blob of ${bytes.length} bytes is outside 1-${MAX_BLOB_BYTES}`)
    blobs.set(sha256(bytes), bytes)
  }
  sortedUnique([...blobs.keys()], 'blobs')
  if (blobs.size !== (m.blobs as BValue[]).length) bad('blobs repeat')
  const refs = (v: BValue | undefined, what: string) => {
    const list = capped(v, what, BACKUP_CAPS.blobs).map((x) => hex(asBytes(x, what, 32)))
    sortedUnique(list, what)
    for (const s of list) if (!blobs.has(s)) bad(`${what}: blob ${s.slice(0, 12)} is not in the backup`)
    return list
  }
  const libraries = refs(m.libraries, 'library roots')
  const playlistManifests = refs(m.playlists, 'playlist manifests')

  return {
    owner, seq, created, device, roster, rosterDecoded, playlists, cues, notes, ...(plays.length ? { plays } : {}), analyses,
    manifests: { libraries, playlists: playlistManifests, blobs },
  }
}

