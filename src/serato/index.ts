// Serato's data: the tags it keeps inside audio files (Markers2, Markers_,
// BeatGrid in ID3 GEOB frames, FLAC Vorbis comments and MP4 atoms) read into
// the djformats model, crates read as playlists, and the tags written back
// into MP3s on request. Pure format code plus file reads and the one atomic
// file rewrite; matching and merging are djimport's. docs/serato.md.
export { SeratoError } from './errors.ts'
export type { SeratoErrorCode } from './errors.ts'
export { parseMarkers2, buildMarkers2, markers2Content, markers2Entries } from './markers2.ts'
export type { SeratoCue, SeratoLoop, SeratoMarkers2, Markers2Input } from './markers2.ts'
export { parseMarkers1, serato32, toSerato32 } from './markers1.ts'
export type { SeratoMarker1, SeratoMarkers1 } from './markers1.ts'
export { buildMarkers1 } from './markers1-build.ts'
export { parseBeatGrid, buildBeatGrid } from './beatgrid.ts'
export type { SeratoGridMarker } from './beatgrid.ts'
export { trackColorShown, trackColorStored } from './colors.ts'
export { seratoPayloads, openEnvelope } from './container.ts'
export type { SeratoPayloads, SeratoTagName } from './container.ts'
export { seratoTrackTags, gridOf, SERATO_HOT_CUES, SERATO_CUE_COLORS, SERATO_LOOP_COLOR } from './model.ts'
export type { SeratoTrackTags } from './model.ts'
export { readSeratoFile } from './read.ts'
export type { SeratoFileTags } from './read.ts'
export { parseCrate, buildCrate, readCrates, crateTrackPath, MAX_CRATE_BYTES } from './crate.ts'
export type { SeratoCrate, CrateReadResult } from './crate.ts'
export { writeSeratoTags, seratoEntries, seratoGrid } from './write.ts'
export type { SeratoWriteResult, SeratoWritable } from './write.ts'
export { encodeSeratoBase64, decodeSeratoBase64 } from './base64.ts'
export { readId3Frames, withGeobs } from './id3-write.ts'
export { readSeratoLibrary, SERATO_TAGGED } from './library.ts'
export type { SeratoSourceOptions } from './library.ts'
