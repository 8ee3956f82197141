// Track notes of one recording (user grid, rating, colour, comment, plays),
// merged over own devices. Each device keeps and publishes only its own
// edits: per field one last-writer-wins register (the value, or null once
// cleared) stamped with a Lamport clock. Per field the register with the
// highest clock wins, then the higher author (device key hex), so the merge
// does not depend on the order devices' edits arrive in, and fields set on
// different devices apart all stay. One register per field, not one per
// recording: an older device that does not know a field never overwrites it.
// Pure functions, no I/O.
import { keyName, parseKey } from '../analysis/index.ts'
import { NOTE_CAPS, NOTE_FIELDS, type GridRow, type NoteField, type NoteRegister, type TrackNotes } from '../library/index.ts'

export interface MergedNotes {
  notes: TrackNotes
  /** The highest clock over every register: the next edit goes above it. */
  clock: number
}

interface Write {
  reg: NoteRegister
  author: string
}

const later = (a: Write, b: Write) => a.reg.clock > b.reg.clock || (a.reg.clock === b.reg.clock && a.author > b.author)

function winners(sets: ReadonlyMap<string, readonly NoteRegister[]>): { won: Map<NoteField, Write>; clock: number } {
  const won = new Map<NoteField, Write>()
  let clock = 0
  for (const [author, regs] of sets) {
    for (const reg of regs) {
      clock = Math.max(clock, reg.clock)
      const have = won.get(reg.field)
      const w = { reg, author }
      if (!have || later(w, have)) won.set(reg.field, w)
    }
  }
  return { won, clock }
}

