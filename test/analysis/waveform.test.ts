// Waveform overviews: two zoom levels of 4 bytes a column (peak, low, mid,
// high), following the music's level and spectrum along the track.
import test from 'ava'
import { analyzePcm, type WaveformLevel } from '../../src/analysis/index.ts'
import { rng, synthPattern } from '../helpers/analysis-fixtures.ts'

const RATE = 44100

/** Mean of one of the four bytes over columns [from, to) (fractions of the track). */
function mean(level: WaveformLevel, byte: 0 | 1 | 2 | 3, from: number, to: number): number {
  let sum = 0
  let n = 0
  for (let c = Math.ceil(from * level.columns); c < Math.floor(to * level.columns); c++) {
    sum += level.data[c * 4 + byte]!
    n++
  }
  return sum / n
}

test('two levels, 128 and 1024 columns of 4 bytes over the whole track', async (t) => {
  const pcm = synthPattern({ style: 'house', bpm: 124, key: 'A minor', seconds: 12.5 })
  const a = await analyzePcm([pcm], RATE)
  t.deepEqual(
    a.waveform.map((l) => [l.columns, l.data.length]),
    [
      [128, 512],
      [1024, 4096],
    ],
  )
  for (const level of a.waveform) {
    t.true(Math.abs(level.secondsPerColumn * level.columns - 12.5) < 1e-9)
    t.true(level.data instanceof Uint8Array)
    // Music all the way: no empty column.
    for (let c = 0; c < level.columns; c++) t.true(level.data[c * 4]! > 0, `column ${c} of ${level.columns}`)
  }
})

test('a loud section shows higher peaks than a quiet one; a full-scale sine reads 255', async (t) => {
  const random = rng(3)
  const n = RATE * 8
  const x = Float32Array.from({ length: n }, (_, i) => (random() * 2 - 1) * (i < n / 2 ? 0.8 : 0.05))
  const a = await analyzePcm([x], RATE)
  for (const level of a.waveform) {
    const loud = mean(level, 0, 0.02, 0.48)
    const quiet = mean(level, 0, 0.52, 0.98)
    t.true(loud > 180 && quiet < 20, `loud ${loud}, quiet ${quiet}`)
  }
  const sine = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / RATE))
  const s = await analyzePcm([sine], RATE)
  const fine = s.waveform[1]!
  t.true(mean(fine, 0, 0.1, 0.9) >= 254)
  t.true(mean(fine, 2, 0.1, 0.9) > 230, `mid ${mean(fine, 2, 0.1, 0.9)}`)
})

test('bass, mids and hats light up their own bands', async (t) => {
  // Thirds of the track: a 60 Hz bass tone, a 1 kHz tone, then high-passed noise (hats).
  const random = rng(8)
  const n = RATE * 9
  const third = n / 3
  let previous = 0
  const x = Float32Array.from({ length: n }, (_, i) => {
    if (i < third) return 0.5 * Math.sin((2 * Math.PI * 60 * i) / RATE)
    if (i < 2 * third) return 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE)
    const white = random() * 2 - 1
    const hat = 0.5 * (white - previous) // first difference: mostly above 5 kHz
    previous = white
    return hat
  })
  const a = await analyzePcm([x], RATE)
  for (const level of a.waveform) {
    const part = (k: number) => [1, 2, 3].map((b) => mean(level, b as 1 | 2 | 3, k / 3 + 0.02, (k + 1) / 3 - 0.02))
    const [bassLow, bassMid, bassHigh] = part(0)
    const [toneLow, toneMid, toneHigh] = part(1)
    const [hatLow, hatMid, hatHigh] = part(2)
    t.true(bassLow! > 100 && bassLow! > 5 * Math.max(bassMid!, bassHigh!), `bass: ${part(0)}`)
    t.true(toneMid! > 100 && toneMid! > 5 * Math.max(toneLow!, toneHigh!), `tone: ${part(1)}`)
    t.true(hatHigh! > 100 && hatHigh! > 2 * Math.max(hatLow!, hatMid!), `hats: ${part(2)}`)
    // The bass section has more low-band energy than any other.
    t.true(bassLow! > 5 * Math.max(toneLow!, hatLow!))
  }
})
