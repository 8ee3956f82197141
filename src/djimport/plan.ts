// The plan of an import: what it would add or change per matched recording
// (cues, notes: grid, key, rating, colour, comment, plays) and per playlist, compared with what djcloud has now, and what it
// does not carry. A plan with nothing to add or change is a re-import of the
// same file. Pure: the state is read before, the plan applied after.
import { hash } from 'node:crypto'
import { CUE_CAPS, CUE_SLOTS, NOTE_CAPS, NOTE_FIELDS, type Cue, type GridRow, type NoteField, type TrackNotes } from '../library/index.ts'
import { gridRow, isKeyName, type NotesChange } from '../manifest/index.ts'
import { keyFromText, type DjBeat, type DjCue, type DjLibrary, type DjPlaylistNode, type DjTrack, type DjTrackRef } from '../djformats/index.ts'
import type { Ambiguous, Duplicate, Matched, MatchMethod, MatchResult, Unmatched } from './match.ts'

/** An entry of a djcloud playlist as it is now: the file and its recording. */
export interface PlaylistItem {
  sha256: string
  audioHash: string
}

export interface CurrentState {
  /** The merged cues of each matched recording (absent: none). */
  cues: ReadonlyMap<string, readonly Cue[]>
  /** The merged notes of each matched recording (absent: none). */
  notes: ReadonlyMap<string, TrackNotes>
  /** djcloud's playlists by name. */
  playlists: ReadonlyMap<string, readonly PlaylistItem[]>
  /** Audio hash of every union track, by SHA-256. */
  audioOf: ReadonlyMap<string, string>
  /** djcloud's analysis (tempo, first beat, key) and the file's key tag, by audio hash: a grid or key an export wrote from them is not imported as the DJ's. */
  analysis?: ReadonlyMap<string, { bpm?: number; beatOffset?: number; key?: string; tagKey?: string }>
  /** The MP3 timing offset applied to each entry's positions (timing.ts), or why none could be, by entry id. */
  timing?: ReadonlyMap<string, TimingApplied>
}

/** The offset (ms) an entry's positions were moved by onto djcloud's timeline and the file's header case, or why it is unknown. */
export type TimingApplied = { offsetMs: number; case?: string } | { unknown: string }

export interface NotCarried {
  what: string
  reason: string
}

export interface TrackPlan {
  entryId: string
  sha256: string
  audioHash: string
  method: MatchMethod
  artist?: string
  title?: string
  cues: {
    add: Cue[]
    /** A cue djcloud has (same hot slot, or a memory cue at the same place) that the import changes. */
    change: Array<{ from: Cue; to: Cue }>
    unchanged: number
    notCarried: NotCarried[]
  }
  /** The MP3 timing offset applied to this entry's cues and grid (absent: not an MP3, or a format that needs none). */
  timing?: TimingApplied
  /** The recording's whole cue set after the import (what is PUT); absent when nothing changes. */
  cuesAfter?: Cue[]
  /** The recording's notes: the fields the import sets (only those that differ from djcloud's), those already the same, and what is not carried. */
  notes: {
    set: NotesChange
    unchanged: NoteField[]
    notCarried: NotCarried[]
  }
  /** What the file gives that djcloud does not take from it: its average tempo (the grid, or djcloud's analysis, gives the tempo). */
  notCarried: { bpm?: number }
}

export interface PlaylistPlan {
  name: string
  create: boolean
  /** SHA-256s appended, in order. */
  add: string[]
  unchanged: number
  skipped: Array<{ entry: string; reason: string }>
}

export interface ImportPlan {
  format: DjLibrary['format']
  tracks: TrackPlan[]
  playlists: PlaylistPlan[]
  unmatched: Unmatched[]
  ambiguous: Ambiguous[]
  duplicates: Duplicate[]
  /** Plays in the file's history: djcloud keeps no play history, so none is carried. */
  historyPlays: number
  summary: { entries: number; matched: number; cuesAdded: number; cuesChanged: number; notesSet: number; playlistsCreated: number; playlistEntriesAdded: number; changes: number }
}

