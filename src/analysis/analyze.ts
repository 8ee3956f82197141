// One pass over the PCM in blocks: loudness and peak per channel at the full
// rate, waveform frames, and a mono mix decimated to ~11 kHz. Tempo, key and
// the waveform's bands then work on the small decimated signal.
import { Decimator } from './dsp.ts'
import { AnalysisError } from './errors.ts'
import { estimateKey } from './key.ts'
import { camelotOf, openKeyOf } from './keys.ts'
import { LoudnessMeter } from './loudness.ts'
import { onsetEnvelopes } from './onset.ts'
import { estimateTempo } from './tempo.ts'
import { DEFAULT_TEMPO_RANGE, type Analysis, type AnalyzeOptions, type TempoRange } from './types.ts'
import { WaveformFrames } from './waveform.ts'
import { decodeFile } from './decode.ts'

/** Bump whenever a change would give different results for the same audio. */
export const ANALYZER_VERSION = 1

/** Shorter clips hold too few beats for a tempo. */
export const MIN_SECONDS = 3
/** The analysis rate: ~11 kHz keeps harmony and drums, and costs a quarter of 44.1 kHz. */
const TARGET_RATE = 11025
const BLOCK = 1 << 16
/** Decimated samples per waveform frame. */
const WAVEFORM_FRAME = 16

function checkRange(range: TempoRange): TempoRange {
  if (!(range.min > 0 && range.max >= range.min && Number.isFinite(range.max))) {
    throw new RangeError(`invalid tempo range ${range.min}-${range.max}`)
  }
  return range
}

/** Analyses decoded audio in the calling thread. */
export async function analyzePcm(channels: Float32Array[], sampleRate: number, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const range = checkRange(opts.tempoRange ?? DEFAULT_TEMPO_RANGE)
  if (channels.length === 0 || !(sampleRate > 0)) throw new AnalysisError('ERR_DECODE', 'no audio channels')
  const n = Math.min(...channels.map((c) => c.length))
  const duration = n / sampleRate
  if (duration < MIN_SECONDS) {
    throw new AnalysisError('ERR_TOO_SHORT', `too short to analyse: ${duration.toFixed(2)} s (at least ${MIN_SECONDS} s)`)
  }

  const factor = Math.max(1, Math.round(sampleRate / TARGET_RATE))
  const rate = sampleRate / factor
  const decimator = new Decimator(factor)
  // The decimator delays by `skip` output samples: drop them, then flush the tail.
  const skip = Math.round(decimator.delay / factor)
  const decimated = new Float32Array(Math.ceil(n / factor) + skip + 1)
  let written = 0
  const append = (out: Float32Array) => {
    const room = decimated.length - written
    decimated.set(room < out.length ? out.subarray(0, room) : out, written)
    written += Math.min(room, out.length)
  }
  const loudness = new LoudnessMeter(sampleRate, channels.length)
  const frames = new WaveformFrames(factor, WAVEFORM_FRAME, n)
  const mono = new Float32Array(BLOCK)
  const gain = 1 / channels.length
  for (let start = 0; start < n; start += BLOCK) {
    const length = Math.min(BLOCK, n - start)
    const block = channels.map((c) => c.subarray(start, start + length))
    loudness.push(block, length)
    mono.set(block[0]!)
    for (const c of block.slice(1)) for (let i = 0; i < length; i++) mono[i]! += c[i]!
    if (gain !== 1) for (let i = 0; i < length; i++) mono[i]! *= gain
    frames.push(block, mono, length)
    append(decimator.process(mono, length))
  }
  append(decimator.process(new Float32Array(decimator.delay + factor)))
  const signal = decimated.subarray(skip, Math.min(written, skip + Math.floor(n / factor)))

  const tempo = estimateTempo(onsetEnvelopes(signal, rate), range)
  const { key, strength } = estimateKey(signal, rate)
  return {
    version: ANALYZER_VERSION,
    duration,
    bpm: tempo.bpm,
    bpmConfidence: tempo.confidence,
    beatOffset: tempo.beatOffset,
    key,
    camelot: camelotOf(key),
    openKey: openKeyOf(key),
    keyStrength: strength,
    lufs: loudness.integrated(),
    peakDb: loudness.peakDb(),
    waveform: frames.levels(signal, rate, duration),
  }
}

/** Decodes and analyses a file in the calling thread. */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const { channels, sampleRate } = await decodeFile(path)
  return analyzePcm(channels, sampleRate, opts)
}
