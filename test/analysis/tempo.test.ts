// Tempo and beat grid on synthesised drum patterns in the styles a DJ plays:
// within 4 % of the true tempo with no octave allowance (and in practice
// within a fraction of a BPM), the grid on the beat.
import test from 'ava'
import { analyzePcm } from '../../src/analysis/index.ts'
import { synthLoop } from '../../src/demo/index.ts'
import { rng, synthPattern, type Style } from '../helpers/analysis-fixtures.ts'

const RATE = 44100

/** The grid's error in seconds, modulo the beat: 0 when the first beat is where the drums put it. */
function gridError(beatOffset: number, firstBeat: number, bpm: number): number {
  const beat = 60 / bpm
  let d = (((beatOffset - firstBeat) % beat) + beat) % beat
  if (d > beat / 2) d -= beat
  return Math.abs(d)
}

const CASES: Array<[Style, number, string]> = [
  ['hiphop', 90, 'boom bap, swung'],
  ['house', 124, 'four to the floor, off-beat bass'],
  ['house', 128, 'four to the floor'],
  ['techno', 140, 'four to the floor, 16th hats, rolling bass'],
  ['dubstep', 140, 'half-time: kick on 1, snare on 3'],
  ['trap', 150, 'syncopated kicks, snare on 3'],
  ['breakbeat', 131, 'syncopated break'],
  ['dnb', 172, 'two-step'],
  ['dnb-halftime', 172, 'half-time snare on 3'],
  ['dnb', 174, 'two-step'],
  ['dnb-halftime', 174, 'half-time snare on 3'],
  ['dnb-halftime', 175, 'half-time snare on 3, at the range top'],
]

for (const [style, bpm, what] of CASES) {
  test(`${style} at ${bpm} (${what}): tempo and grid`, async (t) => {
    const offset = 0.37
    const pcm = synthPattern({ style, bpm, key: 'A minor', seconds: 20, seed: bpm, offset })
    const a = await analyzePcm([pcm], RATE)
    t.true(Math.abs(a.bpm - bpm) <= 0.04 * bpm, `${a.bpm}`)
    t.true(Math.abs(a.bpm - bpm) <= 0.15, `precise: ${a.bpm}`)
    t.true(a.bpmConfidence >= 0.3 && a.bpmConfidence <= 1, `confidence ${a.bpmConfidence}`)
    t.true(a.beatOffset >= 0 && a.beatOffset < 60 / a.bpm)
    t.true(gridError(a.beatOffset, offset, bpm) < 0.025, `grid off by ${gridError(a.beatOffset, offset, bpm)} s`)
  })
}

test('drum and bass at 170-175 is never halved, with or without extras', async (t) => {
  for (const style of ['dnb', 'dnb-halftime'] as const) {
    for (const bpm of [170, 171.5, 173, 175]) {
      const pcm = synthPattern({ style, bpm, key: 'F minor', seconds: 20, seed: 7, arp: bpm > 172, sidechain: bpm < 172, breakdown: true })
      const a = await analyzePcm([pcm], RATE)
      t.true(Math.abs(a.bpm - bpm) <= 0.04 * bpm, `${style} ${bpm} -> ${a.bpm}`)
    }
  }
})

test('where both octaves fit the range (85-87.5 / 170-175), the groove decides', async (t) => {
  // Swung hip-hop and a four-to-the-floor kick are slow; straight drum and bass and 4/4 hardcore fast.
  const slow = await analyzePcm([synthPattern({ style: 'hiphop', bpm: 86, key: 'D minor', seconds: 20, seed: 3 })], RATE)
  t.true(Math.abs(slow.bpm - 86) < 0.5, `hip-hop 86 -> ${slow.bpm}`)
  const demo = synthLoop({ bpm: 86, key: 'C major', seconds: 20, sampleRate: 22050, seed: 1 })
  const house = await analyzePcm([Float32Array.from(demo, (v) => v / 32768)], 22050)
  t.true(Math.abs(house.bpm - 86) < 0.5, `four to the floor 86 -> ${house.bpm}`)
  const hardcore = await analyzePcm([synthPattern({ style: 'techno', bpm: 172, key: 'D minor', seconds: 20, seed: 3 })], RATE)
  t.true(Math.abs(hardcore.bpm - 172) < 0.5, `4/4 at 172 -> ${hardcore.bpm}`)
})

test('other sample rates and stereo give the same tempo', async (t) => {
  for (const rate of [22050, 48000, 96000]) {
    const left = synthPattern({ style: 'house', bpm: 126, key: 'G minor', seconds: 15, sampleRate: rate, seed: 2 })
    const right = synthPattern({ style: 'house', bpm: 126, key: 'G minor', seconds: 15, sampleRate: rate, seed: 5 })
    const a = await analyzePcm([left, right], rate)
    t.true(Math.abs(a.bpm - 126) <= 0.2, `${rate} Hz: ${a.bpm}`)
  }
})

test('a tempo range of its own folds octaves into it', async (t) => {
  const dnb = synthPattern({ style: 'dnb', bpm: 174, key: 'A minor', seconds: 20, seed: 4 })
  t.true(Math.abs((await analyzePcm([dnb], RATE, { tempoRange: { min: 60, max: 120 } })).bpm - 87) < 0.5)
  const house = synthPattern({ style: 'house', bpm: 128, key: 'A minor', seconds: 20, seed: 4 })
  t.true(Math.abs((await analyzePcm([house], RATE, { tempoRange: { min: 140, max: 280 } })).bpm - 256) < 1)
  t.true(Math.abs((await analyzePcm([house], RATE, { tempoRange: { min: 60, max: 125 } })).bpm - 64) < 0.5)
  await t.throwsAsync(analyzePcm([house], RATE, { tempoRange: { min: 100, max: 50 } }), { instanceOf: RangeError })
})

test('noise and sustained chords have no confident tempo', async (t) => {
  const random = rng(9)
  const noise = Float32Array.from({ length: RATE * 15 }, () => (random() * 2 - 1) * 0.3)
  const a = await analyzePcm([noise], RATE)
  t.true(a.bpmConfidence < 0.25, `noise confidence ${a.bpmConfidence}`)
  const silence = await analyzePcm([new Float32Array(RATE * 10)], RATE)
  t.is(silence.bpm, 0)
  t.is(silence.bpmConfidence, 0)
  const drums = await analyzePcm([synthPattern({ style: 'house', bpm: 124, key: 'A minor', seconds: 15 })], RATE)
  t.true(drums.bpmConfidence > a.bpmConfidence + 0.5, `drums ${drums.bpmConfidence} vs noise ${a.bpmConfidence}`)
})