/** The id an imported cue gets: the same on every device and every run, so re-imports and imports on two devices agree. */
export function importedCueId(audioHash: string, cue: Cue): string {
  const key = [audioHash, cue.kind, cue.slot ?? '', Math.round(cue.position * 1000), cue.length === undefined ? '' : Math.round(cue.length * 1000)].join('|')
  // One-shot hash: no Hash object (a native handle the GC only lets go late) for each of 160,000 cues of a large import.
  // Made flat through a buffer: 'dj' + a slice would keep the whole 43-character digest alive (V8 cons and
  // sliced strings), some 100 bytes more for each cue.
  return Buffer.from('dj' + hash('sha256', key, 'base64url').slice(0, 14), 'latin1').toString('latin1')
}

/** A location-only playlist entry's id in the match (it is matched like a collection entry with nothing but its path). */
export const locationEntryId = (location: string) => `location:${location}`

/** A cue name djcloud can keep: control characters out, at most 64 characters and 256 bytes. */
function cueName(name: string): string {
  // Most names are short and clean: kept as they are without splitting them into characters (20,000 tracks x 8 cues).
  if (name.length <= CUE_CAPS.nameChars && !/[\u0000-\u001f\u007f\ud800-\udfff]/.test(name) && Buffer.byteLength(name) <= CUE_CAPS.nameBytes) return name
  let out = [...name.replace(/[\u0000-\u001f\u007f]|\p{Cs}/gu, '')].slice(0, CUE_CAPS.nameChars).join('')
  while (Buffer.byteLength(out) > CUE_CAPS.nameBytes) out = [...out].slice(0, -1).join('')
  return out
}

const cueLabel = (c: DjCue) => `${c.type}${c.slot === null ? '' : ` ${CUE_SLOTS[c.slot] ?? c.slot}`} at ${(c.positionMs / 1000).toFixed(3)} s`

/**
 * A list the plan keeps: an empty one as the one shared, frozen empty list
 * (a plan of 20,000 tracks has some 80,000 empty lists, 32 bytes each).
 * Plans are not changed once made.
 */
const NONE: readonly never[] = Object.freeze([])
const kept = <T>(list: T[]): T[] => (list.length === 0 ? (NONE as unknown as T[]) : list)

/** The cues after an import, as the plan keeps them: the added list itself when it is the same cues in the same order (a first import), else an exactly sized copy. */
function sameOrder(after: Cue[], add: Cue[]): Cue[] {
  return after.length === add.length && after.every((c, i) => c === add[i]) ? add : after.slice()
}

/** An imported cue as a djcloud cue (without its id), or why it is not carried. */
function toCue(c: DjCue): Omit<Cue, 'id'> | NotCarried {
  if (c.type === 'fade-in' || c.type === 'fade-out' || c.type === 'load')
    return { what: cueLabel(c), reason: `djcloud has no ${c.type} markers` }
  const ms = Math.round(c.positionMs)
  if (!(ms >= 0 && ms <= CUE_CAPS.positionMs)) return { what: cueLabel(c), reason: 'position outside 0-24 h' }
  const slot = c.slot === null ? undefined : CUE_SLOTS[c.slot]
  const cue: Omit<Cue, 'id'> = slot ? { kind: 'hot', slot, position: ms / 1000 } : { kind: 'memory', position: ms / 1000 }
  const name = c.name === undefined ? '' : cueName(c.name)
  if (name) cue.name = name
  if (c.color) cue.color = c.color.toLowerCase()
  const len = c.type === 'loop' && c.lengthMs !== undefined ? Math.round(c.lengthMs) : 0
  if (len >= 1) cue.length = Math.min(len, CUE_CAPS.positionMs) / 1000
  return cue
}

