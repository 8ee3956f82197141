// What a swarm needs to know about one track's torrent. Built from the
// library's stored piece hashes (no file read) or from an info dict a peer
// sent (checked against the infohash we compute ourselves).
import { createHash } from 'node:crypto'
import { asBytes, asDict, asInt, asString, decode, encode } from '../codec/index.ts'
import { circleTag, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH, pieceLengthFor, trackInfoDict, type TrackTorrentFields } from '../library/browser.ts'

export const BLOCK = 16 * 1024 // bytes per request (BEP 3 convention)

export interface TorrentMeta {
  infoHash: Buffer
  sha256: string
  size: number
  pieceLength: number
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieces: Uint8Array
  pieceCount: number
}

export function metaFromTrack(t: TrackTorrentFields, circleSecret: Uint8Array): TorrentMeta {
  const info = encode(trackInfoDict(t, circleSecret))
  return {
    infoHash: createHash('sha1').update(info).digest(),
    sha256: t.sha256,
    size: t.size,
    pieceLength: t.pieceLength,
    pieces: t.pieces,
    pieceCount: t.pieces.length / 20,
  }
}

export function encodeInfoDict(m: TorrentMeta, circleSecret: Uint8Array): Uint8Array {
  return encode(trackInfoDict(m, circleSecret))
}

/**
 * Parses an info dict received from a peer for the track `sha256` and checks
 * everything that can be checked without the file: the frozen piece length,
 * the piece count, the circle tag, and that it hashes to what we expect.
 */
export function metaFromInfoDict(bytes: Uint8Array, sha256: string, circleSecret: Uint8Array): TorrentMeta {
  const d = asDict(decode(bytes, { maxBytes: 64 * 1024, maxDepth: 1, maxItems: 16, maxStringBytes: 60 * 1024 }), 'info dict')
  const size = asInt(d.length, 'length')
  const pieceLength = asInt(d['piece length'], 'piece length')
  const pieces = asBytes(d.pieces, 'pieces')
  if (asString(d.name, 'name', 64) !== sha256) throw new Error('the info dict is for another track')
  if (size <= 0 || pieceLength !== pieceLengthFor(size) || pieceLength < MIN_PIECE_LENGTH || pieceLength > MAX_PIECE_LENGTH) {
    throw new Error('the info dict has an impossible size or piece length')
  }
  if (pieces.length !== Math.ceil(size / pieceLength) * 20) throw new Error('the info dict has the wrong number of pieces')
  if (!Buffer.from(asBytes(d.circle, 'circle', 32)).equals(circleTag(circleSecret, sha256))) throw new Error('the info dict is not of this circle')
  const meta = metaFromTrack({ sha256, size, pieceLength, pieces }, circleSecret)
  if (!Buffer.from(encodeInfoDict(meta, circleSecret)).equals(bytes)) throw new Error('the info dict is not canonical')
  return meta
}

/**
 * An info dict of another circle's track (a friend's shared one, sent by an
 * authenticated device of theirs): everything is checked but the circle
 * tag's value, which needs their circle secret.
 */
export function metaFromForeignInfoDict(bytes: Uint8Array, sha256: string): TorrentMeta {
  const d = asDict(decode(bytes, { maxBytes: 64 * 1024, maxDepth: 1, maxItems: 16, maxStringBytes: 60 * 1024 }), 'info dict')
  const size = asInt(d.length, 'length')
  const pieceLength = asInt(d['piece length'], 'piece length')
  const pieces = asBytes(d.pieces, 'pieces')
  asBytes(d.circle, 'circle', 32)
  if (asString(d.name, 'name', 64) !== sha256) throw new Error('the info dict is for another track')
  if (size <= 0 || pieceLength !== pieceLengthFor(size)) throw new Error('the info dict has an impossible size or piece length')
  if (pieces.length !== Math.ceil(size / pieceLength) * 20) throw new Error('the info dict has the wrong number of pieces')
  if (Object.keys(d).sort().join(',') !== 'circle,length,name,piece length,pieces,private' || asInt(d.private, 'private') !== 1) {
    throw new Error('the info dict is not a djcloud track torrent')
  }
  if (!Buffer.from(encode(d)).equals(bytes)) throw new Error('the info dict is not canonical')
  return { infoHash: createHash('sha1').update(bytes).digest(), sha256, size, pieceLength, pieces, pieceCount: pieces.length / 20 }
}

export function pieceSize(m: TorrentMeta, index: number): number {
  return index === m.pieceCount - 1 ? m.size - m.pieceLength * (m.pieceCount - 1) : m.pieceLength
}

export function pieceHash(m: TorrentMeta, index: number): Uint8Array {
  return m.pieces.subarray(index * 20, index * 20 + 20)
}
