// Key names and the two DJ notations: Camelot (8A = A minor, 8B = C major)
// and Open Key (1m = A minor, 1d = C major). Both number the circle of
// fifths; Open Key starts at C major, Camelot seven steps later at B major.

/** Spelling per pitch class (C = 0), as on the Camelot wheel. */
const MAJOR_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B']
const MINOR_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B']

const LETTERS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 }

export type Mode = 'major' | 'minor'

/** Pitch class and mode of a key name such as "A minor", "F# major", "Gb maj", "Am", "c#m" or "E♭ minor"; null if it is none. */
export function parseKey(name: string): { pitchClass: number; mode: Mode } | null {
  const m = /^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(major|minor|maj|min|m|)\s*$/i.exec(name)
  if (!m) return null
  const [, letter = '', accidental = '', modeText = ''] = m
  // "m" alone is minor; case matters only there ("M" reads as major)
  const mode: Mode = /^min(or)?$/i.test(modeText) || modeText === 'm' ? 'minor' : 'major'
  const shift = accidental === '#' || accidental === '♯' ? 1 : accidental === 'b' || accidental === '♭' ? -1 : 0
  return { pitchClass: (LETTERS[letter.toUpperCase()]! + shift + 12) % 12, mode }
}

/** The canonical name of a pitch class and mode, e.g. (9, 'minor') -> "A minor". */
export function keyName(pitchClass: number, mode: Mode): string {
  const pc = ((pitchClass % 12) + 12) % 12
  return `${(mode === 'major' ? MAJOR_NAMES : MINOR_NAMES)[pc]} ${mode}`
}

function parseOrThrow(key: string) {
  const k = parseKey(key)
  if (!k) throw new RangeError(`unknown key "${key}"`)
  return k
}

/** Open Key number 1-12: C major and A minor are 1; each step is a fifth up. */
function openKeyNumber(pitchClass: number, mode: Mode): number {
  // The relative major shares the number: A minor sits with C major.
  const majorPc = mode === 'minor' ? (pitchClass + 3) % 12 : pitchClass
  // Steps of a fifth (7 semitones) from C: 7 is its own inverse mod 12.
  return ((majorPc * 7) % 12) + 1
}

/** "A minor" -> "8A", "C major" -> "8B"; throws RangeError for anything that is not one of the 24 keys. */
export function camelotOf(key: string): string {
  const { pitchClass, mode } = parseOrThrow(key)
  const n = ((openKeyNumber(pitchClass, mode) + 6) % 12) + 1
  return `${n}${mode === 'minor' ? 'A' : 'B'}`
}

/** "A minor" -> "1m", "C major" -> "1d"; throws RangeError for anything that is not one of the 24 keys. */
export function openKeyOf(key: string): string {
  const { pitchClass, mode } = parseOrThrow(key)
  return `${openKeyNumber(pitchClass, mode)}${mode === 'minor' ? 'm' : 'd'}`
}