/** The notes shown for a recording, given each own device's registers (keyed by author). */
export function mergeNotes(sets: ReadonlyMap<string, readonly NoteRegister[]>): MergedNotes {
  const { won, clock } = winners(sets)
  const notes: Record<string, unknown> = {}
  // Fields in one order, whatever order the registers came in.
  for (const f of NOTE_FIELDS) {
    const v = won.get(f)?.reg.value
    if (v !== undefined && v !== null) notes[f] = f === 'grid' ? (v as GridRow[]).map((r) => ({ ...r })) : v
  }
  return { notes: notes as TrackNotes, clock }
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/**
 * This device's registers after it applies `change` (checked with
 * checkNotes): a field given with a value other than the merged one gets a
 * register at one new clock above everything seen, a field given as null
 * that is set gets a clearing register; fields not given are left alone.
 */
export function setNotes(self: string, sets: ReadonlyMap<string, readonly NoteRegister[]>, change: NotesChange): NoteRegister[] {
  const { won, clock } = winners(sets)
  const next = clock + 1
  const mine = new Map((sets.get(self) ?? []).map((r) => [r.field, r]))
  for (const f of NOTE_FIELDS) {
    if (!(f in change)) continue
    const want = change[f] ?? null
    const have = won.get(f)?.reg.value ?? null
    if (sameValue(have, want)) continue
    mine.set(f, { field: f, clock: next, value: want } as NoteRegister)
  }
  return [...mine.values()].sort((a, b) => NOTE_FIELDS.indexOf(a.field) - NOTE_FIELDS.indexOf(b.field))
}

/** A change of a recording's notes: a field with a value sets it, null clears it, absent leaves it. */
export type NotesChange = { [F in NoteField]?: NonNullable<TrackNotes[F]> | null }

/** Comment text djcloud keeps: at most 1024 bytes, no control characters but newline and tab. */
export function validComment(s: string): boolean {
  return Buffer.byteLength(s) <= NOTE_CAPS.commentBytes && !/[\u0000-\u0008\u000b-\u001f\u007f]|\p{Cs}/u.test(s)
}

/** A key as djcloud names keys ("A minor", "Db major"), the only form notes keep. */
export function isKeyName(key: string): boolean {
  const k = parseKey(key)
  return !!k && keyName(k.pitchClass, k.mode) === key
}

/** A grid row as stored: position to the ns, tempo to the millionth of a BPM; null when out of range. */
export function gridRow(position: number, bpm: number, beat: number): GridRow | null {
  const ns = Math.round(position * 1e9)
  const micro = Math.round(bpm * 1e6)
  if (!Number.isFinite(ns) || Math.abs(ns) > NOTE_CAPS.gridPositionNs) return null
  if (!Number.isFinite(micro) || micro < 1_000_000 || micro > NOTE_CAPS.gridMicroBpmMax) return null
  if (!Number.isInteger(beat) || beat < 1 || beat > 4) return null
  return { position: ns / 1e9, bpm: micro / 1e6, beat }
}

/** Checks a change as a person sends it (throws a RangeError saying what is wrong); grid rows rounded (ns, millionths of a BPM) and sorted by position. */
export function checkNotes(input: unknown): NotesChange {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new RangeError(`notes is an object of fields (${NOTE_FIELDS.join(', ')})`)
  const v = input as Record<string, unknown>
  const out: NotesChange = {}
  for (const k of Object.keys(v)) if (!(NOTE_FIELDS as readonly string[]).includes(k)) throw new RangeError(`unknown field "${k}" (one of ${NOTE_FIELDS.join(', ')})`)
  if ('key' in v) {
    if (v.key !== null && !(typeof v.key === 'string' && isKeyName(v.key))) throw new RangeError('key is a key name such as "A minor" or "Db major", or null')
    out.key = v.key as string | null
  }
  if ('rating' in v) {
    if (v.rating !== null && !(Number.isInteger(v.rating) && (v.rating as number) >= 0 && (v.rating as number) <= 5)) throw new RangeError('rating is 0-5 (stars) or null')
    out.rating = v.rating as number | null
  }
  if ('color' in v) {
    if (v.color !== null && !(typeof v.color === 'string' && /^#[0-9a-f]{6}$/.test(v.color.toLowerCase()))) throw new RangeError('color is "#rrggbb" or null')
    out.color = v.color === null ? null : (v.color as string).toLowerCase()
  }
  if ('comment' in v) {
    if (v.comment !== null && !(typeof v.comment === 'string' && validComment(v.comment))) throw new RangeError(`comment is text of at most ${NOTE_CAPS.commentBytes} bytes (no control characters but newline and tab), or null`)
    out.comment = v.comment === '' ? null : (v.comment as string | null)
  }
  if ('plays' in v) {
    if (v.plays !== null && !(Number.isInteger(v.plays) && (v.plays as number) >= 0 && (v.plays as number) <= NOTE_CAPS.plays)) throw new RangeError('plays is a whole number 0-1e9, or null')
    out.plays = v.plays as number | null
  }
  if ('grid' in v) {
    if (v.grid === null) out.grid = null
    else {
      if (!Array.isArray(v.grid) || v.grid.length < 1 || v.grid.length > NOTE_CAPS.gridRows) throw new RangeError(`grid is a list of 1-${NOTE_CAPS.gridRows} rows {position, bpm, beat}, or null`)
      const rows = v.grid.map((r, i) => {
        const o = (r ?? {}) as Record<string, unknown>
        const row = typeof o.position === 'number' && typeof o.bpm === 'number' ? gridRow(o.position, o.bpm, o.beat === undefined ? 1 : (o.beat as number)) : null
        if (!row || Object.keys(o).some((k) => !['position', 'bpm', 'beat'].includes(k)))
          throw new RangeError(`grid row ${i + 1}: {position: seconds within ±86400, bpm: 1-1000, beat: 1-4}`)
        return row
      })
      rows.sort((a, b) => a.position - b.position)
      for (let i = 1; i < rows.length; i++) if (rows[i]!.position === rows[i - 1]!.position) throw new RangeError('grid rows repeat a position')
      out.grid = rows
    }
  }
  return out
}
