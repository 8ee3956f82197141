// The part of library that runs in a page as well as in Node (docs/browser.md):
// a track's torrent fields (piece length, circle tag, info dict), which the
// swarm's torrent metadata is built from. No Node-only import.
export { pieceLengthFor, circleTag, trackInfoDict, infohashOf, PieceHasher, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH } from './torrent-info.ts'
export type { TrackTorrentFields } from './torrent-info.ts'
export { CUE_CAPS } from './cues.ts'
export { NOTE_CAPS } from './notes.ts'
