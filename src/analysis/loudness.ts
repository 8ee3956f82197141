// Integrated loudness per ITU-R BS.1770-4 (EBU R 128's measure): K-weighting,
// mean square over 400 ms blocks overlapping by 75 %, an absolute gate at
// -70 LUFS and a relative gate 10 LU below the loudness of the blocks that
// passed the first. Fed block by block so the whole track is never copied.
import { Biquad } from './dsp.ts'

/** Reported for silence: the absolute gate, below which BS.1770 measures nothing. */
export const LUFS_FLOOR = -70
/** Reported as the peak of digital silence (instead of -Infinity, which JSON cannot hold). */
export const PEAK_FLOOR_DB = -120

/**
 * The K-weighting pre-filter (a high shelf) and RLB high-pass for any sample
 * rate. BS.1770 tabulates them for 48 kHz only; these are the analog
 * prototypes the table was made from (as in libebur128), so other rates give
 * the same response.
 */
export function kWeighting(sampleRate: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533
  const gainDb = 3.999843853973347
  let q = 0.7071752369554196
  let k = Math.tan((Math.PI * f0) / sampleRate)
  const vh = 10 ** (gainDb / 20)
  const vb = vh ** 0.4996667741545416
  let a0 = 1 + k / q + k * k
  const shelf = new Biquad((vh + (vb * k) / q + k * k) / a0, (2 * (k * k - vh)) / a0, (vh - (vb * k) / q + k * k) / a0, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0)
  f0 = 38.13547087602444
  q = 0.5003270373238773
  k = Math.tan((Math.PI * f0) / sampleRate)
  a0 = 1 + k / q + k * k
  const highpass = new Biquad(1, -2, 1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0)
  return [shelf, highpass]
}

/**
 * Channel weights: 1 for front channels, 1.41 for surrounds, 0 for LFE (5.1
 * order L R C LFE Ls Rs). A single channel counts twice (+3 dB, "dual mono"):
 * a DJ plays a mono file through both speakers, where it sounds as loud as a
 * stereo file with the same signal in both channels; and the mp3 and AAC
 * decoders hand such stereo files over as mono, so only this keeps one
 * recording's loudness the same in every format.
 */
function channelWeights(channels: number): number[] {
  if (channels === 1) return [2]
  if (channels === 6) return [1, 1, 1, 0, 1.41, 1.41]
  return new Array<number>(channels).fill(1)
}

export class LoudnessMeter {
  private readonly filters: Array<[Biquad, Biquad]>
  private weights: number[]
  private readonly subBlock: number // samples per 100 ms
  private partial = 0 // weighted sum of squares in the unfinished sub-block
  private partialLength = 0
  /** Weighted mean square per 100 ms sub-block. */
  private readonly subBlocks: number[] = []
  private peak = 0

  constructor(
    sampleRate: number,
    private channels: number,
  ) {
    this.filters = Array.from({ length: channels }, () => kWeighting(sampleRate))
    this.weights = channelWeights(channels)
    this.subBlock = Math.round(sampleRate / 10)
  }

  push(block: Float32Array[], length: number): void {
    // The block in pieces that end where a 100 ms sub-block does.
    const ends: number[] = []
    for (let at = this.subBlock - this.partialLength; at < length; at += this.subBlock) ends.push(at)
    ends.push(length)
    const sums = new Float64Array(ends.length)
    let peak = this.peak
    for (let c = 0; c < this.channels; c++) {
      const x = block[c]!
      const w = this.weights[c]!
      const [shelf, highpass] = this.filters[c]!
      // Both K-weighting sections inline, with their state in locals: one
      // pass per channel, the hottest loop of the analysis.
      const { b0, b1, b2, a1, a2 } = shelf
      const { b0: c0, b1: c1, b2: c2, a1: d1, a2: d2 } = highpass
      let [s1, s2] = shelf.state()
      let [h1, h2] = highpass.state()
      let start = 0
      for (let k = 0; k < ends.length; k++) {
        const end = ends[k]!
        let sum = 0
        for (let i = start; i < end; i++) {
          const v = x[i]!
          const a = v < 0 ? -v : v
          if (a > peak) peak = a
          const y = b0 * v + s1
          s1 = b1 * v - a1 * y + s2
          s2 = b2 * v - a2 * y
          const z = c0 * y + h1
          h1 = c1 * y - d1 * z + h2
          h2 = c2 * y - d2 * z
          sum += z * z
        }
        sums[k]! += w * sum
        start = end
      }
      shelf.setState(s1, s2)
      highpass.setState(h1, h2)
    }
    this.peak = peak
    let start = 0
    for (let k = 0; k < ends.length; k++) {
      this.partial += sums[k]!
      this.partialLength += ends[k]! - start
      start = ends[k]!
      if (this.partialLength === this.subBlock) {
        this.subBlocks.push(this.partial / this.subBlock)
        this.partial = 0
        this.partialLength = 0
      }
    }
  }

  /**
   * From one channel to two identical ones so far: the new channel's filters
   * take the first's state, and dual mono's weight 2 becomes 1 + 1.
   */
  widenToStereo(): void {
    if (this.channels !== 1) throw new Error('only a mono meter widens to stereo')
    const [shelf, highpass] = this.filters[0]!
    this.filters.push([shelf.clone(), highpass.clone()])
    this.channels = 2
    this.weights = channelWeights(2)
  }

  /** Sample peak, dBFS. */
  peakDb(): number {
    return this.peak > 0 ? Math.max(PEAK_FLOOR_DB, 20 * Math.log10(this.peak)) : PEAK_FLOOR_DB
  }

  /** Integrated loudness, LUFS; LUFS_FLOOR when no block passes the absolute gate. */
  integrated(): number {
    const blocks: number[] = []
    for (let i = 0; i + 4 <= this.subBlocks.length; i++) {
      blocks.push((this.subBlocks[i]! + this.subBlocks[i + 1]! + this.subBlocks[i + 2]! + this.subBlocks[i + 3]!) / 4)
    }
    const lufs = (ms: number) => -0.691 + 10 * Math.log10(ms)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const absolute = blocks.filter((ms) => ms > 0 && lufs(ms) > -70)
    if (absolute.length === 0) return LUFS_FLOOR
    const relativeGate = lufs(mean(absolute)) - 10
    const gated = absolute.filter((ms) => lufs(ms) > relativeGate)
    return Math.max(LUFS_FLOOR, lufs(mean(gated)))
  }
}
