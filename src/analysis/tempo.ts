// Tempo, confidence and beat grid from the band onset envelopes.
//
//   1. periodicity  each band's onset envelope is autocorrelated; a tempo's
//                   salience is the mean autocorrelation at 1-4 beat periods,
//                   over the bands (a comb over one bar)
//   2. octave       the most salient tempo over two octaves around the range
//                   is folded by octaves into the range; where two octaves
//                   both fit (85-87.5 and 170-175), the faster wins unless
//                   the kick marks every slow beat and nothing between them
//   3. precision    the tempo is refined to ~0.01 BPM by folding the whole
//                   envelope at candidate beat periods and keeping the one
//                   whose beats line up sharpest
//   4. phase        the beat offset is where the folded kick-weighted
//                   envelope peaks
import { autocorrelation } from './dsp.ts'
import { LOW_BAND, type OnsetEnvelopes } from './onset.ts'
import type { TempoRange } from './types.ts'

export interface TempoEstimate {
  bpm: number
  confidence: number
  /** Seconds of the first beat, in [0, 60 / bpm). */
  beatOffset: number
}

/** Candidate tempos are this ratio apart. */
const GRID_RATIO = 1.002
/** Comb teeth: beat periods looked at, 1..TEETH (a bar of 4/4). */
const TEETH = 4
/**
 * The range's edges give by 1 %, so a measurement a hair past an edge does
 * not flip the octave (175.5 stays 175.5 rather than 87.75). More would widen
 * the band where both octaves fit, and hip-hop at 88 would read 176.
 */
const EDGE = 1.01

interface Periodicity {
  frameRate: number
  /** Normalised, bias-corrected autocorrelation per band (null: silent band). */
  acf: Array<Float64Array | null>
}

/** Subtracts a centred moving average (~1 s): a breakdown or a loud drop must not look like periodicity. */
function detrend(env: Float32Array, window: number): Float64Array {
  const n = env.length
  const out = new Float64Array(n)
  const half = Math.max(1, Math.floor(window / 2))
  let sum = 0
  let lo = 0
  let hi = 0 // sum covers env[lo, hi)
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half)
    const b = Math.min(n, i + half + 1)
    while (hi < b) sum += env[hi++]!
    while (lo < a) sum -= env[lo++]!
    out[i] = env[i]! - sum / (hi - lo)
  }
  return out
}

export function periodicity(env: OnsetEnvelopes, maxLag: number): Periodicity {
  const acf = env.bands.map((band) => {
    const x = detrend(band, Math.round(env.frameRate))
    const n = x.length
    const r = autocorrelation(x, Math.min(maxLag, n - 1))
    const r0 = r[0]!
    if (!(r0 > 1e-9)) return null
    // Unbiased: a lag-L product sum has N - L terms.
    for (let i = 0; i < r.length; i++) r[i] = (r[i]! / r0) * (n / (n - i))
    return r
  })
  return { frameRate: env.frameRate, acf }
}

/** Autocorrelation near a fractional lag: the largest value within half a frame plus 0.5 %. */
function near(r: Float64Array, lag: number): number {
  const tol = 0.5 + 0.005 * lag
  const lo = Math.max(1, Math.ceil(lag - tol))
  const hi = Math.min(r.length - 1, Math.floor(lag + tol))
  let best = -Infinity
  for (let i = lo; i <= hi; i++) if (r[i]! > best) best = r[i]!
  if (best === -Infinity) {
    const i = Math.round(lag)
    return i < r.length ? r[i]! : 0
  }
  return best
}

/** Mean autocorrelation at 1..TEETH beat periods (as many as the track holds), over the bands. */
export function salience(p: Periodicity, bpm: number, bands?: number[]): number {
  const period = (60 * p.frameRate) / bpm
  let sum = 0
  let count = 0
  const which = bands ?? p.acf.map((_, i) => i)
  for (const b of which) {
    const r = p.acf[b]
    if (!r) continue
    for (let k = 1; k <= TEETH; k++) {
      if (k * period > r.length - 1) break
      sum += near(r, k * period)
      count++
    }
  }
  return count ? sum / count : 0
}

