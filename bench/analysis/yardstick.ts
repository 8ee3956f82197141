// The yardstick: plain essentia.js 0.1.3 with its defaults, as a developer
// would first wire it up. The file is decoded with the decoder djcloud uses
// (audio-decode), mixed to mono and resampled to 44.1 kHz when it is not
// (RhythmExtractor2013 assumes 44.1 kHz and has no sample-rate parameter);
// then RhythmExtractor2013 with method 'multifeature' (its default) for the
// tempo and KeyExtractor with its defaults for the key, both on that signal.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import decode from 'audio-decode'

const ESSENTIA_RATE = 44_100

interface Vector {
  delete(): void
}
interface EssentiaCore {
  version: string
  arrayToVector(a: Float32Array): Vector
  RhythmExtractor2013(signal: Vector, maxTempo?: number, method?: string, minTempo?: number): { bpm: number; confidence: number; ticks: Vector; estimates: Vector; bpmIntervals: Vector }
  KeyExtractor(audio: Vector): { key: string; scale: string; strength: number }
}

export interface YardstickResult {
  bpm: number
  confidence: number
  /** "A minor", from essentia's key and scale (its names: Eb, Bb, Ab, C#, F#). */
  key: string
  strength: number
  sampleRate: number
  channels: number
  /** Decoded length, seconds. */
  duration: number
  /** Reading the file and audio-decode. */
  decodeMs: number
  /** Mono mix, and resampling when the file is not at 44.1 kHz. */
  prepareMs: number
  /** RhythmExtractor2013, copying the signal into the WASM heap included. */
  rhythmMs: number
  keyMs: number
  /** All of the above, wall-clock. */
  ms: number
  /** Process CPU time (user + system) over the same span. */
  cpuMs: number
}

export class Yardstick {
  readonly version: string
  readonly initMs: number
  private readonly essentia: EssentiaCore

  constructor() {
    const t0 = performance.now()
    const require = createRequire(import.meta.url)
    // The WASM backend and the core API, as the package's root module exports
    // them (the root also loads the TensorFlow model and plotting add-ons).
    // Emscripten's Node glue adds process-wide uncaughtException and
    // unhandledRejection (abort) handlers: removed, so that the rest of the
    // benchmark keeps Node's behaviour. src/analysis/essentia.ts does the same;
    // both get the same module instance and WASM heap from require's cache.
    const exceptions = new Set(process.listeners('uncaughtException'))
    const rejections = new Set(process.listeners('unhandledRejection'))
    const EssentiaWASM: unknown = require('essentia.js/dist/essentia-wasm.umd.js')
    for (const l of process.listeners('uncaughtException')) if (!exceptions.has(l)) process.removeListener('uncaughtException', l)
    for (const l of process.listeners('unhandledRejection')) if (!rejections.has(l)) process.removeListener('unhandledRejection', l)
    const Essentia = require('essentia.js/dist/essentia.js-core.umd.js') as new (wasm: unknown) => EssentiaCore
    this.essentia = new Essentia(EssentiaWASM)
    this.version = this.essentia.version
    this.initMs = performance.now() - t0
  }

  async analyze(path: string): Promise<YardstickResult> {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const audio = await decode(await readFile(path))
    const t1 = performance.now()
    const mono = resample(mixToMono(audio.channelData), audio.sampleRate, ESSENTIA_RATE)
    const t2 = performance.now()
    const signal = this.essentia.arrayToVector(mono)
    let rhythm: ReturnType<EssentiaCore['RhythmExtractor2013']> | undefined
    let t3 = t2
    try {
      rhythm = this.essentia.RhythmExtractor2013(signal, 208, 'multifeature', 40)
      t3 = performance.now()
      const key = this.essentia.KeyExtractor(signal)
      const t4 = performance.now()
      const cpu = process.cpuUsage(cpu0)
      return {
        bpm: rhythm.bpm,
        confidence: rhythm.confidence,
        key: `${key.key} ${key.scale}`,
        strength: key.strength,
        sampleRate: audio.sampleRate,
        channels: audio.channelData.length,
        duration: (audio.channelData[0]?.length ?? 0) / audio.sampleRate,
        decodeMs: t1 - t0,
        prepareMs: t2 - t1,
        rhythmMs: t3 - t2,
        keyMs: t4 - t3,
        ms: t4 - t0,
        cpuMs: (cpu.user + cpu.system) / 1000,
      }
    } finally {
      // Every vector lives in the WASM heap until deleted.
      signal.delete()
      if (rhythm) for (const v of [rhythm.ticks, rhythm.estimates, rhythm.bpmIntervals]) v.delete()
    }
  }
}

export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!
  const n = Math.min(...channels.map((c) => c.length))
  const out = new Float32Array(n)
  const g = 1 / channels.length
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]! * g
  return out
}

const HALF_TAPS = 12 // kernel half-width in output-rate samples
const PHASES = 512 // kernel table entries per input sample

/**
 * Band-limited resampling: a Blackman-windowed sinc, its cut-off just below
 * the lower Nyquist frequency, read from a table with linear interpolation.
 */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x
  const ratio = to / from
  const scale = Math.min(1, ratio)
  const cutoff = 0.5 * scale * 0.95 // cycles per input sample
  const half = Math.ceil(HALF_TAPS / scale) // taps each side, input samples
  const table = new Float32Array(half * PHASES + 2)
  for (let i = 0; i < table.length; i++) {
    const d = i / PHASES
    const u = Math.min(1, d / half)
    const window = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u)
    const arg = 2 * cutoff * d
    table[i] = 2 * cutoff * (d === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg)) * window
  }
  const out = new Float32Array(Math.floor(x.length * ratio))
  const last = x.length - 1
  for (let n = 0; n < out.length; n++) {
    const t = n / ratio
    const i0 = Math.floor(t)
    let sum = 0
    for (let k = Math.max(0, i0 - half + 1), end = Math.min(last, i0 + half); k <= end; k++) {
      const pos = Math.abs(t - k) * PHASES
      const j = pos | 0
      sum += x[k]! * (table[j]! + (table[j + 1]! - table[j]!) * (pos - j))
    }
    out[n] = sum
  }
  return out
}
