// One read pass over a file computes everything the library needs from its
// bytes: the SHA-256 (track id), the audio hash and the torrent's piece
// hashes. Tags are read separately by music-metadata, which only touches
// headers.
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import type { AudioFormat } from './formats.ts'
import { fileReader, planPayload } from './audio-payload.ts'
import { OggPayloadParser } from './ogg-payload.ts'
import { PieceHasher, pieceLengthFor } from './torrent-info.ts'
import { ScanError } from './errors.ts'

const CHUNK = 1024 * 1024 // bytes per read

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
    const plan = await planPayload(format, fileReader(fh, size))

    const file = createHash('sha256')
    const audio = createHash('sha256')
    const pieceLength = pieceLengthFor(size)
    const pieces = new PieceHasher(pieceLength)
    const ogg = plan.kind === 'ogg' ? new OggPayloadParser(plan.headerPackets, (b) => audio.update(b)) : null
    const ranges = plan.kind === 'ranges' ? plan.ranges : []
    let rangeIndex = 0

    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size))
    let offset = 0
    while (offset < size) {
      opts.signal?.throwIfAborted()
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - offset), offset)
      if (bytesRead === 0) throw new ScanError('ERR_CHANGED', 'the file shrank while it was being read')
      const chunk = buf.subarray(0, bytesRead)
      file.update(chunk)
      pieces.update(chunk)
      if (ogg) ogg.push(chunk)
      else {
        // Feed the parts of this chunk that fall inside payload ranges.
        const chunkEnd = offset + bytesRead
        while (rangeIndex < ranges.length) {
          const [start, end] = ranges[rangeIndex]!
          const from = Math.max(start, offset)
          const to = Math.min(end, chunkEnd)
          if (from < to) audio.update(chunk.subarray(from - offset, to - offset))
          if (end <= chunkEnd) rangeIndex++
          else break
        }
      }
      offset += bytesRead
      opts.onBytes?.(bytesRead)
    }
    ogg?.end()
    const after = await fh.stat()
    if (after.size !== size || after.mtimeMs !== st.mtimeMs) {
      throw new ScanError('ERR_CHANGED', 'the file changed while it was being read; it will be picked up by the next scan')
    }
    return { sha256: file.digest('hex'), audioHash: audio.digest('hex'), size, pieceLength, pieces: pieces.digest() }
  } finally {
    await fh.close()
  }
}
