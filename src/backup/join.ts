// How a restored device takes over the edits in a backup. The backup holds
// every own device's edit sets (playlists) and registers (cues), each by its
// author. The restoring device adopts their *join* as its own edits: for every
// entry, move, share and cue, a copy of the write that wins the merge. Merged
// with the original sets or without them (say the lost device is revoked and
// its manifests dropped), the result is what the backup showed, and an old
// device that comes back later merges with it without duplicates (the entry
// ids and clocks are the originals). Pure functions, no I/O.
import { CUE_CAPS, NOTE_FIELDS, type CueRegister, type NoteRegister } from '../library/index.ts'
import { mergeCues, PLAYLIST_CAPS, writeBeats, type PlaylistEdits, type PlaylistWrite } from '../manifest/index.ts'
import { BackupError } from './errors.ts'

/**
 * One edit set that merges (alone, or with any of `sets`) to what `sets`
 * merge to. `self` is the adopting device, whose own set (if any) is in `sets`
 * and whose entry counter is kept.
 */
export function joinPlaylistEdits(sets: ReadonlyMap<string, PlaylistEdits>, self: string): PlaylistEdits {
  const authors = [...sets.keys()].sort()
  let clock = 0
  const removed = new Set<string>()
  for (const a of authors) {
    const e = sets.get(a)!
    clock = Math.max(clock, e.clock)
    for (const id of e.removed) removed.add(id)
  }
  const adds = new Map<string, { entry: PlaylistEdits['entries'][number]; w: PlaylistWrite }>()
  const place = new Map<string, PlaylistWrite>()
  for (const author of authors) {
    for (const x of sets.get(author)!.entries) {
      if (removed.has(x.id)) continue
      const w = { pos: x.pos, clock: x.clock, author }
      if (writeBeats(w, adds.get(x.id)?.w)) adds.set(x.id, { entry: x, w })
      if (writeBeats(w, place.get(x.id))) place.set(x.id, w)
    }
  }
  const shares = new Map<string, { on: boolean; clock: number; author: string }>()
  for (const author of authors) {
    const e = sets.get(author)!
    for (const m of e.moves) {
      if (!adds.has(m.id)) continue
      const w = { pos: m.pos, clock: m.clock, author }
      if (writeBeats(w, place.get(m.id))) place.set(m.id, w)
    }
    for (const s of e.shares) {
      const cur = shares.get(s.owner)
      const wins = !cur || s.clock > cur.clock || (s.clock === cur.clock && (author > cur.author || (author === cur.author && !s.on)))
      if (wins) shares.set(s.owner, { on: s.on, clock: s.clock, author })
    }
  }
  // Collaborator grants and the pull rule: a copy of each winning write (withdrawals with what they froze).
  const collabs = new Map<string, NonNullable<PlaylistEdits['collabs']>[number] & { author: string }>()
  let pulls: { on: boolean; clock: number; author: string } | undefined
  const beats = (c: { on: boolean; clock: number }, author: string, cur: { on: boolean; clock: number; author: string } | undefined) =>
    !cur || c.clock > cur.clock || (c.clock === cur.clock && (author > cur.author || (author === cur.author && !c.on)))
  for (const author of authors) {
    const e = sets.get(author)!
    for (const c of e.collabs ?? []) if (beats(c, author, collabs.get(c.owner))) collabs.set(c.owner, { ...c, author })
    if (e.pulls && beats(e.pulls, author, pulls)) pulls = { ...e.pulls, author }
  }
  const ids = [...adds.keys()].sort()
  const entries: PlaylistEdits['entries'] = []
  const moves: PlaylistEdits['moves'] = []
  for (const id of ids) {
    const { entry, w } = adds.get(id)!
    const p = place.get(id)!
    // The copy of the add sits where the entry is shown, so no write of ours can ever put it elsewhere.
    entries.push({ id, track: { ...entry.track }, pos: p.pos, clock: entry.clock })
    if (p !== w) moves.push({ id, pos: p.pos, clock: p.clock })
  }
  const out: PlaylistEdits = {
    clock,
    entries,
    moves,
    removed: [...removed].sort(),
    shares: [...shares].sort(([a], [b]) => (a < b ? -1 : 1)).map(([owner, s]) => ({ owner, on: s.on, clock: s.clock })),
    next: sets.get(self)?.next ?? 0,
  }
  if (collabs.size) {
    out.collabs = [...collabs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, { author: _a, ...c }]) => c)
  }
  if (pulls) out.pulls = { on: pulls.on, clock: pulls.clock }
  if (out.entries.length > PLAYLIST_CAPS.entries || out.moves.length > PLAYLIST_CAPS.moves || out.removed.length > PLAYLIST_CAPS.removed) {
    throw new BackupError('ERR_TOO_LARGE', `the joined edits of a playlist are over one device's caps (${out.entries.length} entries, ${out.removed.length} removals)`)
  }
  return out
}

/**
 * One device's registers of a recording that merge (alone, or with any of
 * `sets`) to the cues `sets` show: per cue id a copy of the winning register;
 * a hot cue that lost its slot in the merge is copied as the memory cue it is
 * shown as, so the copies cannot settle a slot another way.
 */
export function joinCueRegisters(sets: ReadonlyMap<string, readonly CueRegister[]>): CueRegister[] {
  const shown = new Map(mergeCues(sets).cues.map((c) => [c.id, c]))
  const won = new Map<string, { reg: CueRegister; author: string }>()
  for (const [author, regs] of sets) {
    for (const reg of regs) {
      const have = won.get(reg.id)
      if (!have || reg.clock > have.reg.clock || (reg.clock === have.reg.clock && author > have.author)) won.set(reg.id, { reg, author })
    }
  }
  let out: CueRegister[] = [...won.values()].map(({ reg }) => {
    if (reg.cue === null) return { id: reg.id, clock: reg.clock, cue: null }
    const { id: _id, ...cue } = shown.get(reg.id)!
    return { id: reg.id, clock: reg.clock, cue }
  })
  if (out.length > CUE_CAPS.registers) {
    // Oldest deletions go first, as a device's own pruning does.
    const deletions = out.filter((r) => r.cue === null).sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : 1))
    const drop = new Set(deletions.slice(0, out.length - CUE_CAPS.registers))
    out = out.filter((r) => !drop.has(r))
    if (out.length > CUE_CAPS.registers) throw new BackupError('ERR_TOO_LARGE', `a recording has ${out.length} cues, over the ${CUE_CAPS.registers} a device keeps`)
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Note registers that merge (alone, or with any of `sets`) to what `sets` merge to: per field the winning write, as it was. */
export function joinNoteRegisters(sets: ReadonlyMap<string, readonly NoteRegister[]>): NoteRegister[] {
  const won = new Map<string, { reg: NoteRegister; author: string }>()
  for (const [author, regs] of sets) {
    for (const reg of regs) {
      const have = won.get(reg.field)
      if (!have || reg.clock > have.reg.clock || (reg.clock === have.reg.clock && author > have.author)) won.set(reg.field, { reg, author })
    }
  }
  return [...won.values()].map(({ reg }) => reg).sort((a, b) => NOTE_FIELDS.indexOf(a.field) - NOTE_FIELDS.indexOf(b.field))
}
