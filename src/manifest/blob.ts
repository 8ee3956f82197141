// Blobs: the small private torrents manifests travel in. A blob is
// brotli-compressed bytes addressed by their SHA-256; its torrent is the same
// frozen, circle-tagged info dict as a track's (src/library/torrent-info.ts),
// so its infohash (what a BEP 46 pointer names) is computable from the bytes
// and a receiver checks what it got without trusting the sender.
import { createHash } from 'node:crypto'
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import { infohashOf, pieceLengthFor, PieceHasher } from '../library/index.ts'
import { ManifestError } from './errors.ts'

/** No blob is larger than this (the largest manifest cap, compressed or not). */
export const MAX_BLOB_BYTES = 8 * 1024 * 1024

export interface Blob {
  /** SHA-256 hex of `data`. */
  sha256: string
  /** Infohash (hex) of the blob's private torrent in this circle. */
  infoHash: string
  /** The compressed bytes. */
  data: Buffer
}

/** The torrent identity of stored bytes. */
export function blobOf(data: Uint8Array, circleSecret: Uint8Array): Blob {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const sha256 = createHash('sha256').update(buf).digest('hex')
  const pieceLength = pieceLengthFor(buf.length)
  const hasher = new PieceHasher(pieceLength)
  hasher.update(buf)
  return { sha256, infoHash: infohashOf({ sha256, size: buf.length, pieceLength, pieces: hasher.digest() }, circleSecret), data: buf }
}

/** Compresses and addresses plain bytes (a page, an envelope). */
export function packBlob(plain: Uint8Array, circleSecret: Uint8Array): Blob {
  // Quality 5: within a few percent of the best ratio on bencoded manifests at a fraction of the time.
  const data = brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length } })
  if (data.length > MAX_BLOB_BYTES) throw new ManifestError('ERR_TOO_LARGE', `a blob of ${data.length} bytes is over the ${MAX_BLOB_BYTES}-byte cap`)
  return blobOf(data, circleSecret)
}

/** Decompresses a blob, refusing to inflate past `maxBytes` (no decompression bombs). */
export function unpackBlob(data: Uint8Array, maxBytes: number): Buffer {
  try {
    return brotliDecompressSync(data, { maxOutputLength: maxBytes })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|too large/i.test((err as Error).message)) {
      throw new ManifestError('ERR_TOO_LARGE', `a blob inflates past the ${maxBytes}-byte cap`)
    }
    throw new ManifestError('ERR_MALFORMED', `a blob is not valid compressed data: ${(err as Error).message}`)
  }
}

/** Checks bytes received for a blob against the infohash asked for. */
export function checkBlob(data: Uint8Array, infoHash: string, circleSecret: Uint8Array): Blob {
  if (data.length === 0 || data.length > MAX_BLOB_BYTES) throw new ManifestError('ERR_TOO_LARGE', `a blob of ${data.length} bytes is outside 1-${MAX_BLOB_BYTES}`)
  const blob = blobOf(data, circleSecret)
  if (blob.infoHash !== infoHash) throw new ManifestError('ERR_MISMATCH', `the bytes received do not hash to ${infoHash.slice(0, 12)}`)
  return blob
}
