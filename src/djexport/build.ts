// The DJ library an export writes: djcloud's tracks present on this device
// (or one playlist's), with their cues, loops, notes (user grid and key win
// over the analysis'), and the playlists, as the normalised model the
// rekordbox and Traktor writers take. Pure: the node's state is read before.
import type { DjBeat, DjCue, DjFormat, DjLibrary, DjPlaylistNode, DjTrack } from '../djformats/index.ts'
import { keyFromText } from '../djformats/index.ts'
import { FOLDER_SEPARATOR, shiftTrack, timingOffsetMs } from '../djimport/index.ts'
import { CUE_SLOTS, type Cue, type TrackNotes } from '../library/index.ts'

/** A track as the export sees it: where it is here, what it is. */
export interface ExportTrack {
  sha256: string
  audioHash: string
  size: number
  format: string
  /** The file on this device (a library path, or the cache's copy of a fetched track). */
  path: string
  title?: string
  artist?: string
  album?: string
  genre?: string
  /** Seconds: the analysis', else the tags'. */
  duration?: number
  tagBpm?: number
  tagKey?: string
  analysis?: { bpm?: number; beatOffset?: number; key?: string }
}

export interface ExportInput {
  format: DjFormat
  /** Tracks present here, by SHA-256. */
  tracks: ReadonlyMap<string, ExportTrack>
  /** Each recording's cues as the node gives them, or already as the model's (ModelCues). */
  cues: ReadonlyMap<string, readonly Cue[] | ModelCues>
  notes: ReadonlyMap<string, TrackNotes>
  /** djcloud playlists in order of name: each entry's SHA-256 (the union track it resolves to), or null when it resolves to none. */
  playlists: ReadonlyArray<{ name: string; entries: ReadonlyArray<string | null> }>
  /** Only this playlist and its tracks (absent: every track here and every playlist). */
  playlist?: string
}

export interface ExportResult {
  lib: DjLibrary
  summary: { tracks: number; cues: number; loops: number; grids: number; userGrids: number; keys: number; notes: number; playlists: number; playlistEntries: number }
  /** Playlist entries left out: their track is not on this device (or resolves to none). */
  skipped: Array<{ playlist: string; sha256: string | null; reason: string }>
}

/** "Folder › Sub › Playlist" back to folders (the import's naming), the lookalikes back to "/" and "\\". */
function splitName(name: string): string[] {
  return name.split(FOLDER_SEPARATOR).map((p) => p.replace(/\u2215/g, '/').replace(/\u29f5/g, '\\'))
}

function insert(root: DjPlaylistNode[], path: string[], entries: DjPlaylistNode & { type: 'playlist' }): void {
  let level = root
  for (const folder of path.slice(0, -1)) {
    let f = level.find((n): n is DjPlaylistNode & { type: 'folder' } => n.type === 'folder' && n.name === folder)
    if (!f) level.push((f = { type: 'folder', name: folder, children: [] }))
    level = f.children
  }
  level.push(entries)
}

/**
 * A djcloud cue as the model's cue, one object literal with exactly its
 * fields (added one by one, fields spill into a property array V8 allocates
 * beside each of the 160,000 cues of a 20,000-track export).
 */
function toDjCue(c: Cue): DjCue {
  const type = c.length !== undefined ? 'loop' : 'cue'
  const slot = c.kind === 'hot' && c.slot ? CUE_SLOTS.indexOf(c.slot) : null
  const positionMs = Math.round(c.position * 1000)
  const name = c.name ? c.name : undefined
  const color = c.color ? c.color : undefined
  if (c.length !== undefined) {
    const lengthMs = Math.round(c.length * 1000)
    return name !== undefined ? (color !== undefined ? { type, slot, positionMs, lengthMs, name, color } : { type, slot, positionMs, lengthMs, name }) : color !== undefined ? { type, slot, positionMs, lengthMs, color } : { type, slot, positionMs, lengthMs }
  }
  return name !== undefined ? (color !== undefined ? { type, slot, positionMs, name, color } : { type, slot, positionMs, name }) : color !== undefined ? { type, slot, positionMs, color } : { type, slot, positionMs }
}

