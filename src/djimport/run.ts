// An import end to end over a node's view of the library: read what djcloud
// has for the matched recordings and the imported playlists, plan, and (unless
// a dry run) apply the plan. The node is reached through `NodeAccess`, so the
// command calls the running node's API and tests can count what is called.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { NotesChange } from '../manifest/index.ts'
import type { DjFormat, DjLibrary, DjTrack } from '../djformats/index.ts'
import { Matcher, type LibraryTrack, type MatchMethod, type MatchOptions } from './match.ts'
import { shiftTrack, timingApplied, type TimingReader } from './timing.ts'
import { addTotals, assembleHead, flattenPlaylists, locationEntryId, noTotals, planPlaylists, planTrack, withTracks, type ImportPlan, type ImportPlanHead, type PlaylistItem, type TimingApplied, type TrackPlan } from './plan.ts'
import { memoryTrackPlans, type TrackPlans } from './plan-store.ts'

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

/** An import whose tracks' plans are kept in a TrackPlans (e.g. spooled to a file): the rest of the plan, and where the tracks' plans are. */
export interface KeptImportResult {
  plan: ImportPlanHead
  /** The tracks' plans, in file order (the caller closes them). */
  tracks: TrackPlans
  /** Matched entries by the step that matched them (the text's summary line). */
  methods: Record<MatchMethod, number>
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

/** Runs work over the items, IN_FLIGHT at a time, in order of start; the first failure stops the others after the request they are in. */
async function eachLimited<T>(items: AsyncIterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.asyncIterator]()
  let failed = false
  const worker = async () => {
    try {
      for (;;) {
        if (failed) return
        const next = await it.next() // an async generator answers concurrent calls in turn
        if (next.done) return
        await work(next.value)
      }
    } catch (err) {
      failed = true
      throw err
    }
  }
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  } finally {
    await it.return?.()
  }
}

async function* where<T>(items: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of items) if (keep(item)) yield item
}

interface Planned {
  plan: ImportPlanHead
  methods: Record<MatchMethod, number>
  /** Tracks whose cues, and whose notes, the plan writes. */
  puts: { cues: number; notes: number }
}

/**
 * Reads the node, then the file, each entry matched and planned as it is
 * read and its plan handed to `tracks`. A function of its own so that the
 * library listing, its indexes and the reader's state are let go before the
 * plan is applied or printed (a local of the async caller stays alive
 * across its later awaits).
 */
async function planLibrary(source: DjLibrary | StreamedLibrary, node: NodeAccess, opts: ImportOptions, tracks: TrackPlans): Promise<Planned> {
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
  const totals = noTotals()
  const methods: Record<MatchMethod, number> = { path: 0, 'name-size-duration': 0, 'tags-duration': 0 }
  const puts = { cues: 0, notes: 0 }
  let entries = 0
  // Each entry matched and planned as it is read, in file order; its plan handed on and let go.
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
    const plan = planTrack(timed, m, { cues, notes, analysis: analysisOf(m.audioHash), timing })
    addTotals(totals, plan)
    methods[plan.method]++
    if (plan.cuesAfter) puts.cues++
    if (Object.keys(plan.notes.set).length) puts.notes++
    tracks.add(plan)
    cues.delete(m.audioHash)
    notes.delete(m.audioHash)
  })
  for (const t of locationEntries(lib)) matcher.add(t)
  const playlists = new Map<string, PlaylistItem[]>()
  for (const name of flattenPlaylists(lib.playlists).keys()) if (names.has(name)) playlists.set(name, await node.playlist(name))
  const match = matcher.result
  const plan = assembleHead({ format: lib.format, entries, historyPlays: lib.history.length, totals, playlists: planPlaylists(lib.playlists, match, { playlists, audioOf }), match })
  return { plan, methods, puts }
}

/** Writes a plan through the node: each recording's cues, then notes (IN_FLIGHT requests at a time), then the playlists one by one. */
async function applyPlan(planned: Planned, tracks: TrackPlans, node: NodeAccess, opts: ImportOptions): Promise<void> {
  const progress = opts.onProgress ?? (() => {})
  const counted = <T>(phase: string, total: number, items: AsyncIterable<T>, work: (item: T) => Promise<void>) => {
    let done = 0
    progress(phase, 0, total)
    return eachLimited(items, async (item) => {
      await work(item)
      progress(phase, ++done, total)
    })
  }
  await counted('cues', planned.puts.cues, where(tracks.read(), (t) => t.cuesAfter !== undefined), (t) => node.putCues(t.audioHash, t.cuesAfter!))
  await counted('notes', planned.puts.notes, where(tracks.read(), (t) => Object.keys(t.notes.set).length > 0), (t) => node.putNotes(t.audioHash, t.notes.set))
  const { playlists } = planned.plan
  let done = 0
  for (const p of playlists) {
    progress('playlists', done++, playlists.length)
    if (p.create) await node.createPlaylist(p.name)
    if (p.add.length) await node.addToPlaylist(p.name, p.add)
  }
}

/**
 * An import whose tracks' plans go to `tracks` as they are made (e.g.
 * spoolTrackPlans: a large import's plan then is not held in memory) and
 * are read from it again to be applied (unless a dry run) and printed.
 */
export async function importLibraryInto(source: DjLibrary | StreamedLibrary, node: NodeAccess, opts: ImportOptions, tracks: TrackPlans): Promise<KeptImportResult> {
  const planned = await planLibrary(source, node, opts, tracks)
  const { plan, methods } = planned
  if (opts.dryRun || plan.summary.changes === 0) return { plan, tracks, methods, applied: false }
  await applyPlan(planned, tracks, node, opts)
  return { plan, tracks, methods, applied: true }
}

/** An import with its whole plan in memory (the node's upload route, tests). */
export async function importLibrary(source: DjLibrary | StreamedLibrary, node: NodeAccess, opts: ImportOptions): Promise<ImportResult> {
  const tracks = memoryTrackPlans()
  const { plan, applied } = await importLibraryInto(source, node, opts, tracks)
  return { plan: withTracks(plan, tracks.list), applied }
}
