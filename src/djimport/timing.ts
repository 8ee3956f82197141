// THE PLACE FOR THE MP3 TIMING OFFSET (issue 16, filled by the Serato/offset work).
// Decoders disagree by up to ~26 ms on where an MP3's audio starts (LAME/Xing
// gapless headers). A position in a DJ program's file is where *that
// program's* decoder puts it; djcloud keeps positions as its own decoder
// puts them. Import adds the offset returned here to every cue and grid
// position read from `software`'s file, export subtracts it, so cues and
// grids land on the same audio after a round trip. 0 until the offset rules
// are built.
import type { DjBeat, DjCue, DjFormat, DjTrack } from '../djformats/index.ts'

export interface TimedTrack {
  sha256: string
  /** The file's format as scanned ("mp3", "flac", ...), when known. */
  format?: string
  /** The file on this device, when it is here (the offset may depend on its headers). */
  path?: string
}

/** Milliseconds to add to `software`'s positions of this file to get djcloud's. */
export function timingOffsetMs(_software: DjFormat, _track: TimedTrack): number {
  return 0
}

/** A track's cues and grid moved by `ms` (a copy; the same object when 0). */
export function shiftTrack(t: DjTrack, ms: number): DjTrack {
  if (ms === 0) return t
  return {
    ...t,
    cues: t.cues.map((c): DjCue => ({ ...c, positionMs: c.positionMs + ms })),
    grid: t.grid.map((g): DjBeat => ({ ...g, positionMs: g.positionMs + ms })),
  }
}
