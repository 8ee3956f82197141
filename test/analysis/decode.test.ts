// Decoding every supported format (files made by ffmpeg from one
// synthesised track), and refusing damaged files with one-line reasons.
import test from 'ava'
import fc from 'fast-check'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AnalysisError, analyzeFile, decodeFile, MIN_SECONDS, type AnalysisErrorCode } from '../../src/analysis/index.ts'
import { decodeBytes } from '../../src/analysis/decode.ts'
import { encodeWav } from '../../src/demo/index.ts'
import { ffmpegConvert, synthPattern, toPcm16, writeWav } from '../helpers/analysis-fixtures.ts'
import { tempDir } from '../helpers/temp.ts'
import { byteMutations, mutateBytes } from '../helpers/byte-mutations.ts'

const RATE = 44100
const SECONDS = 10

/** A stereo 16-bit WAV of a house loop at 128 BPM in E minor. */
async function source(dir: string): Promise<string> {
  const left = synthPattern({ style: 'house', bpm: 128, key: 'E minor', seconds: SECONDS, seed: 1, gain: 0.7 })
  const right = synthPattern({ style: 'house', bpm: 128, key: 'E minor', seconds: SECONDS, seed: 2, gain: 0.7 })
  const l = toPcm16(left)
  const r = toPcm16(right)
  const pcm = new Int16Array(l.length * 2)
  for (let i = 0; i < l.length; i++) {
    pcm[2 * i] = l[i]!
    pcm[2 * i + 1] = r[i]!
  }
  const path = join(dir, 'source.wav')
  await writeFile(path, encodeWav(pcm, RATE, 2))
  return path
}

const FORMATS: Array<[string, string[], number]> = [
  ['mp3', ['-c:a', 'libmp3lame', '-b:a', '192k'], RATE],
  ['flac', [], RATE],
  ['m4a', ['-c:a', 'aac', '-b:a', '192k'], RATE],
  ['ogg', ['-c:a', 'libvorbis', '-q:a', '5'], RATE],
  ['opus', ['-c:a', 'libopus', '-b:a', '128k'], 48000],
  ['wav', ['-c:a', 'pcm_s24le'], RATE],
  ['aiff', [], RATE],
]

test('every format decodes to the same music, and analyses alike', async (t) => {
  const dir = await tempDir(t)
  const wav = await source(dir)
  const reference = await decodeFile(wav)
  const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length)
  for (const [ext, args, rate] of FORMATS) {
    const path = await ffmpegConvert(wav, join(dir, `track.${ext}`), args)
    const { channels, sampleRate } = await decodeFile(path)
    t.is(sampleRate, rate, ext)
    t.is(channels.length, 2, ext)
    const seconds = channels[0]!.length / sampleRate
    t.true(Math.abs(seconds - SECONDS) < 0.08, `${ext}: ${seconds} s`)
    const level = 20 * Math.log10(rms(channels[0]!) / rms(reference.channels[0]!))
    t.true(Math.abs(level) < 0.5, `${ext}: ${level.toFixed(2)} dB from the source`)
    const a = await analyzeFile(path)
    t.true(Math.abs(a.bpm - 128) < 0.5, `${ext}: ${a.bpm} BPM`)
    t.is(a.key, 'E minor', ext)
    t.true(Math.abs(a.duration - SECONDS) < 0.08)
  }
})

test('ALAC in MP4 and AIFF-C decode too', async (t) => {
  const dir = await tempDir(t)
  const wav = await source(dir)
  for (const [name, args] of [
    ['alac.m4a', ['-c:a', 'alac']],
    ['sowt.aifc', ['-c:a', 'pcm_s16le']],
  ] as const) {
    const { channels, sampleRate } = await decodeFile(await ffmpegConvert(wav, join(dir, name), [...args]))
    t.is(sampleRate, RATE, name)
    t.is(channels[0]!.length, RATE * SECONDS, name)
  }
})

/** Calls `fn`, expecting an AnalysisError with `code` and a one-line message matching `reason`. */
async function refused(t: import('ava').ExecutionContext, fn: () => Promise<unknown>, code: AnalysisErrorCode, reason: RegExp, what: string) {
  const err = await t.throwsAsync(fn, { instanceOf: AnalysisError }, what)
  if (!err) return
  t.is((err as AnalysisError).code, code, `${what}: ${err.message}`)
  t.regex(err.message, reason, what)
  t.false(err.message.includes('\n'), what)
  t.true(err.message.length > 5 && err.message.length <= 200, what)
}

