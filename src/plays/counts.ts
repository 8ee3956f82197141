// When a play reported by a player counts (the rule, as Last.fm's):
// at least half the track, or four minutes, whichever comes first. A player
// that does not know the duration needs the four minutes.
export const PLAY_MIN_SECONDS = 240 // s: four minutes count whatever the length
export const PLAY_MIN_SHARE = 0.5 // of the track's duration

export function countsAsPlay(listened: number, duration: number | undefined): boolean {
  if (!(Number.isFinite(listened) && listened > 0)) return false
  if (listened >= PLAY_MIN_SECONDS) return true
  return duration !== undefined && Number.isFinite(duration) && duration > 0 && listened >= duration * PLAY_MIN_SHARE
}
