// An import end to end over a node's view of the library: read what djcloud
// has for the matched recordings and the imported playlists, plan, and (unless
// a dry run) apply the plan. The node is reached through `NodeAccess`, so the
// command calls the running node's API and tests can count what is called.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { NotesChange } from '../manifest/index.ts'
import type { DjLibrary, DjTrack } from '../djformats/index.ts'
import { matchTracks, type LibraryTrack, type MatchOptions } from './match.ts'
import { shiftTrack, timingApplied, type TimingReader } from './timing.ts'
import { flattenPlaylists, locationEntryId, planImport, type ImportPlan, type PlaylistItem, type TimingApplied } from './plan.ts'

export interface NodeAccess {
  /** The union library. */
  library(): Promise<LibraryTrack[]>
  /** Every recording's merged cues, by audio hash (recordings without cues absent): one request, not one a track. */
  allCues(): Promise<Map<string, Cue[]>>
  /** Every recording's merged notes, by audio hash. */
  allNotes(): Promise<Map<string, TrackNotes>>
  /** djcloud's playlist names. */
  playlistNames(): Promise<string[]>
  playlist(name: string): Promise<PlaylistItem[]>
  putCues(audioHash: string, cues: Cue[]): Promise<void>
  /** Sets the fields given (the others left as they are). */
  putNotes(audioHash: string, notes: NotesChange): Promise<void>
  createPlaylist(name: string): Promise<void>
  addToPlaylist(name: string, sha256s: string[]): Promise<void>
}

export interface ImportOptions extends MatchOptions {
  dryRun?: boolean
  /** Reads an MP3's header on this device (default: from the file, readMp3TimingInfoSync); injected by tests. */
  readTiming?: TimingReader
  /** Called as writes go out (a first import of a large collection is tens of thousands of requests): what, how many done, of how many. */
  onProgress?: (phase: string, done: number, total: number) => void
}

export interface ImportResult {
  plan: ImportPlan
  applied: boolean
}

/** Playlist entries that name a file the collection does not list: matched by their path alone. */
function locationEntries(lib: DjLibrary): DjTrack[] {
  const out = new Map<string, DjTrack>()
  const walk = (nodes: DjLibrary['playlists']) => {
    for (const n of nodes) {
      if (n.type === 'folder') walk(n.children)
      else for (const e of n.entries) if ('location' in e) out.set(e.location, { id: locationEntryId(e.location), location: e.location, cues: [], grid: [] })
    }
  }
  walk(lib.playlists)
  return [...out.values()]
}

/** Requests to the node in flight at once: its cue writes run one at a time anyway; this hides the round trips. */
const IN_FLIGHT = 8

async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    try {
      while (!failed && next < items.length) await work(items[next++]!)
    } catch (err) {
      failed = true // the others stop after the request they are in
      throw err
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, worker))
}

export async function importLibrary(lib: DjLibrary, node: NodeAccess, opts: ImportOptions): Promise<ImportResult> {
  const library = await node.library()
  const match = matchTracks([...lib.tracks, ...locationEntries(lib)], library, opts)
  const audioOf = new Map(library.map((t) => [t.sha256, t.audioHash]))
  // What djcloud has of the matched recordings (the rest dropped at once: a library may hold many more).
  const matched = new Set(match.matched.map((m) => m.audioHash))
  const cues = new Map<string, Cue[]>()
  for (const [h, c] of await node.allCues()) if (matched.has(h)) cues.set(h, c)
  const notes = new Map<string, TrackNotes>()
  for (const [h, n] of await node.allNotes()) if (matched.has(h)) notes.set(h, n)
  const names = new Set(await node.playlistNames())
  const playlists = new Map<string, PlaylistItem[]>()
  for (const name of flattenPlaylists(lib.playlists).keys()) if (names.has(name)) playlists.set(name, await node.playlist(name))
  // Positions as djcloud's decoder puts them (timing.ts).
  const byEntry = new Map(match.matched.map((m) => [m.entryId, m.sha256]))
  const bySha = new Map(library.map((t) => [t.sha256, t]))
  const timing = new Map<string, TimingApplied>()
  const timed: DjLibrary = {
    ...lib,
    tracks: lib.tracks.map((t) => {
      const sha = byEntry.get(t.id)
      const here = sha ? bySha.get(sha) : undefined
      if (!here || (t.cues.length === 0 && t.grid.length === 0)) return t
      const applied = timingApplied(lib.format, { sha256: here.sha256, ...(here.format ? { format: here.format } : {}), ...(here.paths[0] ? { path: here.paths[0] } : {}) }, opts.readTiming)
      if (!applied) return t
      timing.set(t.id, applied)
      return 'offsetMs' in applied ? shiftTrack(t, applied.offsetMs) : t
    }),
  }
  const analysis = new Map(library.map((t) => [t.audioHash, { ...t.analysis, ...(t.tagKey ? { tagKey: t.tagKey } : {}) }]))
  const plan = planImport(timed, match, { cues, notes, playlists, audioOf, analysis, timing })
  if (opts.dryRun || plan.summary.changes === 0) return { plan, applied: false }
  const progress = opts.onProgress ?? (() => {})
  const counted = <T>(phase: string, items: T[], work: (item: T) => Promise<void>) => {
    let done = 0
    progress(phase, 0, items.length)
    return eachLimited(items, async (item) => {
      await work(item)
      progress(phase, ++done, items.length)
    })
  }
  await counted('cues', plan.tracks.filter((t) => t.cuesAfter), (t) => node.putCues(t.audioHash, t.cuesAfter!))
  await counted('notes', plan.tracks.filter((t) => Object.keys(t.notes.set).length), (t) => node.putNotes(t.audioHash, t.notes.set))
  let done = 0
  for (const p of plan.playlists) {
    progress('playlists', done++, plan.playlists.length)
    if (p.create) await node.createPlaylist(p.name)
    if (p.add.length) await node.addToPlaylist(p.name, p.add)
  }
  return { plan, applied: true }
}
