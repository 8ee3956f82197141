// Files a music folder really holds: empty, mislabelled, cut short by a
// failed copy or download, damaged. Each is refused with the right code and
// a one-line reason (the scan skips it and goes on); a huge tag is not bad
// input and is indexed quickly.
import test, { type ExecutionContext } from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile, formatOfPath, ScanError, type ScanErrorCode } from '../../src/library/index.ts'
import { readTags } from '../../src/library/tags.ts'
import {
  FIXTURE_EXTENSIONS,
  fixtureDir,
  flipBytes,
  leadingId3Length,
  makeAudio,
  makeEmptyFile,
  makeMp3WithHugeFrame,
  makeTextFile,
  oggPageOffsets,
  truncateAt,
  truncateFile,
  type FixtureFormat,
} from '../helpers/audio-fixtures.ts'

const EXTENSIONS = ['.mp3', '.flac', '.wav', '.aiff', '.m4a', '.ogg', '.opus']

/** hashFile must reject with a ScanError of `code` and a one-line message; returns the message. */
async function refused(t: ExecutionContext, path: string, code: ScanErrorCode): Promise<string> {
  const format = formatOfPath(path)
  if (!format) throw new Error(`no format for ${path}`)
  const err = await t.throwsAsync(hashFile(path, format), { instanceOf: ScanError }, path)
  t.is(err?.code, code, `${path}: ${err?.message}`)
  assertOneLine(t, err?.message)
  return err?.message ?? ''
}

function assertOneLine(t: ExecutionContext, message: string | undefined) {
  t.truthy(message)
  t.notRegex(message ?? '', /[\r\n]/, 'one line')
  t.true((message ?? '').length < 300, 'short')
}

/** readTags on bad input: it may resolve, but if it fails it is a ScanError with a one-line reason. */
async function tagsDoNotThrowOddly(t: ExecutionContext, path: string) {
  try {
    await readTags(path)
  } catch (err) {
    t.true(err instanceof ScanError, `${path}: ${(err as Error).message}`)
    assertOneLine(t, (err as Error).message)
  }
}

for (const ext of EXTENSIONS) {
  test(`zero-byte ${ext} is ERR_EMPTY`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeEmptyFile(dir, `empty${ext}`)
    await refused(t, path, 'ERR_EMPTY')
    await tagsDoNotThrowOddly(t, path)
  })

  test(`a text file named ${ext} is ERR_NOT_AUDIO`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeTextFile(dir, `notes${ext}`)
    await refused(t, path, 'ERR_NOT_AUDIO')
    await tagsDoNotThrowOddly(t, path)
  })
}

test('a 3-byte text file with any audio extension is ERR_NOT_AUDIO or ERR_TRUNCATED, never a crash', async (t) => {
  const dir = await fixtureDir(t)
  for (const ext of EXTENSIONS) {
    const path = join(dir, `tiny${ext}`)
    await writeFile(path, 'hi\n')
    const err = await t.throwsAsync(hashFile(path, formatOfPath(path)!), { instanceOf: ScanError })
    t.true(['ERR_NOT_AUDIO', 'ERR_TRUNCATED'].includes(err?.code ?? ''), `${ext}: ${err?.code}`)
    assertOneLine(t, err?.message)
  }
})

test('a FLAC file renamed to .mp3 (and an MP3 renamed to .flac) is ERR_NOT_AUDIO', async (t) => {
  const dir = await fixtureDir(t)
  // ffmpeg picks the muxer from the extension, so write the real container, then rename a copy.
  const flac = join(dir, 'really-flac.mp3')
  const mp3 = join(dir, 'really-mp3.flac')
  await writeFile(flac, await readFile(await makeAudio(dir, 'flac')))
  await writeFile(mp3, await readFile(await makeAudio(dir, 'mp3')))
  await refused(t, flac, 'ERR_NOT_AUDIO')
  await refused(t, mp3, 'ERR_NOT_AUDIO')
})

// ---------------------------------------------------------------------------
// Cut short.

const TRUNCATABLE: FixtureFormat[] = ['mp3', 'flac', 'wav', 'aiff', 'm4a', 'alac']

for (const format of TRUNCATABLE) {
  test(`${format} cut to half, or to 90%, is ERR_TRUNCATED`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: { title: 'Cut Me', artist: 'Someone' }, seconds: 3 })
    await hashFile(path, formatOfPath(path)!) // the whole file is fine
    for (const fraction of [0.5, 0.9]) {
      const cut = await truncateFile(path, fraction, join(dir, `cut${Math.round(fraction * 100)}${FIXTURE_EXTENSIONS[format]}`))
      const message = await refused(t, cut, 'ERR_TRUNCATED')
      t.regex(message, /^truncated/)
      await tagsDoNotThrowOddly(t, cut)
    }
  })
}

