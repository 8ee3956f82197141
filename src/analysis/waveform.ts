// Coloured waveform overviews. The track is first summarised in small frames
// (~1.5 ms at 44.1 kHz): sample peak and mean square at the full rate, and
// the low and low+mid mean squares from the ~11 kHz signal, so the bands cost
// a quarter of the samples. Columns then gather whole frames; the high band
// is what the full-rate energy has beyond the low+mid band.
import { Biquad } from './dsp.ts'
import type { WaveformLevel } from './types.ts'

/** Columns of the two zoom levels. */
export const WAVEFORM_COLUMNS = [128, 1024] as const
const LOW_HZ = 200
const MID_HZ = 2500

export class WaveformFrames {
  /** Full-rate samples per frame. */
  readonly frameLength: number
  private peaks: Float32Array
  private energy: Float32Array // sum of squares of the mono mix
  private frames = 0
  private fill = 0 // samples already in the current frame
  private peak = 0
  private sum = 0

  constructor(
    readonly decimation: number,
    /** Decimated samples per frame. */
    readonly framePerDecimated: number,
  ) {
    this.frameLength = decimation * framePerDecimated
    this.peaks = new Float32Array(4096)
    this.energy = new Float32Array(4096)
  }

  /** Adds a block: `channels` for the peak, `mono` for the energy. */
  push(channels: Float32Array[], mono: Float32Array, length: number): void {
    for (let i = 0; i < length; ) {
      const end = Math.min(length, i + this.frameLength - this.fill)
      let p = this.peak
      for (const ch of channels) {
        for (let j = i; j < end; j++) {
          const a = Math.abs(ch[j]!)
          if (a > p) p = a
        }
      }
      let s = this.sum
      for (let j = i; j < end; j++) s += mono[j]! * mono[j]!
      this.peak = p
      this.sum = s
      this.fill += end - i
      if (this.fill === this.frameLength) this.close()
      i = end
    }
  }

  private close(): void {
    if (this.frames === this.peaks.length) {
      const grow = (a: Float32Array) => {
        const b = new Float32Array(a.length * 2)
        b.set(a)
        return b
      }
      this.peaks = grow(this.peaks)
      this.energy = grow(this.energy)
    }
    this.peaks[this.frames] = this.peak
    this.energy[this.frames] = this.sum
    this.frames++
    this.fill = 0
    this.peak = 0
    this.sum = 0
  }

  /** The overview levels, given the decimated mono signal for the bands. */
  levels(decimated: Float32Array, decimatedRate: number, duration: number): WaveformLevel[] {
    if (this.fill > 0) {
      // Scale the partial last frame's energy to a whole frame's worth of samples.
      this.sum *= this.frameLength / this.fill
      this.close()
    }
    const frames = this.frames
    const step = this.framePerDecimated
    const low = bandEnergy(decimated, [Biquad.lowpass(decimatedRate, LOW_HZ), Biquad.lowpass(decimatedRate, LOW_HZ)], step, frames)
    const lowMid = bandEnergy(decimated, [Biquad.lowpass(decimatedRate, MID_HZ), Biquad.lowpass(decimatedRate, MID_HZ)], step, frames)
    return WAVEFORM_COLUMNS.map((columns) => {
      const data = new Uint8Array(columns * 4)
      const perColumn = frames / columns
      for (let c = 0; c < columns; c++) {
        let from = Math.floor(c * perColumn)
        let to = Math.floor((c + 1) * perColumn)
        if (to <= from) {
          // Fewer frames than columns (a very short clip): repeat the frame.
          from = Math.min(from, frames - 1)
          to = from + 1
        }
        let peak = 0
        let total = 0
        let lo = 0
        let lm = 0
        for (let f = from; f < to; f++) {
          if (this.peaks[f]! > peak) peak = this.peaks[f]!
          total += this.energy[f]!
          lo += low[f]!
          lm += lowMid[f]!
        }
        const n = to - from
        const ms = total / (n * this.frameLength) // mean squares per sample
        const msLow = lo / (n * step)
        const msLowMid = Math.max(msLow, lm / (n * step))
        data[c * 4] = toByte(peak)
        data[c * 4 + 1] = toByte(Math.sqrt(2 * msLow))
        data[c * 4 + 2] = toByte(Math.sqrt(2 * (msLowMid - msLow)))
        data[c * 4 + 3] = toByte(Math.sqrt(2 * Math.max(0, ms - msLowMid)))
      }
      return { columns, secondsPerColumn: duration / columns, data }
    })
  }
}

const toByte = (v: number) => (v > 0 ? Math.min(255, Math.round(v * 255)) : 0)

/** Sum of squares of the filtered signal per frame of `step` samples. */
function bandEnergy(x: Float32Array, filters: Biquad[], step: number, frames: number): Float64Array {
  const y = new Float32Array(x.length)
  filters[0]!.process(x, y)
  for (const f of filters.slice(1)) f.process(y, y)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    let s = 0
    const start = f * step
    const end = Math.min(y.length, start + step)
    for (let i = start; i < end; i++) s += y[i]! * y[i]!
    // A partial last frame counts as a whole one, as the full-rate energy does.
    out[f] = end > start ? (s * step) / (end - start) : 0
  }
  return out
}
