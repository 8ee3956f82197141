// Importing a DJ program's collection (rekordbox XML, Traktor NML, Serato's
// tags and crates) into the djcloud library: entries matched to union tracks
// (match.ts), a plan of the cue and playlist changes against what djcloud
// has (plan.ts), applied through the running node (run.ts). docs/djimport.md.
export { matchTracks, pathKey, fileNameOf, DURATION_TOLERANCE_S } from './match.ts'
export type { LibraryTrack, MatchMethod, Matched, Unmatched, Ambiguous, Duplicate, MatchResult, MatchOptions } from './match.ts'
export { planImport, importedCueId, locationEntryId, flattenPlaylists, FOLDER_SEPARATOR } from './plan.ts'
export { timingOffsetMs, timingApplied, shiftTrack } from './timing.ts'
export type { TimedTrack, TimingReader } from './timing.ts'
export type { ImportPlan, ImportPlanHead, TrackPlan, PlaylistPlan, PlaylistItem, CurrentState, NotCarried, TimingApplied } from './plan.ts'
export { importLibrary, importLibraryInto, STATE_BATCH } from './run.ts'
export type { NodeAccess, ImportOptions, ImportResult, KeptImportResult } from './run.ts'
export { httpNodeAccess, answerEntries, RECORDINGS_PER_READ } from './http-access.ts'
export type { ApiCall, ApiEntries, ListedTrack } from './http-access.ts'
export { jsonEntries } from './json-entries.ts'
export { seratoSource } from './serato-source.ts'
export type { SeratoSource } from './serato-source.ts'
export { memoryTrackPlans, spoolTrackPlans } from './plan-store.ts'
export type { TrackPlans } from './plan-store.ts'
export { printImport } from './print.ts'
export { writeJsonWithList, OutputClosedError } from './stream-out.ts'
