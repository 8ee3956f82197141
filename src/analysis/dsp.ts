// Small signal-processing building blocks: biquad filters, a decimating FIR
// low-pass and an FFT. Plain loops over typed arrays: V8 runs them at a few
// nanoseconds per sample, which is what the speed budget allows.

/** A second-order IIR section (transposed direct form II); keeps its state between blocks. */
export class Biquad {
  private z1 = 0
  private z2 = 0
  constructor(
    readonly b0: number,
    readonly b1: number,
    readonly b2: number,
    readonly a1: number,
    readonly a2: number,
  ) {}

  // RBJ audio-EQ-cookbook designs.
  static lowpass(sampleRate: number, freq: number, q = Math.SQRT1_2): Biquad {
    const { cos, alpha } = rbj(sampleRate, freq, q)
    const a0 = 1 + alpha
    return new Biquad((1 - cos) / 2 / a0, (1 - cos) / a0, (1 - cos) / 2 / a0, (-2 * cos) / a0, (1 - alpha) / a0)
  }

  static highpass(sampleRate: number, freq: number, q = Math.SQRT1_2): Biquad {
    const { cos, alpha } = rbj(sampleRate, freq, q)
    const a0 = 1 + alpha
    return new Biquad((1 + cos) / 2 / a0, -(1 + cos) / a0, (1 + cos) / 2 / a0, (-2 * cos) / a0, (1 - alpha) / a0)
  }

  /** Band-pass with 0 dB gain at the centre frequency. */
  static bandpass(sampleRate: number, freq: number, q: number): Biquad {
    const { cos, alpha } = rbj(sampleRate, freq, q)
    const a0 = 1 + alpha
    return new Biquad(alpha / a0, 0, -alpha / a0, (-2 * cos) / a0, (1 - alpha) / a0)
  }

  /** The same filter in the same state. */
  clone(): Biquad {
    const copy = new Biquad(this.b0, this.b1, this.b2, this.a1, this.a2)
    copy.setState(this.z1, this.z2)
    return copy
  }

  /** The filter's state, for loops that run it inline (see LoudnessMeter). */
  state(): [number, number] {
    return [this.z1, this.z2]
  }

  setState(z1: number, z2: number): void {
    this.z1 = Math.abs(z1) < 1e-25 ? 0 : z1
    this.z2 = Math.abs(z2) < 1e-25 ? 0 : z2
  }

  /** Filters `input` into `output` (which may be the same array). */
  process(input: Float32Array, output: Float32Array = input, length = input.length): Float32Array {
    const { b0, b1, b2, a1, a2 } = this
    let z1 = this.z1
    let z2 = this.z2
    for (let i = 0; i < length; i++) {
      const x = input[i]!
      const y = b0 * x + z1
      z1 = b1 * x - a1 * y + z2
      z2 = b2 * x - a2 * y
      output[i] = y
    }
    // Flush denormals: a decaying tail would otherwise slow every later sample.
    this.z1 = Math.abs(z1) < 1e-25 ? 0 : z1
    this.z2 = Math.abs(z2) < 1e-25 ? 0 : z2
    return output
  }
}

function rbj(sampleRate: number, freq: number, q: number) {
  const w = (2 * Math.PI * Math.min(freq, sampleRate * 0.49)) / sampleRate
  return { cos: Math.cos(w), alpha: Math.sin(w) / (2 * q) }
}

/**
 * Low-pass filters and keeps every `factor`-th sample, computing only the
 * samples it keeps. Fed block by block; the tail of each block is kept as
 * history for the next. Linear phase: output sample k is input sample
 * k * factor delayed by `delay` input samples.
 */
export class Decimator {
  readonly delay: number
  private readonly taps: Float32Array
  private history: Float32Array
  private phase = 0 // input samples to skip before the next output

  constructor(
    readonly factor: number,
    tapsPerFactor = 8,
  ) {
    if (factor === 1) {
      this.taps = new Float32Array([1])
    } else {
      // Windowed sinc (Blackman) with its cut-off a little below the new Nyquist.
      const n = tapsPerFactor * factor + 1
      const cutoff = 0.42 / factor // cycles per input sample
      const taps = new Float32Array(n)
      let sum = 0
      for (let i = 0; i < n; i++) {
        const m = i - (n - 1) / 2
        const sinc = m === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * m) / (Math.PI * m)
        const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1))
        taps[i] = sinc * w
        sum += taps[i]!
      }
      for (let i = 0; i < n; i++) taps[i]! /= sum
      this.taps = taps
    }
    this.delay = (this.taps.length - 1) / 2
    this.history = new Float32Array(this.taps.length - 1)
  }

  /** Decimates one block; returns the new output samples. */
  process(block: Float32Array, length = block.length): Float32Array {
    const taps = this.taps
    const nt = taps.length
    const hist = this.history.length
    // Work buffer: history followed by the block.
    const buf = new Float32Array(hist + length)
    buf.set(this.history)
    buf.set(block.subarray(0, length), hist)
    const first = this.phase
    const count = first < length ? Math.floor((length - 1 - first) / this.factor) + 1 : 0
    const out = new Float32Array(count)
    for (let k = 0; k < count; k++) {
      // Output aligned with the newest input sample it uses.
      const end = first + k * this.factor + hist // index in buf of the newest sample
      const start = end - nt + 1
      let acc = 0
      for (let j = 0; j < nt; j++) acc += taps[j]! * buf[start + j]!
      out[k] = acc
    }
    this.phase = count > 0 ? first + count * this.factor - length : first - length
    this.history = buf.slice(buf.length - hist)
    return out
  }
}

/** In-place iterative radix-2 complex FFT; `re.length` must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      let t = re[i]!
      re[i] = re[j]!
      re[j] = t
      t = im[i]!
      im[i] = im[j]!
      im[j] = t
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len
    const wr = Math.cos(ang)
    const wi = Math.sin(ang)
    const half = len >> 1
    for (let i = 0; i < n; i += len) {
      let cr = 1
      let ci = 0
      for (let k = 0; k < half; k++) {
        const a = i + k
        const b = a + half
        const xr = re[b]! * cr - im[b]! * ci
        const xi = re[b]! * ci + im[b]! * cr
        re[b] = re[a]! - xr
        im[b] = im[a]! - xi
        re[a]! += xr
        im[a]! += xi
        const t = cr * wr - ci * wi
        ci = cr * wi + ci * wr
        cr = t
      }
    }
  }
}

/** Autocorrelation of `x` for lags 0..maxLag (unnormalised), through the FFT. */
export function autocorrelation(x: Float32Array | Float64Array, maxLag: number): Float64Array {
  let size = 1
  while (size < x.length + maxLag + 1) size <<= 1
  const re = new Float64Array(size)
  const im = new Float64Array(size)
  re.set(x)
  fft(re, im)
  for (let i = 0; i < size; i++) {
    re[i] = re[i]! * re[i]! + im[i]! * im[i]!
    im[i] = 0
  }
  // The inverse transform of a real, even spectrum is the forward one scaled.
  fft(re, im)
  const lags = Math.min(maxLag, x.length - 1)
  const out = new Float64Array(lags + 1)
  for (let i = 0; i <= lags; i++) out[i] = re[i]! / size
  return out
}
