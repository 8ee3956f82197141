// Onset envelopes: how much sound energy starts in each ~6 ms frame, per
// frequency band. Bands keep the kick, the snare and the hats apart, so each
// instrument's periodicity counts on its own and a loud hi-hat cannot hide
// the kick's pulse. Log-compressed energy rises per hop.
//
// Six bands come from the ~11 kHz analysis signal. Hi-hats live mostly above
// 6 kHz, beyond its reach, so an "air" band is measured at the full sample
// rate while the track streams through (AirMeter) and joins them.
import { Biquad } from './dsp.ts'

/** Band edges in Hz; the first band is the kick and bass. */
const BANDS: Array<[number, number]> = [
  [30, 120],
  [120, 300],
  [300, 800],
  [800, 2000],
  [2000, 4000],
  [4000, 8000],
]

/** Band index holding the kick drum. */
export const LOW_BAND = 0
/** Bands up to this frequency make the kick envelope. */
const KICK_TOP = 300
/** The air band: hats and cymbals. */
const AIR_HZ = 6000

export interface OnsetEnvelopes {
  /** Frames per second. */
  frameRate: number
  /** Seconds of the centre of frame 0 (the frames are causal energy rises). */
  frameTime0: number
  /** One envelope per band, each with one value per frame; the air band last, if there is one. */
  bands: Float32Array[]
  /** Index in `bands` of the air band (above 6 kHz), or -1 at low sample rates. */
  air: number
  /**
   * Rises of the low bands' energy, uncompressed: the loudest low transients
   * (the kick, the snare's body) dominate it, which places the beat grid on
   * the drums rather than on a bass line's off-beat notes.
   */
  kick: Float32Array
}

/** Target frame rate; a hop of 64 samples at 11025 Hz. */
const FRAME_RATE = 172

/** Analysis-rate samples per onset frame. */
export const onsetHop = (sampleRate: number) => Math.max(1, Math.round(sampleRate / FRAME_RATE))

/** Mean square per frame of the full-rate signal above 6 kHz, fed block by block. */
export class AirMeter {
  private readonly filter: Biquad
  private scratch = new Float32Array(0)
  private energies = new Float64Array(1024)
  private frames = 0
  private fill = 0
  private sum = 0

  constructor(
    sampleRate: number,
    /** Full-rate samples per onset frame. */
    readonly frameLength: number,
  ) {
    this.filter = Biquad.highpass(sampleRate, AIR_HZ)
  }

  /** Whether the rate leaves anything above 6 kHz to measure. */
  static covers(sampleRate: number): boolean {
    return sampleRate / 2 > AIR_HZ * 1.3
  }

  push(mono: Float32Array, length: number): void {
    if (this.scratch.length < length) this.scratch = new Float32Array(length)
    const y = this.filter.process(mono, this.scratch, length)
    for (let i = 0; i < length; ) {
      const end = Math.min(length, i + this.frameLength - this.fill)
      let s = this.sum
      for (let j = i; j < end; j++) s += y[j]! * y[j]!
      this.sum = s
      this.fill += end - i
      i = end
      if (this.fill === this.frameLength) {
        if (this.frames === this.energies.length) {
          const grown = new Float64Array(this.energies.length * 2)
          grown.set(this.energies)
          this.energies = grown
        }
        this.energies[this.frames++] = this.sum / this.frameLength
        this.sum = 0
        this.fill = 0
      }
    }
  }

  /** Mean square per whole frame so far. */
  result(): Float64Array {
    return this.energies.subarray(0, this.frames)
  }
}

/** Log-compressed energy rises of per-frame mean squares, over a ~30 ms window. */
function rises(energy: Float64Array, frames: number): Float32Array {
  const env = new Float32Array(frames)
  let previous = 0
  for (let f = 0; f < frames; f++) {
    // A ~30 ms window (1 2 2 2 1 over hops): two notes a few tens of Hz
    // apart in one band beat, and the beating must not read as onsets.
    const e = (2 * (energy[f - 1] ?? 0) + 2 * (energy[f] ?? 0) + 2 * (energy[f + 1] ?? 0) + (energy[f - 2] ?? 0) + (energy[f + 2] ?? 0)) / 8
    // log(1 + C e): loudness-like compression, so quiet onsets still count.
    const level = Math.log1p(1e4 * e)
    const rise = level - previous
    env[f] = rise > 0 ? rise : 0
    previous = level
  }
  return env
}

/**
 * Envelopes of the analysis-rate mono signal, plus the air band's when its
 * frame energies (AirMeter, full rate) are given.
 */
export function onsetEnvelopes(mono: Float32Array, sampleRate: number, airEnergy?: Float64Array): OnsetEnvelopes {
  const hop = onsetHop(sampleRate)
  const frames = Math.floor(mono.length / hop)
  const nyquist = sampleRate / 2
  const filtered = new Float32Array(mono.length)
  const bands: Float32Array[] = []
  const low = new Float64Array(frames)
  const energy = new Float64Array(frames)
  for (const [lo, hi] of BANDS) {
    if (lo >= nyquist * 0.9) break
    const top = Math.min(hi, nyquist * 0.9)
    const centre = Math.sqrt(lo * top)
    const q = centre / (top - lo)
    // Two cascaded band-passes: steeper skirts, so the kick stays out of the snare band.
    Biquad.bandpass(sampleRate, centre, q).process(mono, filtered)
    Biquad.bandpass(sampleRate, centre, q).process(filtered, filtered)
    for (let f = 0; f < frames; f++) {
      let e = 0
      const start = f * hop
      for (let i = start; i < start + hop; i++) e += filtered[i]! * filtered[i]!
      energy[f] = e / hop
      if (hi <= KICK_TOP) low[f]! += energy[f]!
    }
    bands.push(rises(energy, frames))
  }
  let air = -1
  if (airEnergy && airEnergy.length > 0) {
    air = bands.length
    bands.push(rises(airEnergy, frames))
  }
  // The same ~30 ms window as the bands, on linear energy.
  const smooth = (f: number) => (2 * (low[f - 1] ?? 0) + 2 * (low[f] ?? 0) + 2 * (low[f + 1] ?? 0) + (low[f - 2] ?? 0) + (low[f + 2] ?? 0)) / 8
  const kick = new Float32Array(frames)
  for (let f = 1; f < frames; f++) kick[f] = Math.max(0, smooth(f) - smooth(f - 1))
  return { frameRate: sampleRate / hop, frameTime0: hop / 2 / sampleRate, bands, air, kick }
}
