// The MP3 timing offset between a DJ program's positions and djcloud's
// (src/djformats/mp3-timing.ts has the rule and the header reader;
// docs/decisions/mp3-timing-offsets.md). Import adds the offset to every cue
// and grid position read from `software`'s file; export subtracts it, so
// cues and grids land on the same audio after a round trip. The header is
// read from the file on this device; a recording held only elsewhere cannot
// be read and is not moved (timingApplied says so).
import { extname } from 'node:path'
import { readMp3TimingInfoSync, timingOffsetMs as offsetFor, type DjBeat, type DjCue, type DjFormat, type DjTrack, type Mp3TimingInfo } from '../djformats/index.ts'
import type { TimingApplied } from './plan.ts'

export interface TimedTrack {
  sha256: string
  /** The file's format as scanned ("mp3", "flac", ...), when known. */
  format?: string
  /** The file on this device, when it is here (the offset depends on its headers). */
  path?: string
}

export type TimingReader = (path: string) => Mp3TimingInfo | undefined

/** Headers already read, by SHA-256 (the same bytes, the same header); bounded. */
const cache = new Map<string, Mp3TimingInfo | undefined>()
const CACHE_MAX = 100_000

const isMp3 = (t: TimedTrack) => (t.format ? t.format === 'mp3' : t.path !== undefined && extname(t.path).toLowerCase() === '.mp3')

/** The offset applied to a track's positions from `software`, with the header case; why none when the MP3 cannot be read here; undefined when none is needed. */
export function timingApplied(software: DjFormat, t: TimedTrack, read: TimingReader = readMp3TimingInfoSync): TimingApplied | undefined {
  if (software === 'rekordbox' || !isMp3(t)) return undefined // djcloud's timeline is rekordbox's
  if (!t.path) return { unknown: 'the MP3 is not on this device: its header (and so the timing offset) could not be read' }
  let info: Mp3TimingInfo | undefined
  if (read === readMp3TimingInfoSync && cache.has(t.sha256)) info = cache.get(t.sha256)
  else {
    try {
      info = read(t.path)
    } catch (err) {
      return { unknown: `the MP3's header could not be read (${(err as Error).message.split('\n')[0]})` }
    }
    if (read === readMp3TimingInfoSync) {
      if (cache.size >= CACHE_MAX) cache.clear()
      cache.set(t.sha256, info)
    }
  }
  if (!info) return { unknown: 'no MPEG frames found at the start of the file' }
  return { offsetMs: offsetFor(software, info), case: info.case }
}

/** Milliseconds to add to `software`'s positions of this file to get djcloud's (0 when unknown or not needed). */
export function timingOffsetMs(software: DjFormat, t: TimedTrack, read?: TimingReader): number {
  const a = timingApplied(software, t, read)
  return a && 'offsetMs' in a ? a.offsetMs : 0
}

/** A cue moved by `ms`, never before the start (a cue inside the frame one program plays and another skips has no better place). */
const movedCue = (positionMs: number, ms: number) => Math.max(0, positionMs + ms)

/**
 * A track's cues and grid moved by `ms` (a copy; the same object when 0).
 * Grid rows move exactly, to before the start if need be (djcloud keeps a
 * grid anchor at a negative position; the beats after it are what count),
 * so an export moves them back to where they were.
 */
export function shiftTrack(t: DjTrack, ms: number): DjTrack {
  if (ms === 0) return t
  return {
    ...t,
    cues: t.cues.map((c): DjCue => ({ ...c, positionMs: movedCue(c.positionMs, ms) })),
    grid: t.grid.map((g): DjBeat => ({ ...g, positionMs: g.positionMs + ms })),
  }
}
