// Cue points per recording: hot cues A-H (one each) and memory cues, as
// GET/PUT /api/cues/<audioHash> carries them. Edits are pure functions
// returning a new list, checked by the same rules the node applies.

export const HOT_SLOTS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const
export type HotSlot = (typeof HOT_SLOTS)[number]

export interface Cue {
  id: string
  kind: 'hot' | 'memory'
  slot?: HotSlot
  /** seconds */
  position: number
  name?: string
  color?: string
}

const ID = /^[A-Za-z0-9_-]{8,32}$/
const COLOR = /^#[0-9a-f]{6}$/i
export const MAX_CUE_NAME = 64

/** Why a list of cues would be refused, or null when it is fine. */
export function cueProblem(cues: readonly Cue[]): string | null {
  const ids = new Set<string>()
  const slots = new Set<string>()
  for (const c of cues) {
    if (!ID.test(c.id)) return `cue id "${c.id}" is not 8-32 letters, digits, _ or -`
    if (ids.has(c.id)) return `cue id "${c.id}" is used twice`
    ids.add(c.id)
    if (c.kind !== 'hot' && c.kind !== 'memory') return 'a cue is hot or memory'
    if (c.kind === 'hot') {
      if (!c.slot || !(HOT_SLOTS as readonly string[]).includes(c.slot)) return 'a hot cue has a slot A-H'
      if (slots.has(c.slot)) return `hot cue ${c.slot} is set twice`
      slots.add(c.slot)
    } else if (c.slot !== undefined) return 'a memory cue has no slot'
    if (!Number.isFinite(c.position) || c.position < 0) return 'a cue position is seconds >= 0'
    if (c.name !== undefined && (typeof c.name !== 'string' || c.name.length > MAX_CUE_NAME)) return `a cue name is at most ${MAX_CUE_NAME} characters`
    if (c.color !== undefined && !COLOR.test(c.color)) return 'a cue colour is #rrggbb'
  }
  return null
}

/** Keeps only well-formed cues from what a server sent (one bad cue must not hide the rest). */
export function sanitizeCues(raw: unknown): Cue[] {
  if (!Array.isArray(raw)) return []
  const out: Cue[] = []
  for (const c of raw) {
    if (!c || typeof c !== 'object') continue
    const next = [...out, c as Cue]
    if (cueProblem(next) === null) out.push(c as Cue)
  }
  return sortCues(out)
}

export const sortCues = (cues: readonly Cue[]): Cue[] => [...cues].sort((a, b) => a.position - b.position || a.id.localeCompare(b.id))

/** A new id: 12 characters from the URL-safe alphabet. */
export function newCueId(random: (n: number) => Uint8Array = randomBytes): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
  return Array.from(random(12), (b) => abc[b & 63]).join('')
}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

const at = (position: number) => Math.max(0, Math.round(position * 1000) / 1000)

/** Sets hot cue `slot` at `position`, replacing the one there. */
export function setHotCue(cues: readonly Cue[], slot: HotSlot, position: number, id = newCueId()): Cue[] {
  return sortCues([...cues.filter((c) => !(c.kind === 'hot' && c.slot === slot)), { id, kind: 'hot', slot, position: at(position) }])
}

export function addMemoryCue(cues: readonly Cue[], position: number, id = newCueId()): Cue[] {
  return sortCues([...cues, { id, kind: 'memory', position: at(position) }])
}

export function renameCue(cues: readonly Cue[], id: string, name: string): Cue[] {
  const clean = name.replace(/[\u0000-\u001f]/g, '').trim().slice(0, MAX_CUE_NAME)
  return cues.map((c) => {
    if (c.id !== id) return c
    const { name: _old, ...rest } = c
    return clean ? { ...rest, name: clean } : rest
  })
}

export function deleteCue(cues: readonly Cue[], id: string): Cue[] {
  return cues.filter((c) => c.id !== id)
}

export const hotCue = (cues: readonly Cue[], slot: HotSlot): Cue | undefined => cues.find((c) => c.kind === 'hot' && c.slot === slot)

/** A cue's label: its name, else "Hot A" / "Memory 2". */
export function cueLabel(cues: readonly Cue[], cue: Cue): string {
  if (cue.name) return cue.name
  if (cue.kind === 'hot') return `Hot ${cue.slot}`
  return `Memory ${cues.filter((c) => c.kind === 'memory').indexOf(cue) + 1}`
}
