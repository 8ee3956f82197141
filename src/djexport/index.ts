// Exporting djcloud's library to the DJ's other software (rekordbox XML,
// Traktor NML): the tracks present on this device or one playlist's, with
// cues, loops, grids, keys, notes and playlists (build.ts), read from the
// running node's API and written atomically (run.ts). docs/djimport.md.
export { buildExport, ModelCues } from './build.ts'
export type { ExportInput, ExportResult, ExportTrack } from './build.ts'
export { collectExport, exportChunks, exportLibrary, ExportError } from './run.ts'
export type { ExportOptions, ExportRun } from './run.ts'
export { writeSeratoExport } from './serato-tags.ts'
export type { SeratoTagsRun } from './serato-tags.ts'
