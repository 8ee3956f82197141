// An import end to end over a node's view of the library: read what djcloud
// has for the matched recordings and the imported playlists, plan, and (unless
// a dry run) apply the plan. The node is reached through `NodeAccess`, so the
// command calls the running node's API and tests can count what is called.
import type { Cue } from '../library/index.ts'
import type { DjLibrary, DjTrack, Mp3TimingInfo } from '../djformats/index.ts'
import { matchTracks, type LibraryTrack, type MatchOptions } from './match.ts'
import { flattenPlaylists, locationEntryId, planImport, type ImportPlan, type PlaylistItem } from './plan.ts'
import { applyTimingOffsets } from './timing.ts'

export interface NodeAccess {
  /** The union library. */
  library(): Promise<LibraryTrack[]>
  /** A recording's merged cues. */
  cues(audioHash: string): Promise<Cue[]>
  /** djcloud's playlist names. */
  playlistNames(): Promise<string[]>
  playlist(name: string): Promise<PlaylistItem[]>
  putCues(audioHash: string, cues: Cue[]): Promise<void>
  createPlaylist(name: string): Promise<void>
  addToPlaylist(name: string, sha256s: string[]): Promise<void>
}

export interface ImportOptions extends MatchOptions {
  dryRun?: boolean
  /** Reads an MP3's header on this device (readMp3TimingInfo), so cues and grids are moved onto djcloud's timeline; absent: not moved. */
  timingOf?: (path: string) => Promise<Mp3TimingInfo | undefined>
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
  const cues = new Map<string, Cue[]>()
  const withCues = new Set(lib.tracks.filter((t) => t.cues.length).map((t) => t.id))
  await eachLimited(
    match.matched.filter((m) => withCues.has(m.entryId)),
    async (m) => void cues.set(m.audioHash, await node.cues(m.audioHash)),
  )
  const names = new Set(await node.playlistNames())
  const playlists = new Map<string, PlaylistItem[]>()
  for (const name of flattenPlaylists(lib.playlists).keys()) if (names.has(name)) playlists.set(name, await node.playlist(name))
  const timed = opts.timingOf ? await applyTimingOffsets(lib, match, library, opts.timingOf) : undefined
  const plan = planImport(timed?.lib ?? lib, match, { cues, playlists, audioOf, ...(timed ? { timing: timed.offsets } : {}) })
  if (opts.dryRun || plan.summary.changes === 0) return { plan, applied: false }
  await eachLimited(
    plan.tracks.filter((t) => t.cuesAfter),
    (t) => node.putCues(t.audioHash, t.cuesAfter!),
  )
  for (const p of plan.playlists) {
    if (p.create) await node.createPlaylist(p.name)
    if (p.add.length) await node.addToPlaylist(p.name, p.add)
  }
  return { plan, applied: true }
}
