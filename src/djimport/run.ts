// An import end to end over a node's view of the library: read what djcloud
// has for the matched recordings and the imported playlists, plan, and (unless
// a dry run) apply the plan. The node is reached through `NodeAccess`, so the
// command calls the running node's API and tests can count what is called.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { NotesChange } from '../manifest/index.ts'
import type { DjFormat, DjLibrary, DjTrack } from '../djformats/index.ts'
import { Matcher, type LibraryTrack, type MatchOptions } from './match.ts'
import { shiftTrack, timingApplied, type TimingReader } from './timing.ts'
import { assemblePlan, flattenPlaylists, locationEntryId, planPlaylists, planTrack, type ImportPlan, type PlaylistItem, type TimingApplied, type TrackPlan } from './plan.ts'

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

/**
 * A file read as the import goes (readDjFile with its onTrack option): each
 * collection entry is matched and planned as it is read and then let go, so
 * a large file's model is never held whole beside the plan. `read` resolves
 * with the rest of the file (playlists, history, warnings).
 */
export interface StreamedLibrary {
  format: DjFormat
  read(onTrack: (track: DjTrack) => void): Promise<DjLibrary>
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

export async function importLibrary(source: DjLibrary | StreamedLibrary, node: NodeAccess, opts: ImportOptions): Promise<ImportResult> {
  const streamed: StreamedLibrary =
    'read' in source ? source : { format: source.format, read: async (onTrack) => (source.tracks.forEach((t) => onTrack(t)), { ...source, tracks: [] }) }
  const library = await node.library()
  const matcher = new Matcher(library, opts)
  const audioOf = new Map(library.map((t) => [t.sha256, t.audioHash]))
  const bySha = new Map(library.map((t) => [t.sha256, t]))
  // djcloud's analysis and key tag of a recording: its last file listed (as a map by audio hash built from the listing has it), made when planned.
  const byAudio = new Map(library.map((t) => [t.audioHash, t]))
  const analysisOf = (h: string) => {
    const t = byAudio.get(h)!
    return new Map([[h, { ...t.analysis, ...(t.tagKey ? { tagKey: t.tagKey } : {}) }]])
  }
  // What djcloud has (each recording's let go once planned: a recording is planned once).
  const cues = await node.allCues()
  const notes = await node.allNotes()
  const names = new Set(await node.playlistNames())
  const tracks: TrackPlan[] = []
  let entries = 0
  // Each entry matched and planned as it is read, in file order.
  const lib = await streamed.read((t) => {
    entries++
    const m = matcher.add(t)
    if (!m) return
    // Positions as djcloud's decoder puts them (timing.ts).
    const here = bySha.get(m.sha256)
    const timing = new Map<string, TimingApplied>()
    let timed = t
    if (here && (t.cues.length > 0 || t.grid.length > 0)) {
      const applied = timingApplied(streamed.format, { sha256: here.sha256, ...(here.format ? { format: here.format } : {}), ...(here.paths[0] ? { path: here.paths[0] } : {}) }, opts.readTiming)
      if (applied) {
        timing.set(t.id, applied)
        if ('offsetMs' in applied) timed = shiftTrack(t, applied.offsetMs)
      }
    }
    tracks.push(planTrack(timed, m, { cues, notes, analysis: analysisOf(m.audioHash), timing }))
    cues.delete(m.audioHash)
    notes.delete(m.audioHash)
  })
  for (const t of locationEntries(lib)) matcher.add(t)
  const playlists = new Map<string, PlaylistItem[]>()
  for (const name of flattenPlaylists(lib.playlists).keys()) if (names.has(name)) playlists.set(name, await node.playlist(name))
  const match = matcher.result
  const plan = assemblePlan({ format: lib.format, entries, historyPlays: lib.history.length, tracks, playlists: planPlaylists(lib.playlists, match, { playlists, audioOf }), match })
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