/**
 * A recording's cues already as the model's, converted as the node's answer
 * arrives (collectExport): the answer's own cue objects are then never held
 * beside the model's (160,000 of each for 20,000 tracks).
 */
export class ModelCues {
  readonly cues: DjCue[]
  constructor(cues: readonly Cue[]) {
    this.cues = cues.map(toDjCue)
  }
}

/** The grid an export writes: the DJ's (notes), else the analysis' (one row from its first beat), else none. */
function gridOf(t: ExportTrack, n: TrackNotes): DjBeat[] {
  if (n.grid) return n.grid.map((r) => ({ positionMs: Math.round(r.position * 1e9) / 1e6, bpm: r.bpm, beatOfBar: r.beat }))
  const a = t.analysis
  if (a?.bpm && a.beatOffset !== undefined) return [{ positionMs: Math.round(a.beatOffset * 1e9) / 1e6, bpm: a.bpm, beatOfBar: 1 }]
  return []
}

export function buildExport(input: ExportInput): ExportResult {
  const skipped: ExportResult['skipped'] = []
  const lists = input.playlist === undefined ? input.playlists : input.playlists.filter((p) => p.name === input.playlist)
  const wanted = input.playlist === undefined ? new Set(input.tracks.keys()) : new Set(lists.flatMap((p) => p.entries.filter((e): e is string => e !== null && input.tracks.has(e))))
  const summary: ExportResult['summary'] = { tracks: 0, cues: 0, loops: 0, grids: 0, userGrids: 0, keys: 0, notes: 0, playlists: 0, playlistEntries: 0 }
  const tracks: DjTrack[] = []
  for (const sha of [...wanted].sort()) {
    const t = input.tracks.get(sha)!
    const n = input.notes.get(t.audioHash) ?? {}
    const given = input.cues.get(t.audioHash) ?? []
    const cues = given instanceof ModelCues ? given.cues : given.map(toDjCue)
    const grid = gridOf(t, n)
    const key = n.key ?? t.analysis?.key ?? (t.tagKey ? (keyFromText(t.tagKey) ?? undefined) : undefined)
    const bpm = grid[0]?.bpm ?? t.analysis?.bpm ?? t.tagBpm
    const dj: DjTrack = {
      id: sha,
      location: t.path,
      size: t.size,
      ...(t.duration !== undefined ? { durationS: t.duration } : {}),
      ...(t.title ? { title: t.title } : {}),
      ...(t.artist ? { artist: t.artist } : {}),
      ...(t.album ? { album: t.album } : {}),
      ...(t.genre ? { genre: t.genre } : {}),
      ...(bpm ? { bpm } : {}),
      ...(key ? { key } : {}),
      ...(n.rating !== undefined ? { rating: n.rating } : {}),
      ...(n.color ? { color: n.color } : {}),
      ...(n.comment ? { comment: n.comment } : {}),
      ...(n.plays !== undefined ? { playCount: n.plays } : {}),
      cues,
      grid,
    }
    // Positions as the DJ program's decoder puts them (src/djimport/timing.ts).
    tracks.push(shiftTrack(dj, -timingOffsetMs(input.format, { sha256: sha, format: t.format, path: t.path })))
    summary.tracks++
    for (const c of cues) {
      if (c.type === 'loop') summary.loops++
      else summary.cues++
    }
    if (grid.length) summary.grids++
    if (n.grid) summary.userGrids++
    if (key) summary.keys++
    if (n.rating !== undefined || n.color || n.comment || n.plays !== undefined) summary.notes++
  }
  const playlists: DjPlaylistNode[] = []
  for (const p of lists) {
    const entries = []
    for (const sha of p.entries) {
      if (sha !== null && wanted.has(sha)) entries.push({ trackId: sha })
      else skipped.push({ playlist: p.name, sha256: sha, reason: sha === null ? 'the entry resolves to no track of the library' : 'the track is not on this device' })
    }
    insert(playlists, splitName(p.name), { type: 'playlist', name: splitName(p.name).at(-1)!, entries })
    summary.playlists++
    summary.playlistEntries += entries.length
  }
  return { lib: { format: input.format, tracks, playlists, history: [], warnings: [], warningsDropped: 0 }, summary, skipped }
}
