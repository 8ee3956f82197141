// What a player reading a torrent from the start needs first, for a Node
// device's stream (src/node/swarm-track-source.ts) and a page's
// (src/browser/playback.ts) alike: the range it reads, then the file's tail,
// and for a moment nothing else.
import type { Torrent } from './torrent.ts'

/** The file's last bytes, fetched right after the first piece: what media players read at the end (tags, trailing chunks). */
export const TAIL_BYTES = 64 * 1024
/** After playback starts, only the read range and the tail are fetched for this long (Chromium starts in ~30-60 ms). */
export const STARTUP_HOLD_MS = 400

/** Puts bytes [start, end] first in the fetch order; from the start of the file, the tail next and the rest held back a moment. */
export function prefetchForPlayback(torrent: Torrent, start: number, end: number, holdMs = STARTUP_HOLD_MS): void {
  torrent.prioritize(start, end)
  // Playback from the start: the player reads the tail next, and starts up before the rest of the file is worth fetching.
  if (start === 0) {
    torrent.prioritizeTail(TAIL_BYTES)
    torrent.holdBackground(holdMs)
  }
}
