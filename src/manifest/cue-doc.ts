// Cue points of one recording, merged over own devices. Each device keeps and
// publishes only its own edits: per cue id a last-writer-wins register (the
// cue, or null once deleted) stamped with a Lamport clock. The merge is
// deterministic whatever order the devices' sets arrive in, and edits made
// apart are kept when devices meet:
// - per cue id the register with the highest clock wins, then the higher
//   author (device key hex); a deletion is a register like any other, so the
//   later of "changed" and "deleted" wins;
// - two different cues holding one hot slot: the later write (clock, author,
//   then cue id) keeps the slot, the other shows as a memory cue at its position;
// - shown in order of position, then id.
// Pure functions, no I/O.
import { CUE_CAPS, CUE_COLOR, CUE_ID, CUE_SLOTS, type Cue, type CueRegister, type CueSlot } from '../library/index.ts'

export interface MergedCues {
  cues: Cue[]
  /** The highest clock over every register: the next edit goes above it. */
  clock: number
}

interface Write {
  reg: CueRegister
  author: string
}

const later = (a: Write, b: Write) => a.reg.clock > b.reg.clock || (a.reg.clock === b.reg.clock && a.author > b.author)
/** For a slot: one device may have written two cues into it at one clock (a slot taken apart, then both kept); the higher id settles that. */
const laterForSlot = (a: Write, b: Write) => later(a, b) || (a.reg.clock === b.reg.clock && a.author === b.author && a.reg.id > b.reg.id)

/** The winning register of every cue id over all authors' register sets. */
function winners(sets: ReadonlyMap<string, readonly CueRegister[]>): { won: Map<string, Write>; clock: number } {
  const won = new Map<string, Write>()
  let clock = 0
  for (const [author, regs] of sets) {
    for (const reg of regs) {
      clock = Math.max(clock, reg.clock)
      const have = won.get(reg.id)
      const w = { reg, author }
      if (!have || later(w, have)) won.set(reg.id, w)
    }
  }
  return { won, clock }
}

/** The cues shown for a recording, given each own device's registers (keyed by author). */
export function mergeCues(sets: ReadonlyMap<string, readonly CueRegister[]>): MergedCues {
  const { won, clock } = winners(sets)
  const live = [...won.values()].filter((w) => w.reg.cue !== null)
  const slotHolder = new Map<CueSlot, Write>()
  for (const w of live) {
    const slot = w.reg.cue!.kind === 'hot' ? w.reg.cue!.slot : undefined
    if (!slot) continue
    const have = slotHolder.get(slot)
    if (!have || laterForSlot(w, have)) slotHolder.set(slot, w)
  }
  const cues = live.map((w): Cue => {
    const { kind, slot, position, name, color, length } = w.reg.cue!
    // Fields in one order, whatever order the register was stored in.
    const keepsSlot = kind === 'hot' && !!slot && slotHolder.get(slot) === w
    return {
      id: w.reg.id,
      kind: keepsSlot ? 'hot' : 'memory',
      ...(keepsSlot ? { slot } : {}),
      position,
      ...(name !== undefined ? { name } : {}),
      ...(color !== undefined ? { color } : {}),
      ...(length !== undefined ? { length } : {}),
    }
  })
  cues.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { cues, clock }
}

const sameCue = (a: Omit<Cue, 'id'> | null, b: Omit<Cue, 'id'>) =>
  a !== null && a.kind === b.kind && a.slot === b.slot && a.position === b.position && a.name === b.name && a.color === b.color && a.length === b.length

/**
 * This device's registers after it sets the recording's cues to `wanted`
 * (already checked with checkCues): a register for every cue added or
 * changed, a deletion for every cue shown now and not wanted, all at one new
 * clock above everything seen. A cue is compared with its winning register,
 * not with how it is shown, so a cue shown as memory after a slot conflict
 * is written as memory and the merge afterwards shows exactly `wanted`.
 */
export function setCues(self: string, sets: ReadonlyMap<string, readonly CueRegister[]>, wanted: readonly Cue[]): CueRegister[] {
  const { won, clock } = winners(sets)
  const next = clock + 1
  const mine = new Map((sets.get(self) ?? []).map((r) => [r.id, r]))
  const wantedIds = new Set<string>()
  for (const { id, ...cue } of wanted) {
    wantedIds.add(id)
    if (!sameCue(won.get(id)?.reg.cue ?? null, cue)) mine.set(id, { id, clock: next, cue })
  }
  for (const [id, w] of won) if (w.reg.cue !== null && !wantedIds.has(id)) mine.set(id, { id, clock: next, cue: null })
  return prune(self, [...mine.values()], won)
}

