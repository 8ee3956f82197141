// Key detection on real recorded piano (the Salamander samples, repitched
// into chord progressions) and on synthesised tracks with drums.
import test from 'ava'
import { analyzePcm, camelotOf, keyName, openKeyOf, parseKey } from '../../src/analysis/index.ts'
import { pianoProgression, synthPattern } from '../helpers/analysis-fixtures.ts'

const RATE = 44100

/** I-IV-V-I (major) or i-iv-V-i (minor, the V with its leading tone), as MIDI notes with a bass note. */
function cadence(key: string): number[][] {
  const { pitchClass, mode } = parseKey(key)!
  const third = mode === 'major' ? 4 : 3
  const chord = (degree: number, t: number) => {
    const root = (pitchClass + degree) % 12
    return [36 + root, 48 + root, 60 + root, 60 + root + t, 60 + root + 7]
  }
  return [chord(0, third), chord(5, third), chord(7, 4), chord(0, third)]
}

const PIANO_KEYS = ['A minor', 'C major', 'F# major', 'Eb minor', 'G major', 'Bb minor', 'E major', 'C# minor']

for (const key of PIANO_KEYS) {
  test(`piano cadence in ${key}`, async (t) => {
    const pcm = await pianoProgression(cadence(key), 1.5, 12, RATE)
    const a = await analyzePcm([pcm], RATE)
    t.is(a.key, key)
    t.is(a.camelot, camelotOf(key))
    t.is(a.openKey, openKeyOf(key))
    t.true(a.keyStrength > 0.4 && a.keyStrength <= 1, `strength ${a.keyStrength}`)
  })
}

test('keys of synthesised tracks with drums and bass', async (t) => {
  const cases: Array<[Parameters<typeof synthPattern>[0]['style'], string]> = [
    ['house', 'D minor'],
    ['techno', 'Ab major'],
    ['dnb', 'B minor'],
    ['hiphop', 'F major'],
  ]
  for (const [style, key] of cases) {
    const a = await analyzePcm([synthPattern({ style, bpm: style === 'dnb' ? 174 : style === 'hiphop' ? 92 : 126, key, seconds: 20, seed: 11 })], RATE)
    t.is(a.key, key, style)
  }
})

test('every key comes out spelled as on the Camelot wheel', async (t) => {
  // The names analysis reports are the canonical ones keyName gives.
  const pcm = await pianoProgression(cadence('G# minor'), 1.5, 12, RATE)
  const a = await analyzePcm([pcm], RATE)
  t.is(a.key, keyName(8, 'minor'))
  t.is(a.key, 'Ab minor')
  t.is(a.camelot, '1A')
})
