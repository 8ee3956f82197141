// The DJ tempo range: the tempos a track may be reported at. A track's
// tempo is folded by octaves into it, so it decides whether drum and bass
// reads 174 or 87; it is a setting of the device, and a result made for
// another range is stale.
import { DEFAULT_TEMPO_RANGE, type TempoRange } from './types.ts'

/** The widest a user may set it; beyond, onset envelopes say nothing useful. */
const LOWEST = 30
const HIGHEST = 300

/** Any range the estimator can work with (library use and tests may fold narrowly). */
export function checkRange(range: TempoRange): TempoRange {
  if (!(range.min > 0 && range.max >= range.min && Number.isFinite(range.max))) {
    throw new RangeError(`invalid tempo range ${range.min}-${range.max}`)
  }
  return range
}

/**
 * A range a user sets: within 30-300 BPM and at least an octave wide, so
 * every tempo has an octave that fits (85-175 suits club music; 70-140 a
 * hip-hop and downtempo set).
 */
export function checkUserRange(range: { min: unknown; max: unknown }): TempoRange {
  const { min, max } = range
  if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new RangeError('a tempo range is two numbers of BPM, e.g. 85-175')
  }
  if (min < LOWEST || max > HIGHEST) throw new RangeError(`a tempo range lies within ${LOWEST}-${HIGHEST} BPM`)
  if (max < 2 * min) throw new RangeError(`a tempo range spans at least an octave (max at least twice min): ${min}-${max} does not`)
  return { min, max }
}

/** "85-175" (or "default") as typed on the command line. */
export function parseTempoRange(text: string): TempoRange {
  if (text.trim() === 'default') return { ...DEFAULT_TEMPO_RANGE }
  const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  if (!m) throw new RangeError(`"${text}" is not a tempo range: give MIN-MAX in BPM, e.g. 85-175, or "default"`)
  return checkUserRange({ min: Number(m[1]), max: Number(m[2]) })
}

export function sameTempoRange(a: TempoRange, b: TempoRange): boolean {
  return a.min === b.min && a.max === b.max
}
