// Camelot wheel codes (1A-12A minor, 1B-12B major): parsing, key names to
// codes, and the neighbours a DJ can mix into (same code, the relative
// major/minor, and one step round the wheel).

export interface Camelot {
  /** 1-12 */
  n: number
  /** A: minor, B: major */
  l: 'A' | 'B'
}

const MAJOR = ['B', 'F#', 'C#', 'G#', 'D#', 'A#', 'F', 'C', 'G', 'D', 'A', 'E'] // 1B..12B
const MINOR = ['G#', 'D#', 'A#', 'F', 'C', 'G', 'D', 'A', 'E', 'B', 'F#', 'C#'] // 1A..12A
const FLATS: Record<string, string> = { Db: 'C#', Eb: 'D#', Gb: 'F#', Ab: 'G#', Bb: 'A#', Cb: 'B', Fb: 'E', 'E#': 'F', 'B#': 'C' }

export function parseCamelot(code: string | null | undefined): Camelot | undefined {
  const m = /^\s*(1[0-2]|0?[1-9])\s*([AaBb])\s*$/.exec(code ?? '')
  if (!m) return undefined
  return { n: Number(m[1]), l: m[2]!.toUpperCase() as 'A' | 'B' }
}

export const formatCamelot = (c: Camelot): string => `${c.n}${c.l}`

/** "A minor", "F# major", "Am", "Ebm", "8A" to a Camelot code, or undefined. */
export function toCamelot(key: string | null | undefined): string | undefined {
  if (!key) return undefined
  const c = parseCamelot(key)
  if (c) return formatCamelot(c)
  const m = /^\s*([A-Ga-g])\s*([#b♯♭]?)\s*(m|min|minor|maj|major)?\s*$/.exec(key)
  if (!m) return undefined
  let note = m[1]!.toUpperCase() + (m[2] === '♯' ? '#' : m[2] === '♭' ? 'b' : m[2]!)
  note = FLATS[note] ?? note
  const minor = m[3] !== undefined && m[3].startsWith('m') && !m[3].startsWith('maj')
  const i = (minor ? MINOR : MAJOR).indexOf(note)
  return i < 0 ? undefined : `${i + 1}${minor ? 'A' : 'B'}`
}

const wrap = (n: number) => ((n - 1 + 12) % 12) + 1

/** The codes that mix with `code`: itself, the other letter, and +-1 with the same letter. */
export function compatibleKeys(code: string | null | undefined): Set<string> {
  const c = parseCamelot(code)
  if (!c) return new Set()
  const other = c.l === 'A' ? 'B' : 'A'
  return new Set([`${c.n}${c.l}`, `${c.n}${other}`, `${wrap(c.n - 1)}${c.l}`, `${wrap(c.n + 1)}${c.l}`])
}

/** A sort rank round the wheel: 1A, 1B, 2A, ... 12B; NaN when not a code. */
export function camelotRank(code: string | null | undefined): number {
  const c = parseCamelot(code)
  return c ? c.n * 2 + (c.l === 'B' ? 1 : 0) : NaN
}
