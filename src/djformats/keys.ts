// Keys between djcloud's names ("A minor", "Db major": src/analysis) and the
// formats' notations: rekordbox Tonality is "Fm" or Camelot "4A" by the user's
// setting; Traktor MUSICAL_KEY VALUE 0-11 are C..B major and 12-23 C..B minor,
// and INFO KEY holds the displayed text (Open Key "1m" by default).
import { camelotOf, keyName, openKeyOf, parseKey } from '../analysis/index.ts'

const ALL: Array<{ pc: number; mode: 'major' | 'minor'; name: string }> = []
for (const mode of ['major', 'minor'] as const) for (let pc = 0; pc < 12; pc++) ALL.push({ pc, mode, name: keyName(pc, mode) })
const BY_CAMELOT = new Map(ALL.map((k) => [camelotOf(k.name), k.name]))
const BY_OPEN_KEY = new Map(ALL.map((k) => [openKeyOf(k.name), k.name]))

/** rekordbox's spelling per pitch class (its Tonality list: "Dbm", not "C#m"). */
const REKORDBOX_MAJOR = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B']
const REKORDBOX_MINOR = ['Cm', 'Dbm', 'Dm', 'Ebm', 'Em', 'Fm', 'F#m', 'Gm', 'Abm', 'Am', 'Bbm', 'Bm']

/** djcloud's key name for a key written in any DJ notation: "Fm", "F#m", "Db", "4A" (Camelot), "6m" (Open Key), "A minor"; null if none. */
export function keyFromText(text: string): string | null {
  const t = text.trim()
  const camelot = /^(1[0-2]|0?[1-9])([AB])$/i.exec(t)
  if (camelot) return BY_CAMELOT.get(`${Number(camelot[1])}${camelot[2]!.toUpperCase()}`) ?? null
  const open = /^(1[0-2]|0?[1-9])([md])$/i.exec(t)
  if (open) return BY_OPEN_KEY.get(`${Number(open[1])}${open[2]!.toLowerCase()}`) ?? null
  const k = parseKey(t)
  return k ? keyName(k.pitchClass, k.mode) : null
}

/** rekordbox's classic Tonality for a key name: "F minor" -> "Fm", "C# minor" -> "Dbm". */
export function rekordboxTonality(key: string): string {
  const k = parseKey(key)
  if (!k) throw new RangeError(`unknown key "${key}"`)
  return (k.mode === 'major' ? REKORDBOX_MAJOR : REKORDBOX_MINOR)[k.pitchClass]!
}

/** The key name of a Traktor MUSICAL_KEY VALUE (0-23); null outside that. */
export function keyFromTraktorValue(value: number): string | null {
  if (!Number.isInteger(value) || value < 0 || value > 23) return null
  return keyName(value % 12, value < 12 ? 'major' : 'minor')
}

/** Traktor's MUSICAL_KEY VALUE for a key name. */
export function traktorKeyValue(key: string): number {
  const k = parseKey(key)
  if (!k) throw new RangeError(`unknown key "${key}"`)
  return k.pitchClass + (k.mode === 'minor' ? 12 : 0)
}

/** Traktor's INFO KEY text (Open Key, its default display) for a key name. */
export const traktorKeyText = (key: string): string => openKeyOf(key)

/** True for a key name as djcloud writes it ("A minor"), the only form writers take. */
export const isKeyName = (key: string): boolean => {
  const k = parseKey(key)
  return !!k && keyName(k.pitchClass, k.mode) === key
}
