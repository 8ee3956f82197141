// Scoring of tempo and key estimates against the corpus' truth.
//
// Tempo: "accuracy 1" is within 4% of the true tempo; "accuracy 2" (MIREX)
// also accepts 2x, 1/2x, 3x and 1/3x the true tempo, each within 4%.
// Key: the MIREX weighting: the same key 1, a fifth away in either direction
// in the same mode 0.5, the relative major/minor 0.3, the parallel
// major/minor 0.2, anything else 0.

export const TEMPO_TOLERANCE = 0.04
const OCTAVE_FACTORS = [1, 2, 1 / 2, 3, 1 / 3]

export const PITCH_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const
const PITCH: Record<string, number> = {
  C: 0, 'B#': 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, Fb: 4, 'E#': 5, F: 5, 'F#': 6, Gb: 6,
  G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11, Cb: 11,
}

export type Mode = 'major' | 'minor'
export interface Key {
  /** Pitch class of the tonic, 0 = C. */
  tonic: number
  mode: Mode
}

export const keyName = (k: Key): string => `${PITCH_NAMES[k.tonic]} ${k.mode}`

/** "A minor", "F# major", "Bb minor", "Am", "F#"; essentia's {key: 'Eb', scale: 'minor'} joined with a space. Null when not a key. */
export function parseKey(text: string): Key | null {
  const m = /^\s*([A-Ga-g])([#♯b♭]?)\s*(major|minor|maj|min|m)?\s*$/i.exec(text)
  if (!m) return null
  const accidental = m[2] === '♯' ? '#' : m[2] === '♭' ? 'b' : (m[2] ?? '')
  const tonic = PITCH[m[1]!.toUpperCase() + accidental]
  if (tonic === undefined) return null
  const q = (m[3] ?? '').toLowerCase()
  return { tonic, mode: q === 'minor' || q === 'min' || m[3] === 'm' ? 'minor' : 'major' }
}

export type KeyRelation = 'exact' | 'fifth' | 'relative' | 'parallel' | 'other'
export const KEY_WEIGHT: Record<KeyRelation, number> = { exact: 1, fifth: 0.5, relative: 0.3, parallel: 0.2, other: 0 }

export function keyRelation(estimate: Key, truth: Key): KeyRelation {
  const up = (estimate.tonic - truth.tonic + 12) % 12
  if (estimate.mode === truth.mode) {
    if (up === 0) return 'exact'
    if (up === 7 || up === 5) return 'fifth'
    return 'other'
  }
  if (up === 0) return 'parallel'
  // C major <-> A minor: the relative minor's tonic is 3 semitones below the major's.
  if (truth.mode === 'minor' && up === 3) return 'relative'
  if (truth.mode === 'major' && up === 9) return 'relative'
  return 'other'
}

export interface TempoScore {
  /** Within 4% of the true tempo. */
  acc1: boolean
  /** Within 4% of 1, 2, 1/2, 3 or 1/3 times the true tempo. */
  acc2: boolean
  /** Estimate over truth. */
  ratio: number
}

export function scoreTempo(estimate: number, truth: number): TempoScore {
  const ok = (f: number) => Number.isFinite(estimate) && Math.abs(estimate - f * truth) <= TEMPO_TOLERANCE * f * truth
  return { acc1: ok(1), acc2: OCTAVE_FACTORS.some(ok), ratio: estimate / truth }
}

export interface KeyScore {
  relation: KeyRelation
  score: number
}

export function scoreKey(estimate: string, truth: Key): KeyScore {
  const k = parseKey(estimate)
  const relation = k ? keyRelation(k, truth) : 'other'
  return { relation, score: KEY_WEIGHT[relation] }
}
