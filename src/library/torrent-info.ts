// The deterministic private torrent of a track. Its info dict is frozen:
// changing anything here changes every infohash, so test/library/torrent-info
// pins it with fixtures. Piece hashes do not depend on the circle, so a new
// circle secret re-keys torrents without re-reading files.
import { createHash, createHmac } from 'node:crypto'
import { encode } from '../codec/index.ts'

const KIB = 1024
export const MIN_PIECE_LENGTH = 64 * KIB
export const MAX_PIECE_LENGTH = 1024 * KIB
/** Aim for at most this many pieces until the maximum piece length is reached. */
const TARGET_PIECES = 1024

/** Frozen: a power of two from 64 KiB to 1 MiB, the smallest giving <= 1024 pieces. */
export function pieceLengthFor(size: number): number {
  let length = MIN_PIECE_LENGTH
  while (length < MAX_PIECE_LENGTH && size > length * TARGET_PIECES) length *= 2
  return length
}

/** Keyed tag that ties a track's torrent to one circle; others can neither compute nor link it. */
export function circleTag(circleSecret: Uint8Array, sha256Hex: string): Uint8Array {
  return createHmac('sha256', circleSecret).update('djcloud/circle-tag/v1:').update(Buffer.from(sha256Hex, 'hex')).digest()
}

export interface TrackTorrentFields {
  sha256: string
  size: number
  pieceLength: number
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieces: Uint8Array
}

/** The info dict: name (SHA-256 hex), piece length, pieces, length, private, circle tag. */
export function trackInfoDict(t: TrackTorrentFields, circleSecret: Uint8Array) {
  return {
    circle: circleTag(circleSecret, t.sha256),
    length: t.size,
    name: t.sha256,
    'piece length': t.pieceLength,
    pieces: t.pieces,
    private: 1,
  }
}

export function infohashOf(t: TrackTorrentFields, circleSecret: Uint8Array): string {
  return createHash('sha1').update(encode(trackInfoDict(t, circleSecret))).digest('hex')
}

/** Hashes pieces incrementally across arbitrary chunk boundaries. */
export class PieceHasher {
  private current = createHash('sha1')
  private filled = 0
  private readonly out: Buffer[] = []

  constructor(readonly pieceLength: number) {}

  update(chunk: Uint8Array): void {
    let at = 0
    while (at < chunk.length) {
      const take = Math.min(this.pieceLength - this.filled, chunk.length - at)
      this.current.update(chunk.subarray(at, at + take))
      this.filled += take
      at += take
      if (this.filled === this.pieceLength) {
        this.out.push(this.current.digest())
        this.current = createHash('sha1')
        this.filled = 0
      }
    }
  }

  digest(): Uint8Array {
    if (this.filled > 0) this.out.push(this.current.digest())
    return Buffer.concat(this.out)
  }
}
