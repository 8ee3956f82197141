// What /stream/<sha256> reads from. The player does not care where the bytes
// live: a file on this device (LocalFileTrackSource), the cache, or peers of
// the swarm (which implements this interface for tracks held only elsewhere).
import type { Readable } from 'node:stream'

export const SHA256_HEX = /^[0-9a-f]{64}$/

/** A track this node can serve, from TrackSource.resolve. */
export interface TrackHandle {
  /** Byte length of the whole track (the size the SHA-256 was taken over). */
  readonly size: number
  /** Content-Type; the server sends application/octet-stream without one. */
  readonly mimeType?: string
  /**
   * Bytes `start..endInclusive` (0 <= start <= endInclusive < size), in order,
   * exactly endInclusive - start + 1 of them in chunks of any size. May wait
   * for data (pieces still arriving from peers). Must stop promptly, rejecting
   * a pending wait and releasing what it holds, when `signal` aborts: the
   * client disconnected or seeked (a seek is a new request), the server is
   * closing, or the server's stall timeout passed. Throw TrackUnavailableError
   * when the bytes cannot be had. Called at most once per response.
   */
  read(start: number, endInclusive: number, signal: AbortSignal): AsyncIterable<Uint8Array> | Readable
  /**
   * Hint: these bytes will probably be read soon (the window after a read's
   * start). Never required, never awaited; must not throw.
   */
  prefetch?(start: number, endInclusive: number): void
  /** Called once when the response is over (sent, failed or aborted), also after HEAD. */
  close?(): void | Promise<void>
}

export interface TrackSource {
  /**
   * The track with this SHA-256 (64 lowercase hex digits, checked by the
   * caller), or null when this source cannot serve it. Should answer quickly:
   * it decides between 404 and a response. `signal` aborts when the client
   * goes away. `from`: the byte the reader will start at, when known (a
   * source that fetches can ask for those bytes first).
   */
  resolve(sha256: string, signal?: AbortSignal, from?: number): Promise<TrackHandle | null>
}

/** A source that asks each of `sources` in turn and serves from the first that knows the track. */
export function firstTrackSource(sources: readonly TrackSource[]): TrackSource {
  return {
    async resolve(sha256, signal, from) {
      for (const source of sources) {
        signal?.throwIfAborted()
        const handle = await source.resolve(sha256, signal, from)
        if (handle) return handle
      }
      return null
    },
  }
}