/**
 * A plan's cue as one object literal with exactly its fields (same keys, same
 * order, same JSON as { id, ...cue }). Added to a smaller literal one by one,
 * fields spill into a property array V8 allocates beside each object: ~64
 * bytes more for each of the 160,000 cues of a 20,000-track import.
 */
function planCue(id: string, c: Omit<Cue, 'id'>): Cue {
  const { kind, slot, position, name, color, length } = c
  if (slot !== undefined) {
    if (length !== undefined)
      return name !== undefined ? (color !== undefined ? { id, kind, slot, position, name, color, length } : { id, kind, slot, position, name, length }) : color !== undefined ? { id, kind, slot, position, color, length } : { id, kind, slot, position, length }
    return name !== undefined ? (color !== undefined ? { id, kind, slot, position, name, color } : { id, kind, slot, position, name }) : color !== undefined ? { id, kind, slot, position, color } : { id, kind, slot, position }
  }
  if (length !== undefined)
    return name !== undefined ? (color !== undefined ? { id, kind, position, name, color, length } : { id, kind, position, name, length }) : color !== undefined ? { id, kind, position, color, length } : { id, kind, position, length }
  return name !== undefined ? (color !== undefined ? { id, kind, position, name, color } : { id, kind, position, name }) : color !== undefined ? { id, kind, position, color } : { id, kind, position }
}

const same = (a: Omit<Cue, 'id'>, b: Omit<Cue, 'id'>) =>
  a.kind === b.kind && a.slot === b.slot && a.position === b.position && a.name === b.name && a.color === b.color && a.length === b.length

/** Merges a recording's imported cues into what djcloud has: hot slots the import fills are set, other cues added once; nothing djcloud has is removed. */
function planCues(audioHash: string, imported: readonly DjCue[], have: readonly Cue[]): TrackPlan['cues'] & { after: Cue[] } {
  const after = have.map((c) => ({ ...c }))
  const out: TrackPlan['cues'] & { after: Cue[] } = { add: [], change: [], unchanged: 0, notCarried: [], after }
  const slotsGiven = new Set<string>()
  const seen = new Set<string>() // ids of the file's memory cues met so far
  for (const c of imported) {
    const cue = toCue(c)
    if ('reason' in cue) {
      out.notCarried.push(cue)
      continue
    }
    if (cue.slot) {
      if (slotsGiven.has(cue.slot)) {
        out.notCarried.push({ what: cueLabel(c), reason: `the file gives hot cue ${cue.slot} twice; the first is taken` })
        continue
      }
      slotsGiven.add(cue.slot)
    }
    // The cue djcloud has in its place: the hot cue of that slot, or a memory cue at the same position and length.
    // Only cues djcloud had count here (those this import adds follow them in `after`).
    const i = after.findIndex(
      (h, j) =>
        j < have.length &&
        (cue.slot ? h.kind === 'hot' && h.slot === cue.slot : h.kind === 'memory' && cue.kind === 'memory' && h.position === cue.position && h.length === cue.length),
    )
    if (i >= 0) {
      const { id, ...was } = after[i]!
      // A name or colour the file does not give is kept (Traktor stores no cue colours; an unnamed cue is no rename).
      const next: Omit<Cue, 'id'> = { ...cue, ...(cue.name === undefined && was.name !== undefined ? { name: was.name } : {}), ...(cue.color === undefined && was.color !== undefined ? { color: was.color } : {}) }
      if (same(was, next)) out.unchanged++
      else {
        out.change.push({ from: after[i]!, to: { id, ...next } })
        after[i] = { id, ...next }
      }
      continue
    }
    const added = planCue(importedCueId(audioHash, cue as Cue), cue)
    if (seen.has(added.id)) {
      out.notCarried.push({ what: cueLabel(c), reason: 'the file gives this cue twice' })
      continue
    }
    seen.add(added.id)
    // Imported before and moved or renamed in djcloud since (it keeps its id): the DJ's later edit stands.
    if (after.some((h) => h.id === added.id)) {
      out.unchanged++
      continue
    }
    if (after.length >= CUE_CAPS.cues) {
      out.notCarried.push({ what: cueLabel(c), reason: `djcloud keeps at most ${CUE_CAPS.cues} cues a recording` })
      continue
    }
    out.add.push(added)
    after.push(added)
  }
  // Arrays grown by push keep spare room (17 slots for 8 cues); the plan keeps them, so exactly sized.
  out.add = out.add.slice()
  out.change = kept(out.change)
  out.notCarried = kept(out.notCarried)
  return out
}

