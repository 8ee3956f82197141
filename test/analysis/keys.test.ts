// Key names and the DJ notations: every one of the 24 keys against the
// Camelot and Open Key wheels as published (Mixed In Key, Traktor).
import test from 'ava'
import { camelotOf, openKeyOf, keyName, parseKey } from '../../src/analysis/index.ts'

// [key, Camelot, Open Key], going round the circle of fifths.
const WHEEL: Array<[string, string, string]> = [
  ['B major', '1B', '6d'],
  ['Ab minor', '1A', '6m'],
  ['F# major', '2B', '7d'],
  ['Eb minor', '2A', '7m'],
  ['Db major', '3B', '8d'],
  ['Bb minor', '3A', '8m'],
  ['Ab major', '4B', '9d'],
  ['F minor', '4A', '9m'],
  ['Eb major', '5B', '10d'],
  ['C minor', '5A', '10m'],
  ['Bb major', '6B', '11d'],
  ['G minor', '6A', '11m'],
  ['F major', '7B', '12d'],
  ['D minor', '7A', '12m'],
  ['C major', '8B', '1d'],
  ['A minor', '8A', '1m'],
  ['G major', '9B', '2d'],
  ['E minor', '9A', '2m'],
  ['D major', '10B', '3d'],
  ['B minor', '10A', '3m'],
  ['A major', '11B', '4d'],
  ['F# minor', '11A', '4m'],
  ['E major', '12B', '5d'],
  ['C# minor', '12A', '5m'],
]

test('Camelot and Open Key for all 24 keys', (t) => {
  t.is(new Set(WHEEL.map(([k]) => k)).size, 24)
  for (const [key, camelot, openKey] of WHEEL) {
    t.is(camelotOf(key), camelot, key)
    t.is(openKeyOf(key), openKey, key)
    // The canonical name of its pitch class and mode is the name itself.
    const parsed = parseKey(key)!
    t.is(keyName(parsed.pitchClass, parsed.mode), key)
  }
})

test('enharmonic and short spellings map to the same key', (t) => {
  const same: Array<[string, string]> = [
    ['G# minor', 'Ab minor'],
    ['D# minor', 'Eb minor'],
    ['A# minor', 'Bb minor'],
    ['Gb major', 'F# major'],
    ['C# major', 'Db major'],
    ['Am', 'A minor'],
    ['c#m', 'C# minor'],
    ['F#', 'F# major'],
    ['E♭ minor', 'Eb minor'],
    ['B♯ major', 'C major'],
    ['Cb major', 'B major'],
    ['bb min', 'Bb minor'],
    ['D maj', 'D major'],
  ]
  for (const [spelling, key] of same) {
    t.is(camelotOf(spelling), camelotOf(key), spelling)
    t.is(openKeyOf(spelling), openKeyOf(key), spelling)
  }
})

test('anything else is refused', (t) => {
  for (const bad of ['', 'H minor', 'A dorian', 'A minor minor', '8A', '1m', 'Ab#', 'C major 7']) {
    t.throws(() => camelotOf(bad), { instanceOf: RangeError }, bad)
    t.throws(() => openKeyOf(bad), { instanceOf: RangeError }, bad)
    t.is(parseKey(bad), null, bad)
  }
})
