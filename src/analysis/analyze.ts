// Analysis in the calling thread: of PCM in memory, or of a file decoded as
// a stream into the analyser (see analyzer.ts and decode.ts).
import { Analyzer } from './analyzer.ts'
import { AnalysisError } from './errors.ts'
import { streamFile } from './decode.ts'
import { checkRange } from './tempo-range.ts'
import { DEFAULT_TEMPO_RANGE, type Analysis, type AnalyzeOptions } from './types.ts'

export { ANALYZER_VERSION, MIN_SECONDS } from './analyzer.ts'

/** Analyses decoded audio (one array per channel) in the calling thread. */
export async function analyzePcm(channels: Float32Array[], sampleRate: number, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const range = checkRange(opts.tempoRange ?? DEFAULT_TEMPO_RANGE)
  if (channels.length === 0) throw new AnalysisError('ERR_DECODE', 'no audio channels')
  const analyzer = new Analyzer(sampleRate, range)
  analyzer.push(channels)
  return analyzer.finish()
}

/** Decodes and analyses a file in the calling thread, never holding all of its PCM. */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const range = checkRange(opts.tempoRange ?? DEFAULT_TEMPO_RANGE)
  let analyzer: Analyzer | undefined
  await streamFile(path, (channels, sampleRate) => {
    analyzer ??= new Analyzer(sampleRate, range)
    analyzer.push(channels)
  })
  return analyzer!.finish()
}
