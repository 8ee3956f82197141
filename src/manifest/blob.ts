// Blobs: the small private torrents manifests travel in, compressed with
// node:zlib's brotli (a page compresses with brotli-wasm: src/browser). A blob is
// brotli-compressed bytes addressed by their SHA-256; its torrent is the same
// frozen, circle-tagged info dict as a track's (src/library/torrent-info.ts),
// so its infohash (what a BEP 46 pointer names) is computable from the bytes
// and a receiver checks what it got without trusting the sender.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import { compressedBlob, type Blob } from './blob-id.ts'
import { ManifestError } from './errors.ts'

export { blobOf, checkBlob, MAX_BLOB_BYTES } from './blob-id.ts'
export type { Blob } from './blob-id.ts'

/** Compresses and addresses plain bytes (a page, an envelope). */
export function packBlob(plain: Uint8Array, circleSecret: Uint8Array): Blob {
  // Quality 5: within a few percent of the best ratio on bencoded manifests at a fraction of the time.
  const data = brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length } })
  return compressedBlob(data, circleSecret)
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
