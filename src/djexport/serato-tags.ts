// `djcloud export serato --write-tags`: the export's model (tracks in this
// device's library, or one playlist's, already moved onto Serato's timeline
// by build.ts) written into the files themselves as Serato tags. Only MP3s
// in the library are written (never the cache's copies, whose bytes are
// checked against their SHA-256); each write is atomic, one file at a time.
// Each written file gets a new SHA-256 with the same audio hash: the next
// scan records it as a new version of the same track.
import { SeratoError, writeSeratoTags, type SeratoWriteResult } from '../serato/index.ts'
import type { ApiCall } from '../djimport/index.ts'
import { collectExport, type ExportOptions } from './run.ts'

export interface SeratoTagsRun {
  /** The MP3s written (with --dry-run: that would be written). */
  files: string[]
  written: SeratoWriteResult[]
  /** Tracks not written, with why (not an MP3, a tag that cannot be rewritten). */
  skipped: Array<{ file: string; reason: string }>
  /** Tracks without cues, loops or grid: nothing to write, left as they are. */
  unchanged: number
  /** Playlist entries whose track is not on this device. */
  notHere: number
}

export async function writeSeratoExport(call: ApiCall, opts: Pick<ExportOptions, 'playlist' | 'onProgress'> & { dryRun?: boolean }): Promise<SeratoTagsRun> {
  const result = await collectExport(call, { format: 'serato', ...(opts.playlist !== undefined ? { playlist: opts.playlist } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) })
  const out: SeratoTagsRun = { files: [], written: [], skipped: [], unchanged: 0, notHere: result.skipped.length }
  const tracks = result.lib.tracks
  for (const [i, t] of tracks.entries()) {
    opts.onProgress?.('writing tags', i, tracks.length)
    const file = t.location!
    if (t.cues.length === 0 && t.grid.length === 0) {
      out.unchanged++
      continue
    }
    if (!/\.mp3$/i.test(file)) {
      out.skipped.push({ file, reason: 'Serato tags are written into MP3 files only for now' })
      continue
    }
    if (opts.dryRun) {
      out.files.push(file)
      continue
    }
    try {
      out.written.push(await writeSeratoTags(file, { cues: t.cues, grid: t.grid, ...(t.color ? { color: t.color } : {}) }, { onSeratoTimeline: true }))
      out.files.push(file)
    } catch (err) {
      if (!(err instanceof SeratoError)) throw err
      out.skipped.push({ file, reason: err.message })
    }
  }
  return out
}