/** A comment djcloud keeps: control characters but newline and tab out, at most 1024 bytes. */
function commentText(text: string): string {
  if (!/[\u0000-\u0008\u000b-\u001f\u007f\ud800-\udfff]/.test(text) && Buffer.byteLength(text) <= NOTE_CAPS.commentBytes) return text
  let out = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]|\p{Cs}/gu, '')
  while (Buffer.byteLength(out) > NOTE_CAPS.commentBytes) out = [...out].slice(0, -1).join('')
  return out
}

/** The grid as djcloud keeps it (rows to the ns, tempo to the millionth), rows it cannot keep listed. */
function toGrid(rows: readonly DjBeat[], notCarried: NotCarried[]): GridRow[] {
  const out: GridRow[] = []
  for (const r of rows) {
    const row = gridRow(r.positionMs / 1000, r.bpm, r.beatOfBar)
    const what = `grid row at ${(r.positionMs / 1000).toFixed(3)} s`
    if (!row) notCarried.push({ what, reason: 'tempo outside 1-1000 BPM, beat outside 1-4 or position outside ±24 h' })
    else if (out.length && row.position <= out[out.length - 1]!.position) notCarried.push({ what, reason: 'the same position as the row before' })
    else if (out.length >= NOTE_CAPS.gridRows) notCarried.push({ what, reason: `djcloud keeps at most ${NOTE_CAPS.gridRows} grid rows` })
    else out.push(row)
  }
  return out.slice() // exactly sized: the plan keeps it
}

/** The imported notes against djcloud's: a field the file gives (a rating of 0 and a play count of 0 are none given) is set when it differs (a play count when it is higher). */
function planNotes(t: DjTrack, have: TrackNotes, own: { bpm?: number; beatOffset?: number; key?: string; tagKey?: string } = {}): TrackPlan['notes'] {
  const notCarried: NotCarried[] = []
  const given: NotesChange = {}
  if (t.grid.length) {
    const grid = toGrid(t.grid, notCarried)
    // The analysis' grid, as an export writes it for a track without a user grid, coming back: djcloud's own, not the DJ's.
    const analysed = own.bpm !== undefined && own.beatOffset !== undefined ? gridRow(own.beatOffset, own.bpm, 1) : null
    if (grid.length && !(have.grid === undefined && analysed && grid.length === 1 && JSON.stringify(grid[0]) === JSON.stringify(analysed))) given.grid = grid
  }
  if (t.key !== undefined) {
    const ownKey = own.key ?? (own.tagKey ? keyFromText(own.tagKey) : null)
    if (!isKeyName(t.key)) notCarried.push({ what: `key ${t.key}`, reason: 'not a key djcloud names' })
    else if (!(have.key === undefined && t.key === ownKey)) given.key = t.key
  }
  if (t.rating !== undefined && t.rating > 0) given.rating = Math.min(5, Math.max(0, Math.round(t.rating)))
  if (t.color !== undefined) given.color = t.color.toLowerCase()
  if (t.comment !== undefined) {
    const c = commentText(t.comment)
    if (c) given.comment = c
  }
  if (t.playCount !== undefined && t.playCount > 0) given.plays = Math.min(t.playCount, NOTE_CAPS.plays)
  const set: NotesChange = {}
  const unchanged: NoteField[] = []
  for (const f of NOTE_FIELDS) {
    if (given[f] === undefined) continue
    // A play count only goes up: two programs' files imported in turn do not undo each other's count.
    if (JSON.stringify(given[f]) === JSON.stringify(have[f]) || (f === 'plays' && (have.plays ?? 0) >= given.plays!)) unchanged.push(f)
    else (set as Record<string, unknown>)[f] = given[f]
  }
  return { set, unchanged: kept(unchanged), notCarried: kept(notCarried) }
}