export interface Candidate {
  bpm: number
  salience: number
}

/** Salience on a log grid from `lo` to `hi` BPM. */
export function salienceCurve(p: Periodicity, lo: number, hi: number): Candidate[] {
  const out: Candidate[] = []
  for (let bpm = lo; bpm <= hi; bpm *= GRID_RATIO) out.push({ bpm, salience: salience(p, bpm) })
  return out
}

/** Tempo, octave-folded into `range`: the candidate whose own, half and double tempo pulse strongest. */
function chooseTempo(p: Periodicity, range: TempoRange): { bpm: number; score: number; scores: number[] } {
  const family = (bpm: number) => salience(p, bpm) + salience(p, bpm / 2) + salience(p, bpm * 2)
  const lo = range.min / EDGE
  const hi = range.max * EDGE
  let best = lo
  let bestScore = -Infinity
  const scores: number[] = []
  for (let bpm = lo; bpm <= hi; bpm *= GRID_RATIO) {
    const score = family(bpm)
    scores.push(score)
    if (score > bestScore) {
      bestScore = score
      best = bpm
    }
  }
  // The peak may lie just past the range's edge, its octave inside: find it.
  const centre = best
  for (let r = -0.01; r <= 0.01; r += 0.0005) {
    const score = family(centre * (1 + r))
    if (score > bestScore) {
      bestScore = score
      best = centre * (1 + r)
    }
  }
  const fits = (bpm: number) => bpm >= lo && bpm <= hi
  if (!fits(best)) {
    if (fits(best * 2)) best *= 2
    else if (fits(best / 2)) best /= 2
    return { bpm: best, score: bestScore, scores }
  }
  // Where both octaves fit the range (85-87.5 and 170-175 by default), the
  // family score cannot tell them apart: the same pulses count for both. DJ
  // convention reads the fast one (drum and bass is 174 whatever its snare
  // does), unless the kick marks every slow beat and not the ones between.
  const slow = fits(best * 2) ? best : fits(best / 2) ? best / 2 : 0
  if (slow > 0) {
    const low = p.acf[LOW_BAND]
    const period = (60 * p.frameRate) / slow
    const onSlow = low && period < low.length ? near(low, period) : 0
    const between = low ? near(low, period / 2) : 0
    const fourOnTheFloorSlow = onSlow >= 0.4 && between <= 0.6 * onSlow
    best = fourOnTheFloorSlow ? slow : slow * 2
  }
  return { bpm: best, score: bestScore, scores }
}

/**
 * The onset envelope the beat grid is fitted to: the bands, each normalised
 * to unit mean (the hats' bands count half), plus the loudness-weighted
 * kick envelope counted three times.
 */
function gridEnvelope(env: OnsetEnvelopes): Float64Array {
  const n = env.kick.length
  const out = new Float64Array(n)
  const add = (x: Float32Array, weight: number) => {
    let mean = 0
    for (let i = 0; i < n; i++) mean += x[i]!
    mean /= n
    if (!(mean > 0)) return
    const w = weight / mean
    for (let i = 0; i < n; i++) out[i]! += w * x[i]!
  }
  env.bands.forEach((band, b) => add(band, GRID_BAND_WEIGHTS[b] ?? 0.5))
  add(env.kick, KICK_WEIGHT)
  return out
}

// Band weights for the grid: not the kick band's log envelope (a bass line's
// off-beat notes are as loud there as the kick), the snare's bands doubled
// (the backbeat sits on the beat; syncopated kicks do not).
const GRID_BAND_WEIGHTS = [0, 1, 2, 2, 1, 1]
const KICK_WEIGHT = 2

const FOLD_BINS = 64

