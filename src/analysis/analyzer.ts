// The analysis of one track, fed its PCM piece by piece as it is decoded.
// Each piece goes through once, in blocks: loudness and peak per channel at
// the full rate, waveform frames, the air band (hats) and a mono mix
// decimated to ~11 kHz. Only that decimated signal is kept (a quarter of one
// channel); tempo, key and the waveform's bands work on it at the end.
import { Decimator } from './dsp.ts'
import { AnalysisError } from './errors.ts'
import { estimateKey } from './key.ts'
import { camelotOf, openKeyOf } from './keys.ts'
import { LoudnessMeter } from './loudness.ts'
import { AirMeter, onsetEnvelopes, onsetHop } from './onset.ts'
import { estimateTempo } from './tempo.ts'
import type { Analysis, TempoRange } from './types.ts'
import { WaveformFrames } from './waveform.ts'

/** Bump whenever a change would give different results for the same audio. */
export const ANALYZER_VERSION = 2

/** Shorter clips hold too few beats for a tempo. */
export const MIN_SECONDS = 3
/** The analysis rate: ~11 kHz keeps harmony and drums, and costs a quarter of 44.1 kHz. */
const TARGET_RATE = 11025
const BLOCK = 1 << 16
/** Decimated samples per waveform frame. */
const WAVEFORM_FRAME = 16

/** The mean of the channels into `out`. */
function mixDown(channels: Float32Array[], out: Float32Array, length: number): void {
  const [a, b] = channels
  if (channels.length === 1) out.set(a!.subarray(0, length))
  else if (channels.length === 2) for (let i = 0; i < length; i++) out[i] = (a![i]! + b![i]!) * 0.5
  else {
    out.fill(0, 0, length)
    for (const c of channels) for (let i = 0; i < length; i++) out[i]! += c[i]!
    const gain = 1 / channels.length
    for (let i = 0; i < length; i++) out[i]! *= gain
  }
}

export class Analyzer {
  private readonly factor: number
  /** The analysis rate: the sample rate over `factor`. */
  private readonly rate: number
  private readonly decimator: Decimator
  private decimated = new Float32Array(1 << 16)
  private written = 0
  private loudness: LoudnessMeter | undefined
  private readonly frames: WaveformFrames
  private readonly air: AirMeter | null
  private readonly mono = new Float32Array(BLOCK)
  private channels = 0
  private samples = 0

  constructor(
    readonly sampleRate: number,
    private readonly range: TempoRange,
  ) {
    if (!(sampleRate > 0)) throw new AnalysisError('ERR_DECODE', `impossible sample rate ${sampleRate}`)
    this.factor = Math.max(1, Math.round(sampleRate / TARGET_RATE))
    this.rate = sampleRate / this.factor
    this.decimator = new Decimator(this.factor)
    this.frames = new WaveformFrames(this.factor, WAVEFORM_FRAME)
    this.air = AirMeter.covers(sampleRate) ? new AirMeter(sampleRate, onsetHop(this.rate) * this.factor) : null
  }

  /** Adds the next piece of the track (channels of equal length; the shortest sets it). */
  push(piece: Float32Array[]): void {
    if (piece.length === 0) return
    let channels = piece
    if (!this.loudness) {
      this.channels = piece.length
      this.loudness = new LoudnessMeter(this.sampleRate, piece.length)
    } else if (piece.length !== this.channels) {
      // The mp3 and AAC decoders hand over identical channels as one until
      // they first differ: a stream may turn from mono to stereo once.
      if (this.channels === 1 && piece.length === 2) {
        this.loudness.widenToStereo()
        this.channels = 2
      } else {
        channels = Array.from({ length: this.channels }, (_, c) => piece[Math.min(c, piece.length - 1)]!)
      }
    }
    const n = Math.min(...channels.map((c) => c.length))
    for (let start = 0; start < n; start += BLOCK) {
      const length = Math.min(BLOCK, n - start)
      const block = channels.map((c) => c.subarray(start, start + length))
      this.loudness.push(block, length)
      mixDown(block, this.mono, length)
      this.frames.push(block, this.mono, length)
      this.air?.push(this.mono, length)
      this.append(this.decimator.process(this.mono, length))
    }
    this.samples += n
  }

  private append(out: Float32Array): void {
    if (this.written + out.length > this.decimated.length) {
      const grown = new Float32Array(Math.max(this.decimated.length * 2, this.written + out.length))
      grown.set(this.decimated.subarray(0, this.written))
      this.decimated = grown
    }
    this.decimated.set(out, this.written)
    this.written += out.length
  }

  /** The analysis of everything pushed; ERR_TOO_SHORT under MIN_SECONDS. */
  finish(): Analysis {
    const duration = this.samples / this.sampleRate
    if (duration < MIN_SECONDS || !this.loudness) {
      throw new AnalysisError('ERR_TOO_SHORT', `too short to analyse: ${duration.toFixed(2)} s (at least ${MIN_SECONDS} s)`)
    }
    // The decimator delays by `skip` output samples: flush its tail, drop its head.
    const skip = Math.round(this.decimator.delay / this.factor)
    this.append(this.decimator.process(new Float32Array(this.decimator.delay + this.factor)))
    const signal = this.decimated.subarray(skip, Math.min(this.written, skip + Math.floor(this.samples / this.factor)))
    const tempo = estimateTempo(onsetEnvelopes(signal, this.rate, this.air?.result()), this.range)
    const { key, strength } = estimateKey(signal, this.rate)
    return {
      version: ANALYZER_VERSION,
      duration,
      bpm: tempo.bpm,
      tempoRange: { min: this.range.min, max: this.range.max },
      bpmConfidence: tempo.confidence,
      beatOffset: tempo.beatOffset,
      key,
      camelot: camelotOf(key),
      openKey: openKeyOf(key),
      keyStrength: strength,
      lufs: this.loudness.integrated(),
      peakDb: this.loudness.peakDb(),
      waveform: this.frames.levels(signal, this.rate, duration),
    }
  }
}
