// Writing a track's cues, loops, grid and colour into an MP3 as Serato's
// GEOB tags (Markers2, Markers_ to match it, BeatGrid), on request only:
// the file's bytes change (a new SHA-256; the audio hash stays, and the
// library's scan records the new version). Written to a temporary file
// beside it, flushed and renamed over it: a failure leaves the old file.
import { randomBytes } from 'node:crypto'
import { open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import type { DjBeat, DjCue, DjTrack } from '../djformats/index.ts'
import { id3v2Size, readMp3TimingInfo, timingOffsetMs } from '../djformats/index.ts'
import { buildBeatGrid, type SeratoGridMarker } from './beatgrid.ts'
import { trackColorStored } from './colors.ts'
import { SeratoError } from './errors.ts'
import { geobData, readId3Frames, withGeobs } from './id3-write.ts'
import { buildMarkers1, MARKERS1_LOOPS } from './markers1-build.ts'
import { buildMarkers2, parseMarkers2, type SeratoCue, type SeratoLoop, type SeratoMarkers2 } from './markers2.ts'
import { SERATO_CUE_COLORS, SERATO_HOT_CUES, SERATO_LOOP_COLOR } from './model.ts'

export interface SeratoWriteResult {
  file: string
  cues: number
  loops: number
  gridRows: number
  /** What the file cannot carry (memory cues, fades, loops past the 8th), one line each. */
  leftOut: string[]
  /** Milliseconds added to every position written (Serato's MP3 timeline; see timingOffsetMs). */
  shiftMs: number
}

export type SeratoWritable = Pick<DjTrack, 'cues' | 'grid'> & Partial<Pick<DjTrack, 'color'>> & { bpmLock?: boolean }

/** Serato's saved loops: Markers2 takes 8 (what Serato DJ shows), Markers_ 9. */
const MAX_LOOPS = Math.min(8, MARKERS1_LOOPS)
/** Tags this module writes and so replaces (the grid only when there is one to write). */
const OURS = ['Serato Markers2', 'Serato Markers_', 'Serato BeatGrid']
/** Largest ID3 tag read in to rebuild (Serato's overview and cover art fit well under). */
const MAX_TAG = 64 * 1024 * 1024

const at = (c: DjCue) => `${c.type}${c.slot === null ? '' : ` ${String.fromCharCode(65 + c.slot)}`} at ${(c.positionMs / 1000).toFixed(3)} s`

/** The Serato entries of a model track, positions shifted onto Serato's timeline. */
export function seratoEntries(t: SeratoWritable, shiftMs: number) {
  const cues: SeratoCue[] = []
  const loops: SeratoLoop[] = []
  const leftOut: string[] = []
  const pos = (ms: number) => Math.max(0, Math.round(ms + shiftMs))
  for (const c of t.cues) {
    if (c.type === 'loop' && c.lengthMs !== undefined) {
      if (loops.length >= MAX_LOOPS) leftOut.push(`${at(c)}: Serato keeps ${MAX_LOOPS} saved loops`)
      else loops.push({ index: loops.length, startMs: pos(c.positionMs), endMs: pos(c.positionMs + c.lengthMs), name: c.name ?? '', locked: false, color: c.color ?? SERATO_LOOP_COLOR })
    } else if ((c.type === 'cue' || c.type === 'grid' || c.type === 'loop') && c.slot !== null && c.slot < SERATO_HOT_CUES) {
      if (cues.some((q) => q.index === c.slot)) leftOut.push(`${at(c)}: hot cue ${String.fromCharCode(65 + c.slot)} given twice`)
      else cues.push({ index: c.slot, positionMs: pos(c.positionMs), color: c.color ?? SERATO_CUE_COLORS[c.slot]!, name: c.name ?? '' })
    } else if (c.type === 'cue' || c.type === 'loop') leftOut.push(`${at(c)}: Serato has no memory cues`)
    else leftOut.push(`${at(c)}: Serato has no ${c.type} markers`)
  }
  cues.sort((a, b) => a.index - b.index)
  return { cues, loops, leftOut }
}

/** The file's Markers2, if it has a readable one (a damaged one is replaced: nothing in it can be kept). */
function previousMarkers2(tag: Buffer, file: string): SeratoMarkers2 | undefined {
  const data = geobData(readId3Frames(tag, file).frames, 'Serato Markers2')
  if (!data) return undefined
  try {
    return parseMarkers2(data)
  } catch (err) {
    if (err instanceof SeratoError) return undefined
    throw err
  }
}

/** Grid rows as Serato markers: each row but the last says how many beats reach the next. */
export function seratoGrid(grid: readonly DjBeat[], shiftMs: number): SeratoGridMarker[] {
  return grid.map((row, i) => {
    const positionS = (row.positionMs + shiftMs) / 1000
    const next = grid[i + 1]
    if (!next) return { positionS, bpm: row.bpm }
    return { positionS, beatsToNext: Math.max(1, Math.round(((next.positionMs - row.positionMs) * row.bpm) / 60000)) }
  })
}

/**
 * Writes `t`'s hot cues, saved loops, grid and colour into `file` (an MP3) as
 * Serato tags, replacing the Serato tags it had; every other tag and the
 * audio are kept byte for byte. Positions are djcloud's: they are moved onto
 * Serato's timeline here (unless `onSeratoTimeline`: already moved).
 */
export async function writeSeratoTags(file: string, t: SeratoWritable, opts: { onSeratoTimeline?: boolean } = {}): Promise<SeratoWriteResult> {
  const ext = extname(file).toLowerCase()
  if (ext !== '.mp3') {
    const why =
      ext === '.flac' || ext === '.ogg'
        ? 'writing Vorbis comments is not built (MP3 only for now)'
        : ext === '.m4a' || ext === '.mp4'
          ? 'writing MP4 atoms is not built (MP3 only for now)'
          : 'Serato tags are written into MP3 files only'
    throw new SeratoError('ERR_CANNOT_WRITE', `${file}: ${why}`)
  }
  const timing = await readMp3TimingInfo(file)
  if (!timing) throw new SeratoError('ERR_CANNOT_WRITE', `${file}: no MPEG audio frames found: not written`)
  // An export's model is on Serato's timeline already (djexport moves it); a model entry is on djcloud's.
  const shiftMs = opts.onSeratoTimeline ? 0 : -timingOffsetMs('serato', timing)
  const { cues, loops, leftOut } = seratoEntries(t, shiftMs)

  const src = await open(file, 'r')
  const tmp = join(dirname(file), `.${basename(file)}.djcloud-${randomBytes(4).toString('hex')}.tmp`)
  let done = false
  try {
    const { size, mode } = await src.stat()
    const first = Buffer.alloc(10)
    await src.read(first, 0, 10, 0)
    const tagSize = Math.min(id3v2Size(first), size)
    if (tagSize > MAX_TAG) throw new SeratoError('ERR_CANNOT_WRITE', `${file}: an ID3 tag of ${tagSize} bytes: not rewritten`)
    const tag = Buffer.alloc(tagSize)
    if (tagSize) await src.read(tag, 0, tagSize, 0)
    // What Serato keeps that djcloud does not carry survives the rewrite: flips and
    // other entries, the BPM lock, a saved loop's lock (same start and end).
    const had = previousMarkers2(tag, file)
    for (const l of loops) l.locked = had?.loops.some((h) => h.startMs === l.startMs && h.endMs === l.endMs && h.locked) ?? false
    const stored = trackColorStored(t.color)
    const bpmLock = t.bpmLock ?? had?.bpmLock
    const geobs = [
      { description: 'Serato Markers_', data: buildMarkers1({ cues, loops, trackColor: stored }) },
      { description: 'Serato Markers2', data: buildMarkers2({ cues, loops, trackColor: stored, others: had?.others ?? [], ...(bpmLock !== undefined ? { bpmLock } : {}) }) },
      ...(t.grid.length ? [{ description: 'Serato BeatGrid', data: buildBeatGrid(seratoGrid(t.grid, shiftMs)) }] : []),
    ]
    // Without a grid to write, the file keeps the grid it has (Serato's own analysis).
    const head = withGeobs(tag, geobs, t.grid.length ? OURS : OURS.filter((d) => d !== 'Serato BeatGrid'), file)
    const out = await open(tmp, 'wx', mode)
    try {
      await out.write(head)
      // The audio, copied as it is, 1 MiB at a time.
      const chunk = Buffer.allocUnsafe(1 << 20)
      for (let pos = tagSize; pos < size; ) {
        const { bytesRead } = await src.read(chunk, 0, Math.min(chunk.length, size - pos), pos)
        if (bytesRead === 0) throw new SeratoError('ERR_CANNOT_WRITE', `${file}: changed while being read`)
        await out.write(chunk.subarray(0, bytesRead))
        pos += bytesRead
      }
      await out.sync()
    } finally {
      await out.close()
    }
    if ((await stat(file)).size !== size) throw new SeratoError('ERR_CANNOT_WRITE', `${file}: changed while being rewritten; left as it is`)
    await rename(tmp, file)
    done = true
  } finally {
    await src.close()
    if (!done) await rm(tmp, { force: true })
  }
  return { file, cues: cues.length, loops: loops.length, gridRows: t.grid.length, leftOut, shiftMs }
}