/**
 * Between folder names in a playlist's djcloud name: "Folder › Sub › Playlist".
 * Not "/": the API addresses a playlist by its name as one path segment, and
 * a segment may not hold "/" or "\\" (src/player/router.ts).
 */
export const FOLDER_SEPARATOR = ' › '

/** A folder or playlist name as one part of a djcloud name: "/" and "\\" (which a URL segment may not hold) become "∕" and "⧵", which look alike. */
const part = (name: string) => name.replace(/\//g, '\u2215').replace(/\\/g, '\u29f5')

/** Playlists flattened to djcloud names: folders kept as a path, "Folder › Sub › Playlist". Same-named ones are joined. */
export function flattenPlaylists(nodes: readonly DjPlaylistNode[], prefix = '', out = new Map<string, DjTrackRef[]>()): Map<string, DjTrackRef[]> {
  for (const n of nodes) {
    const name = prefix + part(n.name)
    if (n.type === 'folder') flattenPlaylists(n.children, name + FOLDER_SEPARATOR, out)
    else out.set(name, [...(out.get(name) ?? []), ...n.entries])
  }
  return out
}

/** What djcloud accepts as a playlist name (as POST /api/playlists checks it). */
const goodPlaylistName = (name: string) => name.length > 0 && name !== '.' && name !== '..' && Buffer.byteLength(name) <= 256 && !/[\u0000-\u001f\u007f]/.test(name)

/** One matched entry's plan: its cues and notes against what djcloud has of its recording. */
export function planTrack(t: DjTrack, m: Matched, state: Pick<CurrentState, 'cues' | 'notes' | 'analysis' | 'timing'>): TrackPlan {
  const { after, ...cues } = planCues(m.audioHash, t.cues, state.cues.get(m.audioHash) ?? [])
  const changed = cues.add.length > 0 || cues.change.length > 0
  return {
    entryId: m.entryId,
    sha256: m.sha256,
    audioHash: m.audioHash,
    method: m.method,
    ...(t.artist ? { artist: t.artist } : {}),
    ...(t.title ? { title: t.title } : {}),
    cues,
    ...(state.timing?.has(m.entryId) ? { timing: state.timing.get(m.entryId)! } : {}),
    ...(changed ? { cuesAfter: sameOrder(after.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1)), cues.add) } : {}),
    notes: planNotes(t, state.notes.get(m.audioHash) ?? {}, state.analysis?.get(m.audioHash)),
    notCarried: t.bpm !== undefined ? { bpm: t.bpm } : {},
  }
}

/** The playlists' plan: each flattened playlist against djcloud's of the same name. */
export function planPlaylists(nodes: readonly DjPlaylistNode[], match: MatchResult, state: Pick<CurrentState, 'playlists' | 'audioOf'>): PlaylistPlan[] {
  const why = new Map<string, string>([
    ...match.unmatched.map((u) => [u.entryId, `not matched: ${u.reason}`] as const),
    ...match.ambiguous.map((a) => [a.entryId, `ambiguous: ${a.reason}`] as const),
  ])
  const playlists: PlaylistPlan[] = []
  for (const [name, refs] of flattenPlaylists(nodes)) {
    const have = state.playlists.get(name)
    const plan: PlaylistPlan = { name, create: have === undefined, add: [], unchanged: 0, skipped: [] }
    if (!goodPlaylistName(name)) {
      playlists.push({ ...plan, create: false, skipped: [{ entry: name, reason: 'not a playlist name djcloud takes (1-256 bytes, no control characters, not "..")' }] })
      continue
    }
    // What is there already, by recording, counted (a track may be in a playlist twice).
    const left = new Map<string, number>()
    for (const item of have ?? []) left.set(item.audioHash, (left.get(item.audioHash) ?? 0) + 1)
    for (const ref of refs) {
      const entry = 'trackId' in ref ? ref.trackId : locationEntryId(ref.location)
      const sha = match.byEntry.get(entry)
      if (!sha) {
        plan.skipped.push({ entry: 'trackId' in ref ? ref.trackId : ref.location, reason: why.get(entry) ?? 'not in the file\'s collection' })
        continue
      }
      const audio = state.audioOf.get(sha) ?? sha
      const n = left.get(audio) ?? 0
      if (n > 0) {
        left.set(audio, n - 1)
        plan.unchanged++
      } else plan.add.push(sha)
    }
    playlists.push(plan)
  }
  return playlists
}

