// A blob's identity (docs/manifests.md, "How manifests travel"): its SHA-256
// and the infohash of its private torrent in this circle, computed from the
// bytes, so a receiver checks what it got without trusting the sender. No
// Node-only import: a browser device addresses and checks blobs too; the
// compression is the caller's (node:zlib in blob.ts, brotli-wasm in a page).
import { createHash } from 'node:crypto'
import { infohashOf, pieceLengthFor, PieceHasher } from '../library/browser.ts'
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

/** Addresses bytes compressed by the caller, refusing more than a blob may hold. */
export function compressedBlob(data: Uint8Array, circleSecret: Uint8Array): Blob {
  if (data.length > MAX_BLOB_BYTES) throw new ManifestError('ERR_TOO_LARGE', `a blob of ${data.length} bytes is over the ${MAX_BLOB_BYTES}-byte cap`)
  return blobOf(data, circleSecret)
}

/** Checks bytes received for a blob against the infohash asked for. */
export function checkBlob(data: Uint8Array, infoHash: string, circleSecret: Uint8Array): Blob {
  if (data.length === 0 || data.length > MAX_BLOB_BYTES) throw new ManifestError('ERR_TOO_LARGE', `a blob of ${data.length} bytes is outside 1-${MAX_BLOB_BYTES}`)
  const blob = blobOf(data, circleSecret)
  if (blob.infoHash !== infoHash) throw new ManifestError('ERR_MISMATCH', `the bytes received do not hash to ${infoHash.slice(0, 12)}`)
  return blob
}
