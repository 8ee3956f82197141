// How analysis results are kept in the library store, keyed by audio hash
// (the recording, so a retagged file is not analysed again) with the
// analyser's version (so a changed analyser analyses again and an unchanged
// one never does). The summary is small and read with every listing; the
// waveform is stored apart and read one track at a time.
import type { Analysis, WaveformLevel } from '../analysis/index.ts'

/** Everything but the waveform. */
export type AnalysisSummary = Omit<Analysis, 'waveform'>

export interface StoredAnalysis {
  version: number
  /** ms since the epoch */
  at: number
  /** Where the result came from: this device, or another own device's manifest. */
  source: 'local' | 'device'
  result?: AnalysisSummary
  /** The track could not be analysed (corrupt or undecodable audio): recorded so a run goes on. */
  error?: { code: string; message: string }
}

export interface StoredWaveform {
  levels: Array<{ columns: number; secondsPerColumn: number; data: string /* base64 */ }>
}

export function splitAnalysis(a: Analysis): { summary: AnalysisSummary; waveform: StoredWaveform } {
  const { waveform, ...summary } = a
  return { summary, waveform: { levels: waveform.map((l) => ({ columns: l.columns, secondsPerColumn: l.secondsPerColumn, data: Buffer.from(l.data).toString('base64') })) } }
}

export function waveformLevels(w: StoredWaveform): WaveformLevel[] {
  return w.levels.map((l) => ({ columns: l.columns, secondsPerColumn: l.secondsPerColumn, data: new Uint8Array(Buffer.from(l.data, 'base64')) }))
}
