// Tempo, confidence and beat grid from the band onset envelopes.
//
//   1. periodicity  each band's onset envelope is autocorrelated; a tempo's
//                   salience is the mean autocorrelation at 1-4 beat periods,
//                   over the bands (a comb over one bar), and its family
//                   score adds the saliences of half and twice the tempo:
//                   the true beat pulses at every metrical level, a tempo
//                   3/2 or 2/3 off it does not
//   2. candidate    the tempo in the range with the best family score
//   3. precision    refined to ~0.01 BPM by folding the whole envelope at
//                   candidate beat periods and keeping the one whose beats
//                   line up sharpest
//   4. octave       folded into the range; where both octaves fit (85-87.5
//                   and 170-175 by default) the groove decides (slowGroove)
//   5. phase        the beat offset is where the folded envelope peaks, the
//                   kick and the snare weighing most
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
 * The range's edges give by 0.2 % (0.35 BPM at 175), so measurement noise
 * does not flip the octave of a track right at an edge. More would widen the
 * band where both octaves fit: hip-hop at 88 would read 176.
 */
const EDGE = 1.002

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

function periodicity(env: OnsetEnvelopes, maxLag: number): Periodicity {
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
function salience(p: Periodicity, bpm: number): number {
  const period = (60 * p.frameRate) / bpm
  let sum = 0
  let count = 0
  for (const r of p.acf) {
    if (!r) continue
    for (let k = 1; k <= TEETH; k++) {
      if (k * period > r.length - 1) break
      sum += near(r, k * period)
      count++
    }
  }
  return count ? sum / count : 0
}

/** The tempo in (or just past) `range` whose own, half and double tempo pulse strongest. */
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
  return { bpm: best, score: bestScore, scores }
}

/**
 * Whether a track that could be read at a tempo or at twice it grooves at
 * the slow one. DJ convention reads drum and bass at 170-175 whatever its
 * snare does (a half-time snare on 3 sounds like a hip-hop backbeat at 87),
 * so the fast reading wins unless the slow one shows itself:
 *   - a kick on every slow beat and not between them (four to the floor);
 *   - hats on one phase of the fast beat only: the fast reading would have
 *     no eighth notes, which drum and bass and hardcore always have;
 *   - swung sixteenths at the slow tempo (eighths at the fast one): hip-hop
 *     swings, drum and bass runs straight.
 */
function slowGroove(env: OnsetEnvelopes, slowPeriod: number): boolean {
  // The kick's own (loudness-weighted) envelope: a bass line's off-beat notes barely register in it.
  const onSlow = lagCorrelation(env.kick, slowPeriod)
  const onFast = lagCorrelation(env.kick, slowPeriod / 2)
  if (onSlow >= 0.4 && onFast <= 0.6 * onSlow) return true
  const hats = hatEnvelope(env)
  if (!hats) return false
  // The hats folded at the fast beat: the main peak, and the strongest in
  // the middle of the beat after it, both above the fold's floor.
  const h = fold(hats, slowPeriod / 2)
  const { index: beat, value: top } = peakOf(h)
  const floor = Math.min(...h)
  const at = (offset: number) => h[(beat + offset + FOLD_BINS) % FOLD_BINS]!
  let between = 0
  let where = 0
  for (let d = Math.round(0.3 * FOLD_BINS); d <= Math.round(0.7 * FOLD_BINS); d++) {
    if (at(d) > between) {
      between = at(d)
      where = d
    }
  }
  if (between - floor < SUBDIVIDED * (top - floor)) return true
  // Interpolated distance between the two, as a share of the fast beat; the
  // main peak may be the swung one, so a swing shows either side of 0.5.
  const a = at(where - 1)
  const c = at(where + 1)
  const denom = a - 2 * between + c
  const position = (where + (denom < 0 ? (0.5 * (a - c)) / denom : 0)) / FOLD_BINS
  return Math.abs(position - 0.5) >= SWING - 0.5
}

/** Off-beat hats this strong (over the floor, against the strongest) subdivide the fast beat. */
const SUBDIVIDED = 0.12

/** Normalised autocorrelation of `x` at a fractional lag (the best of the two nearest whole lags). */
function lagCorrelation(x: Float32Array, lag: number): number {
  const n = x.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += x[i]!
  mean /= n
  let energy = 0
  for (let i = 0; i < n; i++) energy += (x[i]! - mean) ** 2
  if (!(energy > 0)) return 0
  let best = -1
  for (const l of [Math.floor(lag), Math.ceil(lag)]) {
    if (l <= 0 || l >= n) continue
    let sum = 0
    for (let i = 0; i + l < n; i++) sum += (x[i]! - mean) * (x[i + l]! - mean)
    best = Math.max(best, ((sum / energy) * n) / (n - l))
  }
  return best
}

/** An off-beat this late (a share of the beat) is swung: MPC swing 54 % is light, 58-62 % typical of hip-hop. */
const SWING = 0.56

/** The hats: the air band (above 6 kHz) if measured, else the bands above 2 kHz; each normalised to unit mean; null if silent. */
function hatEnvelope(env: OnsetEnvelopes): Float64Array | null {
  const n = env.kick.length
  const out = new Float64Array(n)
  let any = false
  env.bands.forEach((band, b) => {
    if (env.air >= 0 ? b !== env.air : b < HIGH_BANDS) return
    let mean = 0
    for (let i = 0; i < n; i++) mean += band[i]!
    mean /= n
    if (!(mean > 0)) return
    any = true
    for (let i = 0; i < n; i++) out[i]! += band[i]! / mean
  })
  return any ? out : null
}

/** Bands from this index up are above 2 kHz. */
const HIGH_BANDS = 4

/**
 * The onset envelope the beat grid is fitted to: the bands, each normalised
 * to unit mean and weighted (GRID_BAND_WEIGHTS; the air band counts half),
 * plus the loudness-weighted kick envelope counted twice.
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
  const x = gridEnvelope(env)
  const { bpm, score, scores } = chooseTempo(p, range)
  const toPeriod = (tempo: number) => (60 * env.frameRate) / tempo
  let tempo = (60 * env.frameRate) / refinePeriod(x, toPeriod(bpm))
  // Octaves: the one in the range; where both fit (85-87.5 and 170-175 by
  // default) the family score cannot tell them apart, the same pulses count
  // for both, and the groove decides.
  const fits = (t: number) => t >= range.min / EDGE && t <= range.max * EDGE
  if (!fits(tempo) && fits(tempo * 2)) tempo *= 2
  else if (!fits(tempo) && fits(tempo / 2)) tempo /= 2
  const slow = fits(tempo) && fits(tempo * 2) ? tempo : fits(tempo) && fits(tempo / 2) ? tempo / 2 : 0
  if (slow > 0) tempo = slowGroove(env, toPeriod(slow)) ? slow : slow * 2
  // Confidence: how far the winning family stands above a typical tempo's
  // (scores are sums of three mean correlations; 1.2 maps clean dance
  // music near 1 and noise near 0).
  const sorted = [...scores].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  const confidence = Math.max(0, Math.min(1, (score - median) / 1.2))
  return { bpm: Math.round(tempo * 100) / 100, confidence, beatOffset: beatPhase(x, toPeriod(tempo), env) }
}