/** What a plan says besides its tracks' plans (those may be spooled to a file while the rest is kept: plan-store.ts). */
export type ImportPlanHead = Omit<ImportPlan, 'tracks'>

/** The counts a plan's summary takes from its tracks' plans, added up as they are made. */
export interface TrackTotals {
  matched: number
  cuesAdded: number
  cuesChanged: number
  notesSet: number
}

export const noTotals = (): TrackTotals => ({ matched: 0, cuesAdded: 0, cuesChanged: 0, notesSet: 0 })

export function addTotals(totals: TrackTotals, t: TrackPlan): void {
  totals.matched++
  totals.cuesAdded += t.cues.add.length
  totals.cuesChanged += t.cues.change.length
  totals.notesSet += Object.keys(t.notes.set).length
}

/** The plan without its tracks' plans: the playlists' plans, the match's lists and the counts. */
export function assembleHead(parts: { format: DjLibrary['format']; entries: number; historyPlays: number; totals: TrackTotals; playlists: PlaylistPlan[]; match: MatchResult }): ImportPlanHead {
  const { totals, playlists, match } = parts
  const playlistsCreated = playlists.filter((p) => p.create).length
  const playlistEntriesAdded = playlists.reduce((n, p) => n + p.add.length, 0)
  const { cuesAdded, cuesChanged, notesSet } = totals
  return {
    format: parts.format,
    playlists,
    unmatched: match.unmatched,
    ambiguous: match.ambiguous,
    duplicates: match.duplicates,
    historyPlays: parts.historyPlays,
    summary: {
      entries: parts.entries,
      matched: totals.matched,
      cuesAdded,
      cuesChanged,
      notesSet,
      playlistsCreated,
      playlistEntriesAdded,
      changes: cuesAdded + cuesChanged + notesSet + playlistsCreated + playlistEntriesAdded,
    },
  }
}

/** A plan's head with its tracks (anything: the plans, or a stand-in the JSON writer replaces), the keys in the plan's order. */
export function withTracks<T>(head: ImportPlanHead, tracks: T): Omit<ImportPlan, 'tracks'> & { tracks: T } {
  const { format, ...rest } = head
  return { format, tracks, ...rest }
}

/** The whole plan from its parts: the tracks' (in file order) and the playlists' plans, the match's lists and the counts. */
export function assemblePlan(parts: { format: DjLibrary['format']; entries: number; historyPlays: number; tracks: TrackPlan[]; playlists: PlaylistPlan[]; match: MatchResult }): ImportPlan {
  const totals = noTotals()
  for (const t of parts.tracks) addTotals(totals, t)
  return withTracks(assembleHead({ ...parts, totals }), parts.tracks)
}

export function planImport(lib: DjLibrary, match: MatchResult, state: CurrentState): ImportPlan {
  const entries = new Map(lib.tracks.map((t) => [t.id, t]))
  const tracks = match.matched.filter((m) => entries.has(m.entryId)).map((m) => planTrack(entries.get(m.entryId)!, m, state))
  return assemblePlan({ format: lib.format, entries: lib.tracks.length, historyPlays: lib.history.length, tracks, playlists: planPlaylists(lib.playlists, match, state), match })
}