/**
 * Keeps at most CUE_CAPS.registers: first drops this device's registers that
 * another device's later write overrides, then its oldest deletions. (A
 * dropped deletion could let an old copy of that cue on a device not seen
 * since come back; 128 registers make that rare.)
 */
function prune(self: string, regs: CueRegister[], won: ReadonlyMap<string, Write>): CueRegister[] {
  regs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (regs.length <= CUE_CAPS.registers) return regs
  const overridden = (r: CueRegister) => {
    const w = won.get(r.id)
    return !!w && w.author !== self && later(w, { reg: r, author: self })
  }
  let out = regs.filter((r) => !overridden(r))
  if (out.length > CUE_CAPS.registers) {
    const deletions = out.filter((r) => r.cue === null).sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : 1))
    const drop = new Set(deletions.slice(0, out.length - CUE_CAPS.registers))
    out = out.filter((r) => !drop.has(r))
  }
  return out
}

/** Checks a recording's cues as a person sets them (throws a RangeError saying what is wrong); positions rounded to ms. */
export function checkCues(input: unknown): Cue[] {
  if (!Array.isArray(input)) throw new RangeError('cues is a list of cues')
  if (input.length > CUE_CAPS.cues) throw new RangeError(`at most ${CUE_CAPS.cues} cues per recording`)
  const ids = new Set<string>()
  const slots = new Set<string>()
  return input.map((raw, i): Cue => {
    const at = `cue ${i + 1}`
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new RangeError(`${at} is not an object`)
    const v = raw as Record<string, unknown>
    for (const k of Object.keys(v)) if (!['id', 'kind', 'slot', 'position', 'name', 'color', 'length'].includes(k)) throw new RangeError(`${at}: unknown field "${k}"`)
    if (typeof v.id !== 'string' || !CUE_ID.test(v.id)) throw new RangeError(`${at}: id is 8-32 characters of A-Z, a-z, 0-9, "_" or "-"`)
    if (ids.has(v.id)) throw new RangeError(`${at}: id "${v.id}" is used twice`)
    ids.add(v.id)
    if (v.kind !== 'hot' && v.kind !== 'memory') throw new RangeError(`${at}: kind is "hot" or "memory"`)
    const cue: Cue = { id: v.id, kind: v.kind, position: 0 }
    if (v.kind === 'hot') {
      if (typeof v.slot !== 'string' || !(CUE_SLOTS as readonly string[]).includes(v.slot)) throw new RangeError(`${at}: a hot cue has a slot A-H`)
      if (slots.has(v.slot)) throw new RangeError(`${at}: hot cue slot ${v.slot} is taken by another cue`)
      slots.add(v.slot)
      cue.slot = v.slot as CueSlot
    } else if (v.slot !== undefined) throw new RangeError(`${at}: only hot cues have a slot`)
    const ms = typeof v.position === 'number' && Number.isFinite(v.position) ? Math.round(v.position * 1000) : NaN
    if (!(ms >= 0 && ms <= CUE_CAPS.positionMs)) throw new RangeError(`${at}: position is seconds from the start, 0-${CUE_CAPS.positionMs / 1000}`)
    cue.position = ms / 1000
    if (v.name !== undefined) {
      if (typeof v.name !== 'string' || !validName(v.name)) throw new RangeError(`${at}: name is text of at most ${CUE_CAPS.nameChars} characters`)
      if (v.name) cue.name = v.name
    }
    if (v.color !== undefined) {
      if (typeof v.color !== 'string' || !CUE_COLOR.test(v.color.toLowerCase())) throw new RangeError(`${at}: color is "#rrggbb"`)
      cue.color = v.color.toLowerCase()
    }
    if (v.length !== undefined) {
      const len = typeof v.length === 'number' && Number.isFinite(v.length) ? Math.round(v.length * 1000) : NaN
      if (!(len >= 1 && len <= CUE_CAPS.positionMs)) throw new RangeError(`${at}: length (a loop's) is seconds, 0.001-${CUE_CAPS.positionMs / 1000}`)
      cue.length = len / 1000
    }
    return cue
  })
}

/** At most 64 characters (and 256 bytes), no control characters or lone surrogates. */
export function validName(s: string): boolean {
  return [...s].length <= CUE_CAPS.nameChars && Buffer.byteLength(s) <= CUE_CAPS.nameBytes && !/[\u0000-\u001f\u007f]|\p{Cs}/u.test(s)
}
