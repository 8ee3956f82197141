// Integrated loudness (ITU-R BS.1770-4) and sample peak, against the
// standard's reference points, EBU Tech 3341's gating test and ffmpeg's
// ebur128 filter.
//
// The reference: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS (the
// -0.691 dB offset cancels the K-filter's gain at 997 Hz). So a -20 dBFS
// sine in one channel of a stereo file reads -23.0 LUFS, and in both
// channels -20.0 (the channels' powers add). A mono file counts as dual mono
// (src/analysis/loudness.ts says why): -20.0 as well.
import test from 'ava'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { analyzePcm, LUFS_FLOOR, PEAK_FLOOR_DB } from '../../src/analysis/index.ts'
import { encodeWav } from '../../src/demo/index.ts'
import { synthPattern } from '../helpers/analysis-fixtures.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeFile } from 'node:fs/promises'

const run = promisify(execFile)

function sine(dbfs: number, seconds: number, rate: number, hz = 997): Float32Array {
  const amplitude = 10 ** (dbfs / 20)
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate))
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

test('a -20 dBFS 997 Hz sine: -20.0 LUFS in both channels, -23.0 in one, -20.0 as mono; peak -20.0 dBFS', async (t) => {
  for (const rate of [44100, 48000, 96000]) {
    const tone = sine(-20, 6, rate)
    const both = await analyzePcm([tone, tone], rate)
    t.true(Math.abs(both.lufs - -20) < 0.05, `${rate} Hz stereo: ${both.lufs}`)
    t.true(Math.abs(both.peakDb - -20) < 0.01, `peak ${both.peakDb}`)
    const left = await analyzePcm([tone, new Float32Array(tone.length)], rate)
    t.true(Math.abs(left.lufs - -23.01) < 0.05, `${rate} Hz left only: ${left.lufs}`)
    const mono = await analyzePcm([tone], rate)
    t.true(Math.abs(mono.lufs - -20) < 0.05, `${rate} Hz mono: ${mono.lufs}`)
  }
})

test('the gates: EBU Tech 3341 case 4 (quiet passages left out) reads -23.0 LUFS', async (t) => {
  // -72, -36, -23, -36, -72 dBFS in both channels (shortened from 10/10/60/10/10 s):
  // -72 is under the absolute gate, -36 under the relative one.
  const rate = 48000
  const signal = concat(sine(-72, 5, rate, 1000), sine(-36, 5, rate, 1000), sine(-23, 20, rate, 1000), sine(-36, 5, rate, 1000), sine(-72, 5, rate, 1000))
  const a = await analyzePcm([signal, signal], rate)
  t.true(Math.abs(a.lufs - -23) <= 0.1, `${a.lufs}`)
  // Without gates it would read well below: the quiet half must not count.
  const quiet = await analyzePcm([sine(-36, 10, rate, 1000), sine(-36, 10, rate, 1000)], rate)
  t.true(Math.abs(quiet.lufs - -36) < 0.1)
})

test('music: the same integrated loudness as ffmpeg ebur128', async (t) => {
  const dir = await tempDir(t)
  const rate = 44100
  const left = synthPattern({ style: 'house', bpm: 124, key: 'A minor', seconds: 20, seed: 1, gain: 0.6 })
  const right = synthPattern({ style: 'house', bpm: 124, key: 'A minor', seconds: 20, seed: 2, gain: 0.6, arp: true })
  const pcm = new Int16Array(left.length * 2)
  for (let i = 0; i < left.length; i++) {
    pcm[2 * i] = Math.round(left[i]! * 32767)
    pcm[2 * i + 1] = Math.round(right[i]! * 32767)
  }
  const path = join(dir, 'music.wav')
  await writeFile(path, encodeWav(pcm, rate, 2))
  const { stderr } = await run('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-i', path, '-af', 'ebur128', '-f', 'null', '-'])
  const reported = [...stderr.matchAll(/I:\s+(-?\d+(?:\.\d+)?) LUFS/g)].pop()
  t.truthy(reported, stderr.slice(-500))
  const ffmpeg = Number(reported![1])
  // The 16-bit file holds the signal analysed here to within its rounding.
  const ours = await analyzePcm([Float32Array.from(pcm.filter((_, i) => i % 2 === 0), (v) => v / 32767), Float32Array.from(pcm.filter((_, i) => i % 2 === 1), (v) => v / 32767)], rate)
  t.true(Math.abs(ours.lufs - ffmpeg) <= 0.2, `ours ${ours.lufs} vs ffmpeg ${ffmpeg}`)
  t.true(ours.lufs > -30 && ours.lufs < -5)
  t.log(`ours ${ours.lufs.toFixed(2)} LUFS, ffmpeg ${ffmpeg}`)
})

test('sample peak; silence reads the floors rather than -Infinity', async (t) => {
  const rate = 44100
  const x = new Float32Array(rate * 4)
  x[rate] = -0.5
  const a = await analyzePcm([x, new Float32Array(rate * 4)], rate)
  t.true(Math.abs(a.peakDb - -6.02) < 0.01, `${a.peakDb}`)
  const silence = await analyzePcm([new Float32Array(rate * 4)], rate)
  t.is(silence.lufs, LUFS_FLOOR)
  t.is(silence.peakDb, PEAK_FLOOR_DB)
  t.true(Number.isFinite(JSON.parse(JSON.stringify(silence)).lufs))
})
