// What the API says about a track: the wire shape, kept apart from the
// store's TrackRecord so the store can change without breaking clients.
import type { Tags, TrackRecord } from '../library/index.ts'
import type { AudioFormat } from '../library/index.ts'
import { mimeTypeOf } from './mime.ts'

export interface TrackView {
  sha256: string
  /** SHA-256 of the audio payload (tags left out): the same recording after a retag. */
  audioHash: string
  size: number
  format: AudioFormat
  pieceLength: number
  /** Infohash of the track's private torrent in this circle. */
  infohash?: string
  mimeType: string
  tags: Tags
  /** Where the file is on this device; empty when missing. */
  paths: string[]
  /** Where it was last seen, for missing tracks. */
  lastPaths?: string[]
  /** Rewritten in place with the same audio: the version that took its path. */
  replacedBy?: string
  /** The version of this file that was at its path before (same audio). */
  replaces?: string
  missing: boolean
  /** ms since the epoch */
  added: number
  updated: number
  /** Relative URL of the bytes. */
  stream: string
  /** Tempo, key and loudness as analysed (the file's own BPM and key tags stay in `tags`). */
  analysis?: TrackRecord['analysis']
  /** The own devices that hold it, in the union library (this one first, then online ones). */
  holders?: Array<{ device: string; name: string; online: boolean; self: boolean }>
}

export function trackView(t: TrackRecord & { holders?: TrackView['holders'] }): TrackView {
  const view: TrackView = {
    sha256: t.sha256,
    audioHash: t.audioHash,
    size: t.size,
    format: t.format,
    pieceLength: t.pieceLength,
    ...(t.infohash ? { infohash: t.infohash } : {}),
    mimeType: mimeTypeOf(t.format),
    tags: t.tags,
    paths: t.paths,
    missing: t.missing,
    added: t.added,
    updated: t.updated,
    stream: `/stream/${t.sha256}`,
  }
  if (t.lastPaths?.length) view.lastPaths = t.lastPaths
  if (t.replacedBy) view.replacedBy = t.replacedBy
  if (t.replaces) view.replaces = t.replaces
  if (t.analysis) view.analysis = t.analysis
  if (t.holders) view.holders = t.holders
  return view
}
