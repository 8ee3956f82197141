// One analysis run over the library: every present recording (audio hash)
// without a result from this analyser version is analysed; results are
// written one by one, so a run killed midway resumes where it stopped. The
// analyser itself is handed in (a worker pool from src/analysis), so the
// library does not depend on it.
import { DEFAULT_TEMPO_RANGE, sameTempoRange, type Analysis, type TempoRange, type WaveformLevel } from '../analysis/index.ts'
import type { LevelLibraryStore } from './level-store.ts'
import { splitAnalysis, type AnalysisSummary } from './analysis-record.ts'

export interface AnalyzeProgress {
  done: number
  total: number
  /** Bytes of the files analysed so far, of all to analyse (what the progress bar shows). */
  bytesDone: number
  bytesTotal: number
}

export interface AnalyzeIssue {
  sha256: string
  path: string
  code: string
  reason: string
}

export interface AnalyzeOptions {
  /** Analyses one file; throws an error with a `code` (AnalysisError) for audio it cannot read. */
  analyze: (path: string) => Promise<Analysis>
  /** The analyser's version: a result of another version is stale. */
  version: number
  /** The tempo range `analyze` folds into (default: club music): a result for another range is stale. */
  tempoRange?: TempoRange
  /** Analyse again even where a result of this version exists. */
  force?: boolean
  /**
   * An analysis another own device made of this recording (from its library
   * manifest): taken as it is when it is of this version, not computed again.
   */
  shared?: (audioHash: string) => SharedAnalysis | undefined
  /** Files analysed at once (the pool's size). */
  concurrency?: number
  onProgress?: (p: AnalyzeProgress) => void
  onIssue?: (i: AnalyzeIssue) => void
  signal?: AbortSignal
}

/** What a library manifest carries of an analysis: the summary and the coarsest waveform. */
export type SharedAnalysis = AnalysisSummary & { overview?: WaveformLevel }

export interface AnalyzeSummary {
  /** Recordings present (tracks with the same audio hash count once). */
  recordings: number
  analysed: number
  /** Already analysed by this version here. */
  cached: number
  /** Taken from another own device's analysis instead of computed. */
  fromDevices: number
  failed: number
  issues: AnalyzeIssue[]
  /** Seconds of audio analysed in this run. */
  audioSeconds: number
  /** The range tempos were folded into. */
  tempoRange: TempoRange
  ms: number
}

export async function analyzeLibrary(store: LevelLibraryStore, opts: AnalyzeOptions): Promise<AnalyzeSummary> {
  const started = performance.now()
  // One file per recording: the first present track with that audio hash.
  const recordings = new Map<string, { sha256: string; path: string; size: number }>()
  for await (const t of store.allTracks()) {
    if (t.missing || !t.paths[0] || recordings.has(t.audioHash)) continue
    recordings.set(t.audioHash, { sha256: t.sha256, path: t.paths[0], size: t.size })
  }
  const range = opts.tempoRange ?? DEFAULT_TEMPO_RANGE
  // An error is the bytes' fault, whatever the range; a result of version 2 without a range used the default.
  const current = (a: { version: number; tempoRange?: TempoRange } | undefined, error = false) =>
    a?.version === opts.version && (error || sameTempoRange(a.tempoRange ?? DEFAULT_TEMPO_RANGE, range))
  const summary: AnalyzeSummary = { recordings: recordings.size, analysed: 0, cached: 0, fromDevices: 0, failed: 0, issues: [], audioSeconds: 0, tempoRange: { min: range.min, max: range.max }, ms: 0 }
  const todo: Array<[string, { sha256: string; path: string; size: number }]> = []
  for (const entry of recordings) {
    const have = await store.getAnalysis(entry[0])
    if (!opts.force && have && current({ version: have.version, tempoRange: have.result?.tempoRange }, have.error !== undefined)) {
      summary.cached++
      continue
    }
    const shared = opts.force ? undefined : opts.shared?.(entry[0])
    if (shared && current(shared)) {
      const { overview, ...result } = shared
      const waveform = overview && { levels: [{ columns: overview.columns, secondsPerColumn: overview.secondsPerColumn, data: Buffer.from(overview.data).toString('base64') }] }
      await store.putAnalysis(entry[0], { version: opts.version, at: Date.now(), source: 'device', result }, waveform)
      summary.fromDevices++
      continue
    }
    todo.push(entry)
  }
  const progress: AnalyzeProgress = { done: 0, total: todo.length, bytesDone: 0, bytesTotal: todo.reduce((n, [, r]) => n + r.size, 0) }
  opts.onProgress?.({ ...progress })

  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      opts.signal?.throwIfAborted()
      const [audioHash, rec] = todo[next++]!
      try {
        const a = await opts.analyze(rec.path)
        const { summary: result, waveform } = splitAnalysis(a)
        await store.putAnalysis(audioHash, { version: opts.version, at: Date.now(), source: 'local', result }, waveform)
        summary.analysed++
        summary.audioSeconds += a.duration
      } catch (err) {
        if (opts.signal?.aborted) throw err
        const e = err as Error & { code?: string }
        const issue: AnalyzeIssue = { sha256: rec.sha256, path: rec.path, code: e.code ?? 'ERR_ANALYSIS', reason: e.message.split('\n')[0]! }
        // Recorded, so the next run does not try the same bytes again; the run goes on.
        await store.putAnalysis(audioHash, { version: opts.version, at: Date.now(), source: 'local', error: { code: issue.code, message: issue.reason } })
        summary.failed++
        summary.issues.push(issue)
        opts.onIssue?.(issue)
      }
      progress.done++
      progress.bytesDone += rec.size
      opts.onProgress?.({ ...progress })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, worker))
  summary.audioSeconds = Math.round(summary.audioSeconds * 10) / 10
  summary.ms = Math.round(performance.now() - started)
  return summary
}
