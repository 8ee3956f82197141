// An import end to end over a node's view of the library: read what djcloud
// has for the matched recordings and the imported playlists, plan, and (unless
// a dry run) apply the plan. The node is reached through `NodeAccess`, so the
// command calls the running node's API and tests can count what is called.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { NotesChange } from '../manifest/index.ts'
import type { DjFormat, DjLibrary, DjTrack } from '../djformats/index.ts'
import { Matcher, type LibraryTrack, type Matched, type MatchMethod, type MatchOptions } from './match.ts'
import { shiftTrack, timingApplied, type TimingReader } from './timing.ts'
import { addTotals, assembleHead, flattenPlaylists, locationEntryId, noTotals, planPlaylists, planTrack, withTracks, type ImportPlan, type ImportPlanHead, type PlaylistItem, type TimingApplied, type TrackPlan } from './plan.ts'
import { memoryTrackPlans, type TrackPlans } from './plan-store.ts'

export interface NodeAccess {
  /** The union library. */
  library(): Promise<LibraryTrack[]>
  /**
   * The merged cues of these recordings, by audio hash (those without cues
   * absent). Asked for a batch of the entries being planned at a time
   * (STATE_BATCH), so djcloud's cues of the whole library are never held.
   */
  cuesOf(audioHashes: readonly string[]): Promise<Map<string, Cue[]>>
  /** The merged notes of these recordings, by audio hash (those without notes absent), asked as cuesOf is. */
  notesOf(audioHashes: readonly string[]): Promise<Map<string, TrackNotes>>
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
  /** Reads the file, giving each collection entry to onTrack in file order and waiting for the promise it may return before reading on (ReadOptions.onTrack). */
  read(onTrack: (track: DjTrack) => void | Promise<void>): Promise<DjLibrary>
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

/**
 * Matched entries planned together, against djcloud's cues and notes of
 * their recordings read for them (NodeAccess cuesOf, notesOf): the import
 * holds one batch of entries and its state, not the whole library's state
 * (~30 MB of heap for 20,000 recordings with 8 cues each). 100: reading 100
 * entries allocates less than V8's young generation holds, so an entry held
 * for its batch lives through at most one scavenge and dies young (one held
 * through two is promoted to the old generation and kept until a full GC).
 */
export const STATE_BATCH = 100

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
    'read' in source
      ? source
      : {
          format: source.format,
          async read(onTrack) {
            for (const t of source.tracks) await onTrack(t)
            return { ...source, tracks: [] }
          },
        }
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
  const names = new Set(await node.playlistNames())
  const totals = noTotals()
  const methods: Record<MatchMethod, number> = { path: 0, 'name-size-duration': 0, 'tags-duration': 0 }
  const puts = { cues: 0, notes: 0 }
  let entries = 0
  const planEntry = (t: DjTrack, m: Matched, cues: ReadonlyMap<string, Cue[]>, notes: ReadonlyMap<string, TrackNotes>) => {
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
    const planned = planTrack(timed, m, { cues, notes, analysis: analysisOf(m.audioHash), timing })
    addTotals(totals, planned)
    methods[planned.method]++
    if (planned.cuesAfter) puts.cues++
    if (Object.keys(planned.notes.set).length) puts.notes++
    tracks.add(planned)
  }
  // Each entry matched as it is read (file order: the first entry of a recording is the one imported), then
  // planned with its batch once djcloud's cues and notes of the batch's recordings are read; the plans handed
  // on in file order and let go. The reader waits for the batch it just filled: nothing is read (nothing
  // allocated) meanwhile, so however slow the node, a held entry lives through no more scavenges than its
  // batch's own reading causes, and is not promoted to the old generation (STATE_BATCH).
  let batch: Array<{ t: DjTrack; m: Matched }> = []
  let planning: Promise<void> = Promise.resolve()
  const flush = (): Promise<void> => {
    const items = batch
    batch = []
    const hashes = items.map((i) => i.m.audioHash) // one entry a recording: the matcher takes each recording once
    const state = Promise.all([node.cuesOf(hashes), node.notesOf(hashes)])
    const before = planning
    planning = (async () => {
      const [cues, notes] = await state
      await before
      for (const { t, m } of items) planEntry(t, m, cues, notes)
    })()
    // Awaited by the reader (or at the end); a read that fails first must not leave it unhandled.
    planning.catch(() => {})
    return planning
  }
  const lib = await streamed.read((t) => {
    entries++
    const m = matcher.add(t)
    if (!m) return
    batch.push({ t, m })
    if (batch.length >= STATE_BATCH) return flush()
  })
  if (batch.length) void flush()
  await planning
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
