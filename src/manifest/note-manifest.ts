// Track notes in a library manifest page: beside its tracks and cues, a page
// carries the publishing device's note registers of the recordings whose
// audio hash falls on that page (the rule cues follow). Pages without notes
// have no `notes` key.
//
//   notes: [{audio: <32 bytes>, regs: [{c: clock, f: field, v?: value}]}]
//
// `v` absent: the field was cleared. Values: key a key name, rating 0-5, plays an integer,
// color "#rrggbb", comment text, grid bytes (11 a row, big-endian: position
// in ns as a signed 48-bit integer, tempo in millionths of a BPM as 32 bits,
// beat of the bar as 8 bits). Entries sorted by audio hash, registers by
// field. A register of a field this version does not know, or carrying a key
// it does not know, is passed over (not shown, never misread): one register
// per field, so the other fields still show (docs/decisions/library-page-extensions.md).
import { asBytes, asDict, asInt, asList, asString, type BValue } from '../codec/index.ts'
import { NOTE_CAPS, NOTE_FIELDS, type GridRow, type NoteField, type NoteRegister } from '../library/index.ts'
import { isKeyName, validComment } from './note-doc.ts'
import { ManifestError } from './errors.ts'

/** A device's note registers by audio hash (64 hex). */
export type NoteSets = ReadonlyMap<string, readonly NoteRegister[]>

const malformed = (message: string): never => {
  throw new ManifestError('ERR_MALFORMED', message)
}
const REGISTER_KEYS = new Set(['c', 'f', 'v'])
const ROW_BYTES = 11
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function gridToBytes(rows: readonly GridRow[]): Uint8Array {
  const out = Buffer.alloc(rows.length * ROW_BYTES)
  rows.forEach((r, i) => {
    out.writeIntBE(Math.round(r.position * 1e9), i * ROW_BYTES, 6)
    out.writeUInt32BE(Math.round(r.bpm * 1e6), i * ROW_BYTES + 6)
    out.writeUInt8(r.beat, i * ROW_BYTES + 10)
  })
  return out
}

export function gridFromBytes(b: Uint8Array): GridRow[] {
  if (b.length === 0 || b.length % ROW_BYTES !== 0 || b.length / ROW_BYTES > NOTE_CAPS.gridRows) malformed(`a grid is 1-${NOTE_CAPS.gridRows} rows of ${ROW_BYTES} bytes`)
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length)
  const rows: GridRow[] = []
  for (let o = 0; o < buf.length; o += ROW_BYTES) {
    const ns = buf.readIntBE(o, 6)
    const micro = buf.readUInt32BE(o + 6)
    const beat = buf.readUInt8(o + 10)
    if (Math.abs(ns) > NOTE_CAPS.gridPositionNs || micro < 1_000_000 || micro > NOTE_CAPS.gridMicroBpmMax || beat < 1 || beat > 4) malformed('a grid row is out of range')
    if (rows.length && ns <= Math.round(rows[rows.length - 1]!.position * 1e9)) malformed('grid rows are not in order of position')
    rows.push({ position: ns / 1e9, bpm: micro / 1e6, beat })
  }
  return rows
}

function registerToValue(r: NoteRegister): Record<string, unknown> {
  const v: Record<string, unknown> = { c: r.clock, f: r.field }
  if (r.value !== null) v.v = r.field === 'grid' ? gridToBytes(r.value as GridRow[]) : r.value
  return v
}

/** The `notes` value of one page: the entries (already picked for this page) sorted by audio hash. */
export function noteEntriesToValue(entries: Array<[string, readonly NoteRegister[]]>): unknown[] {
  return entries
    .filter(([, regs]) => regs.length > 0)
    .sort(([a], [b]) => cmp(a, b))
    .map(([audio, regs]) => ({ audio: Buffer.from(audio, 'hex'), regs: [...regs].sort((a, b) => cmp(a.field, b.field)).map(registerToValue) }))
}

/** One register, or null for one this version cannot read whole (an unknown field or key): passed over. */
function registerFromValue(v: BValue): { reg: NoteRegister | null; field: string } {
  const d = asDict(v, 'note')
  const clock = asInt(d.c, 'note clock')
  if (!Number.isSafeInteger(clock) || clock < 1) malformed('a note clock is a positive integer')
  const field = asString(d.f, 'note field', 32)
  if (!(NOTE_FIELDS as readonly string[]).includes(field) || Object.keys(d).some((k) => !REGISTER_KEYS.has(k))) return { reg: null, field }
  const f = field as NoteField
  if (d.v === undefined) return { reg: { field: f, clock, value: null } as NoteRegister, field }
  let value: unknown
  switch (f) {
    case 'rating':
    case 'plays': {
      const n = asInt(d.v, `note ${f}`)
      if (!Number.isSafeInteger(n) || n < 0 || n > (f === 'rating' ? 5 : NOTE_CAPS.plays)) malformed(`a note ${f} is out of range`)
      value = n
      break
    }
    case 'color': {
      const c = asString(d.v, 'note color', 7)
      if (!/^#[0-9a-f]{6}$/.test(c)) malformed('a note color is "#rrggbb" in lowercase')
      value = c
      break
    }
    case 'key': {
      const k = asString(d.v, 'note key', 32)
      if (!isKeyName(k)) malformed('a note key is a key name ("A minor")')
      value = k
      break
    }
    case 'comment': {
      const s = asString(d.v, 'note comment', NOTE_CAPS.commentBytes)
      if (!s || !validComment(s)) malformed('a note comment is 1-1024 bytes of text')
      value = s
      break
    }
    case 'grid':
      value = gridFromBytes(asBytes(d.v, 'note grid'))
      break
  }
  return { reg: { field: f, clock, value } as NoteRegister, field }
}

/** Reads a page's `notes` value; `onPage(audioHash)` says whether a recording belongs on this page. Throws BencodeError or ManifestError. */
export function noteEntriesFromValue(v: BValue | undefined, onPage: (audioHash: string) => boolean, maxEntries: number): Map<string, NoteRegister[]> {
  const out = new Map<string, NoteRegister[]>()
  if (v === undefined) return out
  let prev = ''
  for (const e of asList(v, 'notes', maxEntries)) {
    const d = asDict(e, 'note entry')
    const audio = Buffer.from(asBytes(d.audio, 'note audio hash', 32)).toString('hex')
    if (audio <= prev) malformed('note entries are not sorted by audio hash or repeat one')
    prev = audio
    if (!onPage(audio)) malformed('notes sit on the wrong page')
    const read = asList(d.regs, 'note registers', 64).map(registerFromValue)
    if (read.length === 0) malformed('a note entry without notes')
    for (let i = 1; i < read.length; i++) if (read[i - 1]!.field >= read[i]!.field) malformed('notes are not sorted by field or repeat one')
    // Counted even when every register is one this version passes over: the root counts recordings with notes.
    out.set(audio, read.flatMap((r) => (r.reg ? [r.reg] : [])))
  }
  return out
}
