// analyzeFile end to end on an encoded track: every field of the result.
import test from 'ava'
import { join } from 'node:path'
import { ANALYZER_VERSION, AnalysisError, analyzeFile, analyzePcm, camelotOf, openKeyOf } from '../../src/analysis/index.ts'
import { ffmpegConvert, synthPattern, writeWav } from '../helpers/analysis-fixtures.ts'
import { tempDir } from '../helpers/temp.ts'

const RATE = 44100

test('an mp3 of drum and bass in F# minor, every field', async (t) => {
  const dir = await tempDir(t)
  const offset = 0.25
  const wav = await writeWav(join(dir, 'dnb.wav'), synthPattern({ style: 'dnb', bpm: 174, key: 'F# minor', seconds: 24, offset, gain: 0.8 }), RATE)
  const mp3 = await ffmpegConvert(wav, join(dir, 'dnb.mp3'), ['-b:a', '256k'])
  const a = await analyzeFile(mp3)
  t.is(a.version, ANALYZER_VERSION)
  t.true(Math.abs(a.duration - 24) < 0.08, `${a.duration}`)
  t.true(Math.abs(a.bpm - 174) < 0.2, `${a.bpm}`)
  t.true(a.bpmConfidence > 0.5 && a.bpmConfidence <= 1)
  const beat = 60 / a.bpm
  t.true(a.beatOffset >= 0 && a.beatOffset < beat)
  // The mp3 encoder's delay is compensated by the decoder: the grid stays on the drums.
  t.true(Math.abs(a.beatOffset - offset) < 0.025, `beat offset ${a.beatOffset}`)
  t.is(a.key, 'F# minor')
  t.is(a.camelot, camelotOf('F# minor'))
  t.is(a.camelot, '11A')
  t.is(a.openKey, openKeyOf('F# minor'))
  t.is(a.openKey, '4m')
  t.true(a.keyStrength > 0.3 && a.keyStrength <= 1)
  t.true(a.lufs > -30 && a.lufs < -5, `${a.lufs}`)
  t.true(a.peakDb > -6 && a.peakDb <= 0.5, `${a.peakDb}`)
  t.deepEqual(
    a.waveform.map((l) => [l.columns, l.data.length]),
    [
      [128, 512],
      [1024, 4096],
    ],
  )
  // What a library store keeps of it survives JSON (no NaN or Infinity).
  const { waveform, ...summary } = a
  t.deepEqual(JSON.parse(JSON.stringify(summary)), summary)
  t.true(waveform.every((l) => l.secondsPerColumn > 0))
})

test('analyzePcm refuses what is not audio, and takes channels of unequal length', async (t) => {
  await t.throwsAsync(analyzePcm([], RATE), { instanceOf: AnalysisError })
  await t.throwsAsync(analyzePcm([new Float32Array(RATE * 5)], 0), { instanceOf: AnalysisError })
  const long = synthPattern({ style: 'house', bpm: 120, key: 'C major', seconds: 8 })
  const a = await analyzePcm([long, long.subarray(0, RATE * 6)], RATE)
  t.true(Math.abs(a.duration - 6) < 1e-9)
})

test.serial('the analyser leaves the process its own error handlers', async (t) => {
  // essentia's Emscripten glue installs process-wide handlers when it loads; they are taken out.
  const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')]
  await analyzePcm([synthPattern({ style: 'house', bpm: 120, key: 'C major', seconds: 4 })], RATE)
  t.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before)
})
