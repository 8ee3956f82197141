// Onset envelopes: how much sound energy starts in each ~6 ms frame, per
// frequency band. Bands keep the kick, the snare and the hats apart, so each
// instrument's periodicity counts on its own and a loud hi-hat cannot hide
// the kick's pulse. Log-compressed energy rises, summed over each hop.
import { Biquad } from './dsp.ts'

/** Band edges in Hz; the first band is the kick and bass, the last the hats. */
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

export interface OnsetEnvelopes {
  /** Frames per second. */
  frameRate: number
  /** Seconds of the centre of frame 0 (the frames are causal energy rises). */
  frameTime0: number
  /** One envelope per band, each with one value per frame. */
  bands: Float32Array[]
  /**
   * Rises of the low bands' energy, uncompressed: the loudest low transients
   * (the kick, the snare's body) dominate it, which places the beat grid on
   * the drums rather than on a bass line's off-beat notes.
   */
  kick: Float32Array
}

/** Target frame rate; a hop of 64 samples at 11025 Hz. */
const FRAME_RATE = 172

export function onsetEnvelopes(mono: Float32Array, sampleRate: number): OnsetEnvelopes {
  const hop = Math.max(1, Math.round(sampleRate / FRAME_RATE))
  const frames = Math.floor(mono.length / hop)
  const nyquist = sampleRate / 2
  const filtered = new Float32Array(mono.length)
  const bands: Float32Array[] = []
  const low = new Float64Array(frames)
  for (const [lo, hi] of BANDS) {
    if (lo >= nyquist * 0.9) break
    const top = Math.min(hi, nyquist * 0.9)
    const centre = Math.sqrt(lo * top)
    const q = centre / (top - lo)
    // Two cascaded band-passes: steeper skirts, so the kick stays out of the snare band.
    Biquad.bandpass(sampleRate, centre, q).process(mono, filtered)
    Biquad.bandpass(sampleRate, centre, q).process(filtered, filtered)
    const energy = new Float64Array(frames)
    for (let f = 0; f < frames; f++) {
      let e = 0
      const start = f * hop
      for (let i = start; i < start + hop; i++) e += filtered[i]! * filtered[i]!
      energy[f] = e / hop
    }
    const env = new Float32Array(frames)
    let previous = 0
    for (let f = 0; f < frames; f++) {
      // A ~30 ms window (1 2 2 2 1 over hops): two notes a few tens of Hz
      // apart in one band beat, and the beating must not read as onsets.
      let e = 2 * (energy[f - 1] ?? 0) + 2 * energy[f]! + 2 * (energy[f + 1] ?? 0) + (energy[f - 2] ?? 0) + (energy[f + 2] ?? 0)
      e /= 8
      if (hi <= KICK_TOP) low[f]! += e
      // log(1 + C e): loudness-like compression, so quiet onsets still count.
      const level = Math.log1p(1e4 * e)
      const rise = level - previous
      env[f] = rise > 0 ? rise : 0
      previous = level
    }
    bands.push(env)
  }
  const kick = new Float32Array(frames)
  for (let f = 1; f < frames; f++) kick[f] = Math.max(0, low[f]! - low[f - 1]!)
  return { frameRate: sampleRate / hop, frameTime0: hop / 2 / sampleRate, bands, kick }
}
