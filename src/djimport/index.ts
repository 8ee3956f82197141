// Importing a DJ program's collection (rekordbox XML, Traktor NML) into the
// djcloud library: entries matched to union tracks (match.ts), a plan of the
// cue and playlist changes against what djcloud has (plan.ts), applied
// through the running node (run.ts). docs/djimport.md.
export { matchTracks, pathKey, fileNameOf, DURATION_TOLERANCE_S } from './match.ts'
export type { LibraryTrack, MatchMethod, Matched, Unmatched, Ambiguous, Duplicate, MatchResult, MatchOptions } from './match.ts'
export { planImport, importedCueId, locationEntryId, flattenPlaylists, FOLDER_SEPARATOR } from './plan.ts'
export type { ImportPlan, TrackPlan, PlaylistPlan, PlaylistItem, CurrentState, NotCarried, TimingApplied } from './plan.ts'
export { applyTimingOffsets, shiftTrack } from './timing.ts'
export type { TimingResult } from './timing.ts'
export { seratoSource } from './serato-source.ts'
export { importLibrary } from './run.ts'
export type { NodeAccess, ImportOptions, ImportResult } from './run.ts'
