// Streams tracks that live only on other devices (own ones, or a friend's for
// a shared playlist): the swarm finds the holders and fetches pieces in the
// order the player reads them.
import { prefetchForPlayback, type Swarm, type Torrent } from '../swarm/index.ts'
import type { TrackHandle, TrackSource } from '../player/index.ts'
import { TrackUnavailableError } from '../player/index.ts'

const READ_CHUNK = 256 * 1024 // bytes handed to the HTTP response at a time

export class SwarmTrackSource implements TrackSource {
  /** `open` gives the torrent of a track (its reader starting at byte `from`, when known), or null (or throws) when nobody reachable holds it. */
  constructor(private readonly open: (sha256: string, from?: number) => Promise<Torrent | null>) {}

  static ofOwnDevices(swarm: Swarm): SwarmTrackSource {
    return new SwarmTrackSource((sha, from) => swarm.open(sha, from === undefined ? {} : { from }))
  }

  async resolve(sha256: string, _signal?: AbortSignal, from?: number): Promise<TrackHandle | null> {
    let torrent: Torrent | null
    try {
      torrent = await this.open(sha256, from)
    } catch {
      return null
    }
    if (!torrent) return null
    return {
      size: torrent.meta.size,
      prefetch: (start, end) => prefetchForPlayback(torrent, start, end),
      read: (start, end, signal) => readRange(torrent, start, end, signal),
    }
  }
}

async function* readRange(torrent: Torrent, start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let pos = start; pos <= end; ) {
    // Up to the end of the piece under `pos`, so each wait is for one piece.
    const pieceEnd = (Math.floor(pos / torrent.meta.pieceLength) + 1) * torrent.meta.pieceLength - 1
    const last = Math.min(end, pieceEnd, pos + READ_CHUNK - 1)
    try {
      await torrent.waitFor(pos, last, signal)
    } catch (err) {
      if (signal.aborted) return
      throw new TrackUnavailableError((err as Error).message)
    }
    yield await torrent.readAt(pos, last - pos + 1)
    pos = last + 1
  }
}
