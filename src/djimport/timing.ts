// The MP3 timing offset applied to an import: every cue and grid row of a
// matched entry is moved by timingOffsetMs(format, the file's header) so it
// lands on djcloud's timeline (docs/decisions/mp3-timing-offsets.md). The
// header is read from the matched recording's file on this device; a
// recording held only elsewhere cannot be read, and is listed as such.
import { extname } from 'node:path'
import { timingOffsetMs, type DjLibrary, type DjTrack, type Mp3TimingInfo } from '../djformats/index.ts'
import type { LibraryTrack, MatchResult } from './match.ts'

export interface TimingResult {
  /** The library with the matched entries' cues and grids moved. */
  lib: DjLibrary
  /** Per entry id: the offset applied (ms), or why none could be. */
  offsets: Map<string, { offsetMs: number; case?: string } | { unknown: string }>
}

/** A position moved by `ms`, never before the start (a cue inside the frame one program plays and another skips). */
const shift = (positionMs: number, ms: number) => Math.max(0, positionMs + ms)

export function shiftTrack(t: DjTrack, ms: number): DjTrack {
  if (ms === 0) return t
  return { ...t, cues: t.cues.map((c) => ({ ...c, positionMs: shift(c.positionMs, ms) })), grid: t.grid.map((g) => ({ ...g, positionMs: shift(g.positionMs, ms) })) }
}

export async function applyTimingOffsets(
  lib: DjLibrary,
  match: MatchResult,
  library: readonly LibraryTrack[],
  timingOf: (path: string) => Promise<Mp3TimingInfo | undefined>,
): Promise<TimingResult> {
  const offsets: TimingResult['offsets'] = new Map()
  if (lib.format === 'rekordbox') return { lib, offsets } // djcloud's timeline is rekordbox's
  const bySha = new Map(library.map((t) => [t.sha256, t]))
  const byId = new Map(lib.tracks.map((t) => [t.id, t]))
  const moved = new Map<string, DjTrack>()
  for (const m of match.matched) {
    const entry = byId.get(m.entryId)
    if (!entry || (entry.cues.length === 0 && entry.grid.length === 0)) continue
    const held = bySha.get(m.sha256)
    const path = held?.paths[0]
    const isMp3 = /\.mp3$/i.test(path ?? entry.location ?? '')
    if (!isMp3) continue
    if (!path || extname(path).toLowerCase() !== '.mp3') {
      offsets.set(m.entryId, { unknown: 'the MP3 is not on this device: its header (and so the timing offset) could not be read' })
      continue
    }
    let info: Mp3TimingInfo | undefined
    try {
      info = await timingOf(path)
    } catch (err) {
      offsets.set(m.entryId, { unknown: `the MP3's header could not be read (${(err as Error).message.split('\n')[0]})` })
      continue
    }
    const ms = timingOffsetMs(lib.format, info)
    offsets.set(m.entryId, { offsetMs: ms, ...(info ? { case: info.case } : {}) })
    if (ms !== 0) moved.set(m.entryId, shiftTrack(entry, ms))
  }
  if (moved.size === 0) return { lib, offsets }
  return { lib: { ...lib, tracks: lib.tracks.map((t) => moved.get(t.id) ?? t) }, offsets }
}
