// One read pass over a file computes everything the library needs from its
// bytes: the SHA-256 (track id), the audio hash and the torrent's piece
// hashes. Tags are read separately by music-metadata, which only touches
// headers.
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { fileReader, OggPayloadParser, PayloadError, planPayload, type AudioFormat } from '../audio-file/index.ts'
import { PieceHasher, pieceLengthFor } from './torrent-info.ts'
import { ScanError } from './errors.ts'

/** Bytes per read; also the size of the reusable buffers the scanner keeps. */
export const READ_CHUNK = 1024 * 1024

export interface FileHashes {
  sha256: string
  audioHash: string
  size: number
  pieceLength: number
  pieces: Uint8Array
}

export interface HashOptions {
  /** Called with the bytes read so far, for progress. */
  onBytes?: (n: number) => void
  signal?: AbortSignal
  /**
   * A buffer to read into, reused across files to keep memory flat. When the
   * file fits, it holds the whole file afterwards (the caller can parse tags
   * from memory instead of reading again).
   */
  buffer?: Buffer
}

export async function hashFile(path: string, format: AudioFormat, opts: HashOptions = {}): Promise<FileHashes> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    throw new ScanError('ERR_UNREADABLE', `cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    const st = await fh.stat()
    const size = st.size
    if (size === 0) throw new ScanError('ERR_EMPTY', 'empty file (0 bytes)')
    const buf = opts.buffer ?? Buffer.allocUnsafe(Math.min(READ_CHUNK, size))
    const readChunk = async (offset: number) => {
      opts.signal?.throwIfAborted()
      let filled = 0
      const want = Math.min(buf.length, size - offset)
      while (filled < want) {
        const { bytesRead } = await fh.read(buf, filled, want - filled, offset + filled)
        if (bytesRead === 0) throw new ScanError('ERR_CHANGED', 'the file shrank while it was being read')
        filled += bytesRead
      }
      return buf.subarray(0, filled)
    }

    // The first chunk also answers the format checks' header reads.
    let chunk = await readChunk(0)
    const plan = await planPayload(format, fileReader(fh, size, chunk))

    const file = createHash('sha256')
    const audio = createHash('sha256')
    const pieceLength = pieceLengthFor(size)
    const pieces = new PieceHasher(pieceLength)
    const ogg = plan.kind === 'ogg' ? new OggPayloadParser(plan.headerPackets, (b) => audio.update(b)) : null
    const ranges = plan.kind === 'ranges' ? plan.ranges : []
    let rangeIndex = 0

    let offset = 0
    for (;;) {
      file.update(chunk)
      pieces.update(chunk)
      if (ogg) ogg.push(chunk)
      else {
        // Feed the parts of this chunk that fall inside payload ranges.
        const chunkEnd = offset + chunk.length
        while (rangeIndex < ranges.length) {
          const [start, end] = ranges[rangeIndex]!
          const from = Math.max(start, offset)
          const to = Math.min(end, chunkEnd)
          if (from < to) audio.update(chunk.subarray(from - offset, to - offset))
          if (end <= chunkEnd) rangeIndex++
          else break
        }
      }
      offset += chunk.length
      opts.onBytes?.(chunk.length)
      if (offset >= size) break
      chunk = await readChunk(offset)
    }
    ogg?.end()
    const after = await fh.stat()
    if (after.size !== size || after.mtimeMs !== st.mtimeMs) {
      throw new ScanError('ERR_CHANGED', 'the file changed while it was being read; it will be picked up by the next scan')
    }
    return { sha256: file.digest('hex'), audioHash: audio.digest('hex'), size, pieceLength, pieces: pieces.digest() }
  } catch (err) {
    // The container checks' refusals are the scan's per-file problems.
    throw err instanceof PayloadError ? new ScanError(err.code, err.message) : err
  } finally {
    await fh.close()
  }
}
