// Tracks whose bytes are on this device: the Library's record says where the
// file was seen; the first path that is still a regular file of the recorded
// size is opened and served from that open descriptor (a rename or delete
// after resolve cannot swap the bytes under a running response).
//
// Only the size is checked, not the SHA-256 (that would read the whole file
// per request): a file rewritten in place at the same size serves its new
// bytes until the next scan notices. Peers never get these bytes this way;
// the swarm verifies pieces on its own.
import { constants } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import type { Library, TrackRecord } from '../library/index.ts'
import { TrackUnavailableError } from './errors.ts'
import { mimeTypeOf } from './mime.ts'
import { SHA256_HEX, type TrackHandle, type TrackSource } from './track-source.ts'

/** Bytes per read from disk (and per chunk written to the socket). */
export const LOCAL_READ_CHUNK = 256 * 1024

export interface LocalFileTrackSourceOptions {
  /** Bytes per read; default LOCAL_READ_CHUNK. */
  chunkSize?: number
}

export class LocalFileTrackSource implements TrackSource {
  private readonly chunkSize: number

  constructor(
    private readonly library: Pick<Library, 'track'>,
    opts: LocalFileTrackSourceOptions = {},
  ) {
    this.chunkSize = opts.chunkSize ?? LOCAL_READ_CHUNK
  }

  async resolve(sha256: string, signal?: AbortSignal): Promise<TrackHandle | null> {
    if (!SHA256_HEX.test(sha256)) return null
    const record = await this.library.track(sha256)
    if (!record) return null
    for (const path of record.paths) {
      signal?.throwIfAborted()
      const fh = await openIfIntact(path, record.size)
      if (fh) return new LocalFileTrack(fh, record, this.chunkSize)
    }
    return null
  }
}

/** Opens `path` when it is a regular file of `size` bytes; null otherwise. */
async function openIfIntact(path: string, size: number): Promise<FileHandle | null> {
  // stat first and open non-blocking: opening a FIFO put in a file's place would otherwise hang.
  const before = await stat(path).catch(() => null)
  if (!before?.isFile() || before.size !== size) return null
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null)
  if (!fh) return null
  const st = await fh.stat().catch(() => null)
  if (st?.isFile() && st.size === size) return fh
  await fh.close().catch(() => {})
  return null
}

class LocalFileTrack implements TrackHandle {
  readonly size: number
  readonly mimeType: string
  private closed = false

  constructor(
    private readonly fh: FileHandle,
    record: TrackRecord,
    private readonly chunkSize: number,
  ) {
    this.size = record.size
    this.mimeType = mimeTypeOf(record.format)
  }

  async *read(start: number, endInclusive: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(endInclusive) && start >= 0 && start <= endInclusive && endInclusive < this.size)) {
      throw new RangeError(`bad range ${start}-${endInclusive} of ${this.size} bytes`)
    }
    let at = start
    while (at <= endInclusive) {
      signal.throwIfAborted()
      if (this.closed) throw new TrackUnavailableError('the track was closed while it was read')
      const want = Math.min(this.chunkSize, endInclusive - at + 1)
      const buf = Buffer.allocUnsafe(want)
      const { bytesRead } = await this.fh.read(buf, 0, want, at)
      if (bytesRead === 0) throw new TrackUnavailableError('the file became shorter while it was read')
      at += bytesRead
      yield buf.subarray(0, bytesRead)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.fh.close().catch(() => {})
  }
}
