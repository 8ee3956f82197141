// Files that once fooled the format checks, kept as regressions.
import test from 'ava'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { hashFile } from '../../src/library/index.ts'
import { fixtureDir, makeAudio, oggPageOffsets, truncateAt } from '../helpers/audio-fixtures.ts'

const run = promisify(execFile)

test('a valid FLAC whose last frame holds bytes that look like a frame header is accepted', async (t) => {
  // With Debian's ffmpeg 5.1 this exact noise has a header-like pattern
  // (valid CRC-8) inside its last frame; the CRC-16 of the frame tells them apart.
  const dir = await fixtureDir(t)
  const path = join(dir, 'noise.flac')
  await run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'anoisesrc=d=240:c=white:r=44100:a=0.5:seed=10', '-ac', '2', '-af', 'atrim=end_sample=3732480', '-c:a', 'flac', path])
  await run('flac', ['-t', '--silent', path]) // the reference decoder says it is intact
  const h = await hashFile(path, 'flac')
  t.is(h.size, (await readFile(path)).length)
  // cut at the start of its last frame: whole frames only, yet short of the declared samples
  const bytes = await readFile(path)
  const cut = await truncateAt(path, bytes.length - 2000, join(dir, 'cut.flac'))
  await t.throwsAsync(hashFile(cut, 'flac'), { code: 'ERR_TRUNCATED' } as never)
})

for (const format of ['ogg', 'opus'] as const) {
  test(`${format} cut exactly on a page boundary is truncated, also right after its headers`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { seconds: 4 })
    const bytes = await readFile(path)
    const pages = oggPageOffsets(bytes)
    t.true(pages.length > 4)
    const headerPages = 2 // ffmpeg writes the id header on one page, comments (and Vorbis setup) on the next
    const mid = await truncateAt(path, pages[Math.floor(pages.length / 2)]!, join(dir, `mid.${format}`))
    const headersOnly = await truncateAt(path, pages[headerPages]!, join(dir, `headers.${format}`))
    for (const cut of [mid, headersOnly]) {
      const err = await t.throwsAsync(hashFile(cut, format))
      t.is((err as { code?: string }).code, 'ERR_TRUNCATED', err?.message)
    }
    t.truthy(await hashFile(path, format))
  })
}

test('a WAV written to a pipe (sizes never filled in) is indexed with its data running to the end', async (t) => {
  const dir = await fixtureDir(t)
  const { stdout } = await run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', '-f', 'wav', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })
  const path = join(dir, 'piped.wav')
  await writeFile(path, stdout)
  const dataAt = stdout.indexOf('data') + 8
  t.is(stdout.readUInt32LE(dataAt - 4), 0xffffffff)
  const h = await hashFile(path, 'wav')
  const fmtAt = stdout.indexOf('fmt ') + 8
  const expected = createHash('sha256').update(stdout.subarray(fmtAt, fmtAt + stdout.readUInt32LE(fmtAt - 4))).update(stdout.subarray(dataAt)).digest('hex')
  t.is(h.audioHash, expected)
})