test('corrupt, truncated, empty and missing files are refused with one-line reasons', async (t) => {
  const dir = await tempDir(t)
  const wav = await source(dir)
  const random = Buffer.alloc(200_000)
  for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + (i >> 3) * 31) & 255
  await writeFile(join(dir, 'noise.mp3'), random)
  await writeFile(join(dir, 'empty.flac'), Buffer.alloc(0))
  await writeFile(join(dir, 'notes.ogg'), 'not music at all\n'.repeat(100))
  await refused(t, () => decodeFile(join(dir, 'noise.mp3')), 'ERR_DECODE', /not a recognised audio format|no MPEG audio frames/, 'random bytes')
  await refused(t, () => decodeFile(join(dir, 'empty.flac')), 'ERR_DECODE', /empty/, 'empty file')
  await refused(t, () => decodeFile(join(dir, 'notes.ogg')), 'ERR_DECODE', /not a recognised audio format/, 'a text file')

  // Cut in half: every container notices (declared lengths, the last frame's CRC, Ogg's end of stream).
  for (const [ext, args] of [
    ['wav', []],
    ['aiff', []],
    ['flac', []],
    ['mp3', ['-b:a', '192k']],
    ['ogg', ['-c:a', 'libvorbis']],
    ['opus', ['-c:a', 'libopus']],
    ['m4a', ['-c:a', 'aac']],
  ] as const) {
    const whole = await readFile(await ffmpegConvert(wav, join(dir, `whole.${ext}`), [...args]))
    const cut = join(dir, `cut.${ext}`)
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)))
    await refused(t, () => decodeFile(cut), 'ERR_DECODE', /truncated|no "moov"|cut short|incomplete/i, `${ext} cut in half`)
    // Only the first few hundred bytes (headers and no audio).
    await writeFile(cut, whole.subarray(0, 300))
    await refused(t, () => analyzeFile(cut), 'ERR_DECODE', /./, `${ext} headers only`)
  }

  await refused(t, () => decodeFile(join(dir, 'missing.mp3')), 'ERR_READ', /ENOENT/, 'a missing file')
  await mkdir(join(dir, 'folder.mp3'))
  await refused(t, () => decodeFile(join(dir, 'folder.mp3')), 'ERR_READ', /EISDIR/, 'a directory')
})

test('a clip too short for a tempo is refused as such', async (t) => {
  const dir = await tempDir(t)
  const path = await writeWav(join(dir, 'short.wav'), synthPattern({ style: 'house', bpm: 124, key: 'A minor', seconds: MIN_SECONDS - 0.5 }), RATE)
  await refused(t, () => analyzeFile(path), 'ERR_TOO_SHORT', /too short/, 'a short clip')
})

test('cut and corrupted files of every format decode or are refused, never crash', async (t) => {
  const dir = await tempDir(t)
  const wav = await source(dir)
  const valid: Array<[string, Buffer]> = []
  for (const [ext, args] of FORMATS) valid.push([ext, await readFile(await ffmpegConvert(wav, join(dir, `short.${ext}`), ['-t', '1.5', ...args]))])
  /** Byte mutations (flip, set, cut) of a valid file. */
  const mutated = fc.tuple(fc.nat(valid.length - 1), byteMutations(6))
  await fc.assert(
    fc.asyncProperty(mutated, async ([which, ms]) => {
      const b = mutateBytes(valid[which]![1], ms)
      try {
        const { channels, sampleRate } = await decodeBytes(b)
        return channels.length > 0 && sampleRate > 0
      } catch (err) {
        // Anything but an AnalysisError (a TypeError, a RangeError) is a crash, not a refusal.
        if (!(err instanceof AnalysisError)) throw err
        return !err.message.includes('\n')
      }
    }),
    { seed: 5, numRuns: 300 },
  )
  t.is(valid.length, FORMATS.length)
})

test('a stereo mp3 that opens with half a minute of silence: decoded and measured like its WAV', async (t) => {
  // The mp3 decoder hands identical channels over as one until they first
  // differ, so the stream turns from mono to stereo after the silence.
  const dir = await tempDir(t)
  const left = synthPattern({ style: 'techno', bpm: 132, key: 'G minor', seconds: 12, seed: 1, gain: 0.7 })
  const right = synthPattern({ style: 'techno', bpm: 132, key: 'G minor', seconds: 12, seed: 2, gain: 0.7, arp: true })
  const silence = RATE * 30
  const pcm = new Int16Array((silence + left.length) * 2)
  for (let i = 0; i < left.length; i++) {
    pcm[2 * (silence + i)] = Math.round(left[i]! * 32767)
    pcm[2 * (silence + i) + 1] = Math.round(right[i]! * 32767)
  }
  const wav = join(dir, 'late.wav')
  await writeFile(wav, encodeWav(pcm, RATE, 2))
  const mp3 = await ffmpegConvert(wav, join(dir, 'late.mp3'), ['-b:a', '320k'])
  const decoded = await decodeFile(mp3)
  t.is(decoded.channels.length, 2)
  t.true(Math.abs(decoded.channels[0]!.length / RATE - 42) < 0.08)
  const [fromMp3, fromWav] = [await analyzeFile(mp3), await analyzeFile(wav)]
  t.true(Math.abs(fromMp3.lufs - fromWav.lufs) < 0.2, `mp3 ${fromMp3.lufs} vs wav ${fromWav.lufs}`)
  t.true(Math.abs(fromMp3.bpm - 132) < 0.5)
})
