// Cue registers in a library manifest page. A page carries, beside its
// tracks, the publishing device's cue registers of the recordings whose audio
// hash falls on that page (the same top-bits rule as tracks by SHA-256), so
// a cue edit rewrites one page, and cues of a recording held only on other
// devices travel too. Pages without cues (and older pages) have no `cues` key.
//
//   cues: [{audio: <32 bytes>, regs: [{c: clock, id, kind, ms, slot?, name?, color?, len?} | {c, id, del: 1}]}]
//
// Entries sorted by audio hash, registers by id; everything checked as hostile.
// An entry or register carrying a key this version does not know (a later
// version's addition) leaves that recording's cues from that device out
// whole: not shown, never misread (a cue read without a field that changes
// its meaning, as `len` does, would be), and the rest of the page is read
// (docs/decisions/library-page-extensions.md).
import { asBytes, asDict, asInt, asList, asString, fieldList, type BValue } from '../codec/index.ts'
import { CUE_CAPS, CUE_COLOR, CUE_ID, CUE_SLOTS, type CueRegister, type CueSlot } from '../library/index.ts'
import { validName } from './cue-doc.ts'
import { ManifestError } from './errors.ts'

/** A device's cue registers by audio hash (64 hex). */
export type CueSets = ReadonlyMap<string, readonly CueRegister[]>

const malformed = (message: string): never => {
  throw new ManifestError('ERR_MALFORMED', message)
}
/** The fields of a cue register and of an entry this version reads. */
const REGISTER_FIELDS = fieldList('c', 'id', 'kind', 'ms', 'slot', 'name', 'color', 'len', 'del')
const ENTRY_FIELDS = fieldList('audio', 'regs')
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function registerToValue(r: CueRegister): Record<string, unknown> {
  if (r.cue === null) return { c: r.clock, id: r.id, del: 1 }
  const v: Record<string, unknown> = { c: r.clock, id: r.id, kind: r.cue.kind, ms: Math.round(r.cue.position * 1000) }
  if (r.cue.slot) v.slot = r.cue.slot
  if (r.cue.name) v.name = r.cue.name
  if (r.cue.color) v.color = r.cue.color
  if (r.cue.length) v.len = Math.round(r.cue.length * 1000)
  return v
}

/** The `cues` value of one page: the entries (already picked for this page) sorted by audio hash. */
export function cueEntriesToValue(entries: Array<[string, readonly CueRegister[]]>): unknown[] {
  return entries
    .filter(([, regs]) => regs.length > 0)
    .sort(([a], [b]) => cmp(a, b))
    .map(([audio, regs]) => ({ audio: Buffer.from(audio, 'hex'), regs: [...regs].sort((a, b) => cmp(a.id, b.id)).map(registerToValue) }))
}

const known = (d: Record<string, unknown>, fields: ReadonlySet<string>) => Object.keys(d).every((k) => fields.has(k))

/** A register, or null when it carries a key this version does not know. */
function registerFromValue(v: BValue): CueRegister | null {
  const d = asDict(v, 'cue')
  if (!known(d, REGISTER_FIELDS)) return null
  const clock = asInt(d.c, 'cue clock')
  if (!Number.isSafeInteger(clock) || clock < 1) malformed('a cue clock is a positive integer')
  const id = asString(d.id, 'cue id', 32)
  if (!CUE_ID.test(id)) malformed('a cue id is 8-32 characters of A-Za-z0-9_-')
  if (d.del !== undefined) {
    if (asInt(d.del, 'cue del') !== 1 || Object.keys(d).length !== 3) malformed('a deleted cue carries only its id and clock')
    return { id, clock, cue: null }
  }
  const kind = asString(d.kind, 'cue kind', 8)
  if (kind !== 'hot' && kind !== 'memory') malformed(`unknown cue kind "${kind}"`)
  const ms = asInt(d.ms, 'cue position')
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > CUE_CAPS.positionMs) malformed('a cue position is 0-24 h in ms')
  const cue: NonNullable<CueRegister['cue']> = { kind: kind as 'hot' | 'memory', position: ms / 1000 }
  if (kind === 'hot') {
    const slot = asString(d.slot, 'cue slot', 1)
    if (!(CUE_SLOTS as readonly string[]).includes(slot)) malformed('a hot cue slot is A-H')
    cue.slot = slot as CueSlot
  } else if (d.slot !== undefined) malformed('only hot cues have a slot')
  if (d.name !== undefined) {
    const name = asString(d.name, 'cue name', CUE_CAPS.nameBytes)
    if (!name || !validName(name)) malformed(`a cue name is 1-${CUE_CAPS.nameChars} characters of text`)
    cue.name = name
  }
  if (d.color !== undefined) {
    const color = asString(d.color, 'cue color', 7)
    if (!CUE_COLOR.test(color)) malformed('a cue color is "#rrggbb" in lowercase')
    cue.color = color
  }
  if (d.len !== undefined) {
    const len = asInt(d.len, 'cue length')
    if (!Number.isSafeInteger(len) || len < 1 || len > CUE_CAPS.positionMs) malformed('a loop length is 1 ms to 24 h')
    cue.length = len / 1000
  }
  return { id, clock, cue }
}

/**
 * Reads a page's `cues` value; `onPage(audioHash)` says whether a recording
 * belongs on this page. Throws BencodeError or ManifestError.
 */
export function cueEntriesFromValue(v: BValue | undefined, onPage: (audioHash: string) => boolean, maxEntries: number): Map<string, CueRegister[]> {
  const out = new Map<string, CueRegister[]>()
  if (v === undefined) return out
  let prev = ''
  for (const e of asList(v, 'cues', maxEntries)) {
    const d = asDict(e, 'cue entry')
    const audio = Buffer.from(asBytes(d.audio, 'cue audio hash', 32)).toString('hex')
    if (audio <= prev) malformed('cue entries are not sorted by audio hash or repeat one')
    prev = audio
    if (!onPage(audio)) malformed('cues sit on the wrong page')
    const read = asList(d.regs, 'cue registers', CUE_CAPS.registers).map(registerFromValue)
    if (read.length === 0) malformed('a cue entry without cues')
    const regs = read.filter((r): r is CueRegister => r !== null)
    for (let i = 1; i < regs.length; i++) if (regs[i - 1]!.id >= regs[i]!.id) malformed('cues are not sorted by id or repeat one')
    // Counted even when left out: the root counts recordings with cues.
    out.set(audio, known(d, ENTRY_FIELDS) && regs.length === read.length ? regs : [])
  }
  return out
}
