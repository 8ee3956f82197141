// Track analysis: tempo and beat grid, key (with Camelot and Open Key),
// loudness (BS.1770) and coloured waveform overviews, from audio decoded in
// pure JS/WASM. analyzePcm/analyzeFile run in the calling thread;
// AnalysisPool runs files in worker threads.
export { ANALYZER_VERSION, MIN_SECONDS, analyzePcm, analyzeFile } from './analyze.ts'
export { decodeFile, streamFile } from './decode.ts'
export type { DecodedAudio, PcmSink } from './decode.ts'
export { Analyzer } from './analyzer.ts'
export { AnalysisError } from './errors.ts'
export type { AnalysisErrorCode } from './errors.ts'
export { camelotOf, openKeyOf, parseKey, keyName } from './keys.ts'
export { AnalysisPool } from './pool.ts'
export type { AnalysisPoolOptions } from './pool.ts'
export { DEFAULT_TEMPO_RANGE } from './types.ts'
export { checkUserRange, parseTempoRange, sameTempoRange } from './tempo-range.ts'
export type { Analysis, AnalyzeOptions, TempoRange, WaveformLevel } from './types.ts'
export { WAVEFORM_COLUMNS } from './waveform.ts'
export { LUFS_FLOOR, PEAK_FLOOR_DB } from './loudness.ts'