/** The envelope summed per beat phase at `period` frames, smoothed over neighbouring bins. */
function fold(x: Float64Array, period: number): Float64Array {
  const hist = new Float64Array(FOLD_BINS)
  const scale = FOLD_BINS / period
  let phase = 0
  for (let i = 0; i < x.length; i++) {
    hist[Math.floor(phase * scale) % FOLD_BINS]! += x[i]!
    phase += 1
    if (phase >= period) phase -= period
  }
  const smooth = new Float64Array(FOLD_BINS)
  for (let i = 0; i < FOLD_BINS; i++) {
    smooth[i] = hist[(i + FOLD_BINS - 1) % FOLD_BINS]! + 2 * hist[i]! + hist[(i + 1) % FOLD_BINS]!
  }
  return smooth
}

function peakOf(h: Float64Array): { index: number; value: number; mean: number } {
  let index = 0
  let sum = 0
  for (let i = 0; i < h.length; i++) {
    sum += h[i]!
    if (h[i]! > h[index]!) index = i
  }
  return { index, value: h[index]!, mean: sum / h.length }
}

/** The beat period (frames) near `period` at which the beats line up sharpest over the whole track. */
function refinePeriod(x: Float64Array, period: number): number {
  const sharpness = (p: number) => {
    const { value, mean } = peakOf(fold(x, p))
    return mean > 0 ? value / mean : 0
  }
  let best = period
  let bestScore = sharpness(period)
  for (const [span, step] of [
    [0.015, 0.0005],
    [0.0006, 0.00005],
  ] as const) {
    const centre = best
    for (let r = -span; r <= span + 1e-12; r += step) {
      const p = centre * (1 + r)
      const s = sharpness(p)
      if (s > bestScore) {
        bestScore = s
        best = p
      }
    }
  }
  return best
}

/** Seconds from the start of the track to the first beat: the peak of the folded envelope. */
function beatPhase(x: Float64Array, period: number, env: OnsetEnvelopes): number {
  const h = fold(x, period)
  const { index } = peakOf(h)
  // Parabolic interpolation between the neighbouring bins.
  const a = h[(index + FOLD_BINS - 1) % FOLD_BINS]!
  const b = h[index]!
  const c = h[(index + 1) % FOLD_BINS]!
  const denom = a - 2 * b + c
  const offset = denom < 0 ? (0.5 * (a - c)) / denom : 0
  const frames = ((index + 0.5 + offset) / FOLD_BINS) * period
  const beat = period / env.frameRate
  const seconds = env.frameTime0 + frames / env.frameRate
  return ((seconds % beat) + beat) % beat
}

export function estimateTempo(env: OnsetEnvelopes, range: TempoRange): TempoEstimate {
  const frames = env.bands[0]?.length ?? 0
  const maxLag = Math.ceil(((60 * env.frameRate) / (range.min / 2)) * TEETH) + 2
  const p = periodicity(env, maxLag)
  if (frames === 0 || p.acf.every((r) => r === null)) return { bpm: 0, confidence: 0, beatOffset: 0 }
  const { bpm, score, scores } = chooseTempo(p, range)
  const x = gridEnvelope(env)
  const period = refinePeriod(x, (60 * env.frameRate) / bpm)
  let refined = (60 * env.frameRate) / period
  // Refining may cross the range's edge: the octave inside it is the answer then.
  if (refined > range.max * EDGE && refined / 2 >= range.min / EDGE) refined /= 2
  else if (refined < range.min / EDGE && refined * 2 <= range.max * EDGE) refined *= 2
  // Confidence: how far the winning family stands above a typical tempo's.
  const sorted = [...scores].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  const confidence = Math.max(0, Math.min(1, (score - median) / 1.2))
  return { bpm: Math.round(refined * 100) / 100, confidence, beatOffset: beatPhase(x, (60 * env.frameRate) / refined, env) }
}
