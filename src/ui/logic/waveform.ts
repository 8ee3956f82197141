// The coloured waveform: GET /api/waveform/<audioHash> gives levels of 4
// bytes a column (peak, low, mid, high band energies, 0-255). Height is the
// peak; colour mixes red for lows, green for mids and blue for highs, scaled
// so the strongest band is at full brightness.

export interface WaveformLevel {
  columns: number
  secondsPerColumn: number
  /** base64, 4 bytes a column */
  data: string
}

export interface WaveformColumns {
  /** 0-1 each, one per pixel column */
  peak: Float32Array
  low: Float32Array
  mid: Float32Array
  high: Float32Array
}

/** Decodes base64 without Buffer or atob, so it runs in browsers and tests alike. */
export function decodeBase64(b64: string): Uint8Array {
  const table = new Int16Array(128).fill(-1)
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  for (let i = 0; i < 64; i++) table[chars.charCodeAt(i)] = i
  table['-'.charCodeAt(0)] = 62
  table['_'.charCodeAt(0)] = 63
  const clean = b64.replace(/[\s=]/g, '')
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4))
  let bits = 0
  let acc = 0
  let o = 0
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i)
    const v = c < 128 ? table[c]! : -1
    if (v < 0) throw new TypeError('bad base64')
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return out.subarray(0, o)
}

/** The coarsest level with at least `width` columns, else the finest there is. */
export function pickLevel(levels: readonly WaveformLevel[], width: number): WaveformLevel | undefined {
  const sorted = [...levels].filter((l) => l.columns > 0).sort((a, b) => a.columns - b.columns)
  return sorted.find((l) => l.columns >= width) ?? sorted[sorted.length - 1]
}

/** Resamples a level to `width` pixel columns: the highest peak and the mean band energies under each. */
export function resample(data: Uint8Array, columns: number, width: number): WaveformColumns {
  const w = Math.max(0, Math.floor(width))
  const out: WaveformColumns = { peak: new Float32Array(w), low: new Float32Array(w), mid: new Float32Array(w), high: new Float32Array(w) }
  const cols = Math.min(columns, Math.floor(data.length / 4))
  if (cols <= 0) return out
  for (let x = 0; x < w; x++) {
    const a = Math.floor((x * cols) / w)
    const b = Math.max(a + 1, Math.floor(((x + 1) * cols) / w))
    let peak = 0
    let low = 0
    let mid = 0
    let high = 0
    for (let c = a; c < b && c < cols; c++) {
      const o = c * 4
      peak = Math.max(peak, data[o]!)
      low += data[o + 1]!
      mid += data[o + 2]!
      high += data[o + 3]!
    }
    const n = Math.min(b, cols) - a
    out.peak[x] = peak / 255
    out.low[x] = low / n / 255
    out.mid[x] = mid / n / 255
    out.high[x] = high / n / 255
  }
  return out
}

/** [r, g, b] 0-255 for a column's band energies; grey when all are silent. */
export function bandColor(low: number, mid: number, high: number): [number, number, number] {
  const m = Math.max(low, mid, high)
  if (!(m > 0)) return [128, 128, 128]
  // A floor keeps weak bands visible as tint rather than black.
  const ch = (v: number) => Math.round(60 + 195 * Math.max(0, v) / m)
  return [ch(low), ch(mid), ch(high)]
}

export const cssColor = ([r, g, b]: [number, number, number]): string => `rgb(${r},${g},${b})`

/** Seconds at a click's x in a waveform `width` px wide showing `duration` seconds. */
export function seekTime(x: number, width: number, duration: number): number {
  if (!(width > 0) || !Number.isFinite(duration) || duration <= 0) return 0
  return Math.min(duration, Math.max(0, (x / width) * duration))
}
