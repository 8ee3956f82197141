// A Serato "library" for the import: the tags inside the given files (the
// union library's files on this device, as djimport picks them) and the
// crates of a _Serato_ folder, as one DjLibrary. Each file is its own entry,
// named by its path (matching is by path: the tags are inside the tracks).
import type { DjLibrary, DjTrack, DjWarning } from '../djformats/index.ts'
import { MAX_WARNINGS } from '../djformats/index.ts'
import { readCrates } from './crate.ts'
import { readSeratoFile } from './read.ts'

export interface SeratoSourceOptions {
  /** Files to read the tags of, with what the library knows of them. */
  files: ReadonlyArray<{ path: string; size?: number; durationS?: number; title?: string; artist?: string }>
  /** A _Serato_ folder whose Subcrates become playlists. */
  seratoDir?: string
  exists?: (path: string) => boolean
  /** Files read at once (default 4). */
  concurrency?: number
}

/** Extensions whose Serato tags are read (ID3 in MP3/AIFF, Vorbis comments in FLAC, MP4 atoms). */
export const SERATO_TAGGED = /\.(mp3|aiff?|flac|m4a|mp4|ogg)$/i

export async function readSeratoLibrary(opts: SeratoSourceOptions): Promise<DjLibrary> {
  const warnings: DjWarning[] = []
  let dropped = 0
  const warn = (message: string) => (warnings.length < MAX_WARNINGS ? warnings.push({ line: 0, message }) : dropped++)
  const tracks: Array<DjTrack | undefined> = new Array(opts.files.length)
  let next = 0
  const worker = async () => {
    while (next < opts.files.length) {
      const i = next++
      const f = opts.files[i]!
      if (!SERATO_TAGGED.test(f.path)) continue
      try {
        const tags = await readSeratoFile(f.path)
        for (const w of tags?.warnings ?? []) warn(`${f.path}: ${w}`)
        if (!tags || (tags.cues.length === 0 && tags.grid.length === 0 && tags.color === undefined)) continue
        tracks[i] = {
          id: f.path,
          location: f.path,
          ...(f.size !== undefined ? { size: f.size } : {}),
          ...(f.durationS !== undefined ? { durationS: f.durationS } : {}),
          ...(f.title ? { title: f.title } : {}),
          ...(f.artist ? { artist: f.artist } : {}),
          ...(tags.color ? { color: tags.color } : {}),
          cues: tags.cues,
          grid: tags.grid,
        }
      } catch (err) {
        warn(`${f.path}: tags not readable (${(err as Error).message.split('\n')[0]})`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker))
  const crates = opts.seratoDir ? await readCrates(opts.seratoDir, opts.exists) : { playlists: [], warnings: [] }
  for (const w of crates.warnings) warn(w)
  return {
    format: 'serato',
    product: { name: 'Serato' },
    tracks: tracks.filter((t): t is DjTrack => t !== undefined),
    playlists: crates.playlists,
    history: [],
    warnings,
    warningsDropped: dropped,
  }
}
