// An export end to end over the node's API: the union library (tracks
// present here), every recording's cues and notes (two requests, not two a
// track), the playlists; the model built (build.ts) and written atomically
// by the format's writer (the old file stays whole on failure).
import { rekordboxXml, traktorNml, writeDjFile, type DjFormat } from '../djformats/index.ts'
import { answerEntries, type ApiCall, type ApiEntries, type ListedTrack } from '../djimport/index.ts'
import type { Cue, TrackNotes } from '../library/index.ts'
import { buildExport, ModelCues, type ExportResult, type ExportTrack } from './build.ts'

export interface ExportOptions {
  format: DjFormat
  /** Only this djcloud playlist and its tracks. */
  playlist?: string
  /** Where a fetched track (in the cache, not in the library) is on this device; absent: fetched tracks are left out. */
  cachePath?: (sha256: string) => string
  /** Called as the work goes on (for a progress bar): a phase and how far. */
  onProgress?: (phase: string, done: number, total: number) => void
  /** Traktor: the volume a path outside /Volumes is on (default "Macintosh HD"). */
  bootVolume?: string
  /** Reads the large answers (library, cues, notes) as they arrive (http-access.ts); absent: each read whole. */
  entries?: ApiEntries
}

export interface ExportRun extends ExportResult {
  /** What the writer left out, with why (e.g. two tracks with one file, for Traktor). */
  writerSkipped: Array<{ what: string; reason: string }>
}

const enc = encodeURIComponent

export class ExportError extends Error {
  override name = 'ExportError'
  constructor(
    readonly code: 'ERR_PLAYLIST_NOT_FOUND',
    message: string,
  ) {
    super(message)
  }
}

/**
 * The tracks present here, by SHA-256, from the node's library listing. A
 * function of its own so that the listing (every track's whole record) is
 * let go before the next answer is read: a local of the async caller stays
 * alive across its later awaits.
 */
async function presentTracks(call: ApiCall, opts: ExportOptions): Promise<Map<string, ExportTrack>> {
  const cached = opts.cachePath
    ? new Set((await call<{ tracks: Array<{ sha256: string; state: string }> }>('GET', '/api/cache')).tracks.filter((t) => t.state === 'cached').map((t) => t.sha256))
    : new Set<string>()
  const tracks = new Map<string, ExportTrack>()
  await answerEntries(call, opts.entries, '/api/library', 'tracks', (_, entry) => {
    const t = entry as ListedTrack
    const path = !t.missing && t.paths.length ? t.paths[0] : cached.has(t.sha256) ? opts.cachePath!(t.sha256) : undefined
    if (!path) return
    tracks.set(t.sha256, {
      sha256: t.sha256,
      audioHash: t.audioHash,
      size: t.size,
      format: t.format,
      path,
      ...(t.tags.title ? { title: t.tags.title } : {}),
      ...(t.tags.artist ? { artist: t.tags.artist } : {}),
      ...(t.tags.album ? { album: t.tags.album } : {}),
      ...(t.tags.genre ? { genre: t.tags.genre } : {}),
      ...((t.analysis?.duration ?? t.tags.duration) !== undefined ? { duration: t.analysis?.duration ?? t.tags.duration } : {}),
      ...(t.tags.bpm ? { tagBpm: t.tags.bpm } : {}),
      ...(t.tags.key ? { tagKey: t.tags.key } : {}),
      ...(t.analysis ? { analysis: { bpm: t.analysis.bpm, beatOffset: t.analysis.beatOffset, key: t.analysis.key } } : {}),
    })
  })
  return tracks
}

/** Reads what the export needs from the node, builds the library; nothing is written. */
export async function collectExport(call: ApiCall, opts: ExportOptions): Promise<ExportResult> {
  const progress = opts.onProgress ?? (() => {})
  progress('reading the library', 0, 1)
  const tracks = await presentTracks(call, opts)
  progress('reading cues and notes', 0, 2)
  // Each recording's cues made the model's as they arrive: the answer's cue objects are let go at once.
  const cues = new Map<string, ModelCues>()
  await answerEntries(call, opts.entries, '/api/cues', 'cues', (h, c) => void cues.set(h as string, new ModelCues(c as Cue[])))
  progress('reading cues and notes', 1, 2)
  const notes = new Map<string, TrackNotes>()
  await answerEntries(call, opts.entries, '/api/notes', 'notes', (h, n) => void notes.set(h as string, n as TrackNotes))
  const names = (await call<{ playlists: Array<{ name: string }> }>('GET', '/api/playlists')).playlists.map((p) => p.name).sort()
  if (opts.playlist !== undefined && !names.includes(opts.playlist)) throw new ExportError('ERR_PLAYLIST_NOT_FOUND', `no playlist "${opts.playlist}" (djcloud playlist ls lists them)`)
  const playlists = []
  const read = opts.playlist === undefined ? names : [opts.playlist]
  for (const [i, name] of read.entries()) {
    progress('reading playlists', i, read.length)
    const { playlist } = await call<{ playlist: { entries: Array<{ track: { sha256: string } | null }> } }>('GET', `/api/playlists/${enc(name)}`)
    playlists.push({ name, entries: playlist.entries.map((e) => e.track?.sha256 ?? null) })
  }
  return buildExport({ format: opts.format, tracks, cues, notes, playlists, ...(opts.playlist !== undefined ? { playlist: opts.playlist } : {}) })
}

/** The writer's text chunks for a built export, reporting what it leaves out into `skipped`. */
export function exportChunks(result: ExportResult, opts: Pick<ExportOptions, 'format' | 'bootVolume'>, skipped: ExportRun['writerSkipped']): Iterable<string> {
  const onSkip = (what: string, reason: string) => void skipped.push({ what, reason })
  return opts.format === 'rekordbox' ? rekordboxXml(result.lib, { onSkip }) : traktorNml(result.lib, { onSkip, ...(opts.bootVolume ? { bootVolume: opts.bootVolume } : {}) })
}

/** Collects, builds and writes `out` atomically. */
export async function exportLibrary(call: ApiCall, out: string, opts: ExportOptions): Promise<ExportRun> {
  const result = await collectExport(call, opts)
  const writerSkipped: ExportRun['writerSkipped'] = []
  const total = result.lib.tracks.length
  let n = 0
  const counted = function* (chunks: Iterable<string>) {
    for (const c of chunks) {
      if (n < total && ++n % 500 === 0) opts.onProgress?.('writing', n, total)
      yield c
    }
  }
  await writeDjFile(out, counted(exportChunks(result, opts, writerSkipped)))
  return { ...result, writerSkipped }
}
