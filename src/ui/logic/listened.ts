// How long the web UI player has really played a track: the sum of the small
// forward steps between `timeupdate`s (a seek is a jump, not listening; a
// pause adds nothing). A play counts at half the track or four minutes, as
// the node checks again (src/plays/counts.ts); prefetched bytes and a track
// loaded but not played never reach this.
export const PLAY_MIN_SECONDS = 240
const MAX_STEP = 2 // s: a larger jump between two timeupdates is a seek

export interface Listened {
  /** Seconds played. */
  seconds: number
  /** The playhead at the last update. */
  at: number
  /** The play was reported. */
  reported: boolean
}

export const startListening = (at = 0): Listened => ({ seconds: 0, at, reported: false })

/** The state after a timeupdate at `now` (seconds into the track). */
export function heard(l: Listened, now: number): Listened {
  const step = now - l.at
  return { ...l, seconds: step > 0 && step <= MAX_STEP ? l.seconds + step : l.seconds, at: now }
}

/** Whether a play is to be reported now (once per load of a track). */
export function playCounts(l: Listened, duration: number): boolean {
  if (l.reported || l.seconds <= 0) return false
  return l.seconds >= PLAY_MIN_SECONDS || (Number.isFinite(duration) && duration > 0 && l.seconds >= duration / 2)
}
