/** Tempos a track may be reported at, in BPM; a track's tempo is folded by octaves into it. */
export interface TempoRange {
  min: number
  max: number
}

/** Club music: drum and bass at 170-175 stays fast, 128 house is not doubled, hip-hop at 90 is not halved. */
export const DEFAULT_TEMPO_RANGE: TempoRange = Object.freeze({ min: 85, max: 175 })

export interface WaveformLevel {
  columns: number
  secondsPerColumn: number
  /**
   * columns * 4 bytes: for each column its sample peak, then the RMS of the
   * low (< 200 Hz), mid (200-2500 Hz) and high (> 2500 Hz) bands, each 0-255
   * on a linear amplitude scale (255 = full scale; a band's RMS is scaled by
   * sqrt 2, so a full-scale sine reads 255).
   */
  data: Uint8Array
}

export interface Analysis {
  /** ANALYZER_VERSION that produced this. */
  version: number
  /** Seconds. */
  duration: number
  bpm: number
  /** The range `bpm` was folded into: a result made for another range is stale. */
  tempoRange: TempoRange
  /** 0..1: how clearly the track pulses at that tempo. */
  bpmConfidence: number
  /** Seconds: the first beat of the grid, in [0, 60 / bpm). */
  beatOffset: number
  /** e.g. "A minor", "F# major" (spelled as on the Camelot wheel). */
  key: string
  /** e.g. "8A" */
  camelot: string
  /** e.g. "1m" */
  openKey: string
  /** 0..1 */
  keyStrength: number
  /** Integrated loudness (ITU-R BS.1770-4), LUFS; a mono file counts as dual mono (as played on two speakers); -70 for silence. */
  lufs: number
  /** Sample peak, dBFS; -120 for digital silence. */
  peakDb: number
  /** [128 columns over the track, 1024 columns]. */
  waveform: WaveformLevel[]
}

export interface AnalyzeOptions {
  tempoRange?: TempoRange
}