for (const format of ['ogg', 'opus'] as const) {
  test(`${format} cut in the middle of a page is ERR_TRUNCATED`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: { title: 'Cut Me' }, seconds: 4, noiseSeed: 1 })
    const bytes = await readFile(path)
    const pages = oggPageOffsets(bytes)
    t.true(pages.length >= 5)
    const mid = pages[Math.floor(pages.length / 2)]!
    // Inside the header (27 bytes + lacing) and well inside the body.
    for (const cutAt of [mid + 10, mid + 200, Math.floor(bytes.length / 2)]) {
      t.false(pages.includes(cutAt), 'not on a page boundary')
      const cut = await truncateAt(path, cutAt, join(dir, `cut${cutAt}${FIXTURE_EXTENSIONS[format]}`))
      await refused(t, cut, 'ERR_TRUNCATED')
      await tagsDoNotThrowOddly(t, cut)
    }
    // Cut inside the header packets: also truncated.
    const early = await truncateAt(path, pages[1]!, join(dir, `early${FIXTURE_EXTENSIONS[format]}`))
    await refused(t, early, 'ERR_TRUNCATED')
  })

  test(`${format} with bytes flipped in the middle is ERR_CORRUPT`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { seconds: 3, noiseSeed: 2 })
    const flipped = await flipBytes(path, { fraction: 0.5, count: 8 })
    const message = await refused(t, flipped, 'ERR_CORRUPT')
    t.regex(message, /checksum|page marker/)
    // A single flipped bit is caught as well (the page CRC covers every byte).
    const oneBit = await readFile(path)
    const at = Math.floor(oneBit.length * 0.7)
    oneBit[at] = oneBit[at]! ^ 0x01
    const bitPath = join(dir, `bit${FIXTURE_EXTENSIONS[format]}`)
    await writeFile(bitPath, oneBit)
    await refused(t, bitPath, 'ERR_CORRUPT')
    await tagsDoNotThrowOddly(t, flipped)
  })
}

test('ogg with junk between pages is ERR_CORRUPT', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'ogg', { seconds: 3, noiseSeed: 4 })
  const bytes = await readFile(path)
  const pages = oggPageOffsets(bytes)
  const at = pages[pages.length - 2]!
  const junk = join(dir, 'junk.ogg')
  await writeFile(junk, Buffer.concat([bytes.subarray(0, at), Buffer.from('garbage!'), bytes.subarray(at)]))
  await refused(t, junk, 'ERR_CORRUPT')
})

test('an MP3 cut inside its ID3v2 tag is ERR_TRUNCATED', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'mp3', { cover: true, tags: { title: 'x' } })
  const bytes = await readFile(path)
  const cut = await truncateAt(path, Math.floor(leadingId3Length(bytes) / 2))
  await refused(t, cut, 'ERR_TRUNCATED')
})

test('an ID3v2 header with a non-syncsafe size is ERR_CORRUPT', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'mp3', { tags: { title: 'x' } })
  const bytes = await readFile(path)
  bytes[8] = 0x80 // size bytes must have the top bit clear
  const bad = join(dir, 'bad-id3.mp3')
  await writeFile(bad, bytes)
  await refused(t, bad, 'ERR_CORRUPT')
})

test('a FLAC file cut inside its metadata is ERR_TRUNCATED', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'flac', { cover: true, tags: { title: 'x' } })
  await refused(t, await truncateAt(path, 200), 'ERR_TRUNCATED')
})

test('an M4A file that was never finished (no moov atom) is ERR_CORRUPT', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'm4a', { tags: { title: 'x' } })
  const bytes = await readFile(path)
  const moov = bytes.indexOf('moov') - 4
  let mdatEnd = 0
  for (let at = 0; at < moov; ) {
    const size = bytes.readUInt32BE(at)
    at += size
    mdatEnd = at
  }
  t.is(mdatEnd, moov, 'ffmpeg wrote moov after the other atoms')
  const message = await refused(t, await truncateAt(path, moov), 'ERR_CORRUPT')
  t.regex(message, /moov/)
})

test('a WAV file without a "data" chunk is ERR_CORRUPT', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'wav')
  const bytes = await readFile(path)
  const data = bytes.indexOf('data')
  const headerOnly = Buffer.from(bytes.subarray(0, data))
  headerOnly.writeUInt32LE(headerOnly.length - 8, 4)
  const bad = join(dir, 'nodata.wav')
  await writeFile(bad, headerOnly)
  await refused(t, bad, 'ERR_CORRUPT')
})

// ---------------------------------------------------------------------------
// Huge tags are not bad input.

for (const kind of ['APIC', 'TXXX'] as const) {
  test(`an MP3 with a 20 MB ${kind} frame is indexed fine and quickly`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeMp3WithHugeFrame(dir, { kind, bytes: 20 * 1024 * 1024, tags: { title: 'Huge Tag', artist: 'Tagger' } })
    const bytes = await readFile(path)
    t.true(bytes.length > 20 * 1024 * 1024)
    t.true(leadingId3Length(bytes) >= 16 * 1024 * 1024)
    const plain = await makeAudio(dir, 'mp3', { name: 'same-audio.mp3' })

    const started = performance.now()
    const h = await hashFile(path, 'mp3')
    const tags = await readTags(path)
    const elapsed = performance.now() - started
    t.true(elapsed < 10_000, `took ${Math.round(elapsed)} ms`)

    t.is(h.size, bytes.length)
    t.is(h.audioHash, (await hashFile(plain, 'mp3')).audioHash, 'the audio after the huge tag is found')
    t.is(tags.title, 'Huge Tag')
    t.is(tags.artist, 'Tagger')
    t.is(tags.hasCover, kind === 'APIC')
    t.is(tags.sampleRate, 44100)
    t.true(Math.abs(tags.duration! - 2) < 0.1)
  })
}
