// Serato tags written into real MP3s (made by ffmpeg): read back by our
// reader through music-metadata, the file's other tags and audio kept byte
// for byte (same audio hash, new SHA-256), a second write replacing the
// first, and refusals that leave the file as it was.
import test from 'ava'
import { execFile } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseFile } from 'music-metadata'
import { id3v2Size, readMp3TimingInfo, timingOffsetMs, type DjCue } from '../../src/djformats/index.ts'
import { hashFile } from '../../src/library/index.ts'
import { buildMarkers2, parseMarkers2, readId3Frames, readSeratoFile, SeratoError, withGeobs, writeSeratoTags } from '../../src/serato/index.ts'
import { tempDir } from '../helpers/temp.ts'

const run = promisify(execFile)

async function mp3(dir: string, name = 'a.mp3', args: string[] = []): Promise<string> {
  const out = join(dir, name)
  await run('ffmpeg', [
    '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=3', '-ac', '2', '-ar', '44100',
    '-c:a', 'libmp3lame', '-metadata', 'title=Night Drive', '-metadata', 'artist=Someone', ...args, '-threads', '1', out,
  ])
  return out
}

const cues: DjCue[] = [
  { type: 'cue', slot: 0, positionMs: 500, color: '#cc0000', name: 'Intro' },
  { type: 'cue', slot: 3, positionMs: 1750, color: '#00cc00' },
  { type: 'loop', slot: null, positionMs: 1000, lengthMs: 1500, name: 'Build' },
  { type: 'cue', slot: null, positionMs: 2000 }, // a memory cue: Serato has none
]
const grid = [
  { positionMs: 120, bpm: 128, beatOfBar: 1 },
  { positionMs: 120 + (8 * 60000) / 128, bpm: 126, beatOfBar: 1 },
]

test('written into an MP3 and read back: cues, loops, grid and colour on djcloud\'s timeline; tags and audio kept', async (t) => {
  const dir = await tempDir(t)
  const file = await mp3(dir)
  const before = await hashFile(file, 'mp3')
  const r = await writeSeratoTags(file, { cues, grid, color: '#993399', bpmLock: true })
  t.like(r, { cues: 2, loops: 1, gridRows: 2 })
  t.deepEqual(r.leftOut, ['cue at 2.000 s: Serato has no memory cues'])
  const info = await readMp3TimingInfo(file)
  t.is(r.shiftMs, -timingOffsetMs('serato', info)) // positions moved onto Serato's timeline (one frame later)

  const after = await hashFile(file, 'mp3')
  t.not(after.sha256, before.sha256)
  t.is(after.audioHash, before.audioHash)

  const meta = await parseFile(file)
  t.is(meta.common.title, 'Night Drive')
  t.is(meta.common.artist, 'Someone')

  const read = (await readSeratoFile(file))!
  const shift = timingOffsetMs('serato', read.timing)
  const back = read.cues.map((c) => ({ ...c, positionMs: Math.round(c.positionMs + shift), ...(c.lengthMs !== undefined ? { lengthMs: Math.round(c.lengthMs) } : {}) }))
  t.deepEqual(back, [
    { type: 'cue', slot: 0, positionMs: 500, name: 'Intro' }, // #cc0000 is slot A's own colour: none
    { type: 'cue', slot: 3, positionMs: 1750, color: '#00cc00' },
    { type: 'loop', slot: null, positionMs: 1000, lengthMs: 1500, name: 'Build' },
  ])
  t.deepEqual(
    read.grid.map((g) => ({ ...g, positionMs: Math.round((g.positionMs + shift) * 100) / 100 })),
    grid.map((g) => ({ ...g, positionMs: Math.round(g.positionMs * 100) / 100 })),
  )
  t.is(read.color, '#993399')
  t.true(read.bpmLock)
  t.deepEqual(read.warnings, [])

  // A second write replaces the Serato frames, it does not add more (without a grid, the file's grid stays); the audio still untouched.
  await writeSeratoTags(file, { cues: cues.slice(0, 1), grid: [] })
  const frames = readId3Frames(await readFile(file), file).frames
  t.deepEqual(frames.filter((f) => f.id === 'GEOB').map((f) => f.description).sort(), ['Serato BeatGrid', 'Serato Markers2', 'Serato Markers_'])
  const again = (await readSeratoFile(file))!
  t.is(again.cues.length, 1)
  t.is(again.grid.length, 2)
  t.is((await hashFile(file, 'mp3')).audioHash, before.audioHash)
  t.deepEqual((await readdir(dir)).sort(), ['a.mp3']) // no temporary file left
})

test('an MP3 without any ID3 tag gets one; ID3v2.3 stays 2.3', async (t) => {
  const dir = await tempDir(t)
  const bare = await mp3(dir, 'bare.mp3', ['-id3v2_version', '0', '-map_metadata', '-1'])
  t.is(id3v2Size(await readFile(bare)), 0)
  await writeSeratoTags(bare, { cues: cues.slice(0, 1), grid: [] })
  t.is((await readSeratoFile(bare))!.cues[0]!.name, 'Intro')
  const v23 = await mp3(dir, 'v23.mp3', ['-id3v2_version', '3'])
  await writeSeratoTags(v23, { cues: cues.slice(0, 1), grid })
  t.is((await readFile(v23))[3], 3)
  t.is((await readSeratoFile(v23))!.grid.length, 2)
  t.is((await parseFile(v23)).common.title, 'Night Drive')
})

test('refused with a clear error and the file left as it was: FLAC, an unsynchronised tag, no MPEG frames', async (t) => {
  const dir = await tempDir(t)
  const flac = join(dir, 'a.flac')
  await writeFile(flac, 'fLaC')
  const e1 = await t.throwsAsync(writeSeratoTags(flac, { cues, grid: [] }), { instanceOf: SeratoError })
  t.is(e1!.code, 'ERR_CANNOT_WRITE')
  t.regex(e1!.message, /Vorbis comments is not built/)

  const file = await mp3(dir)
  const bytes = await readFile(file)
  bytes[5] = 0x80 // the unsynchronisation flag: rewriting would need to undo it
  await writeFile(file, bytes)
  const e2 = await t.throwsAsync(writeSeratoTags(file, { cues, grid: [] }), { instanceOf: SeratoError, message: /unsynchronised/ })
  t.is(e2!.code, 'ERR_CANNOT_WRITE')
  t.deepEqual(await readFile(file), bytes)

  const junk = join(dir, 'junk.mp3')
  await writeFile(junk, Buffer.alloc(4096, 7))
  await t.throwsAsync(writeSeratoTags(junk, { cues, grid: [] }), { instanceOf: SeratoError, message: /no MPEG audio frames/ })
  t.deepEqual((await readdir(dir)).sort(), ['a.flac', 'a.mp3', 'junk.mp3'])
})

test('a FLAC with Serato Vorbis comments (as Serato writes them) is read', async (t) => {
  const dir = await tempDir(t)
  const { buildMarkers2, buildBeatGrid, encodeSeratoBase64 } = await import('../../src/serato/index.ts')
  const envelope = (name: string, data: Uint8Array) => encodeSeratoBase64(Buffer.concat([Buffer.from(`application/octet-stream\0\0${name}\0`, 'latin1'), data]), true)
  const m2 = envelope('Serato Markers2', buildMarkers2({ cues: [{ index: 2, positionMs: 4321, color: '#88cc00', name: 'C' }], loops: [] }))
  const bg = envelope('Serato BeatGrid', buildBeatGrid([{ positionS: 0.25, bpm: 124 }]))
  const file = join(dir, 'a.flac')
  await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=1', '-metadata', `SERATO_MARKERS_V2=${m2}`, '-metadata', `SERATO_BEATGRID=${bg}`, '-threads', '1', file])
  const read = (await readSeratoFile(file))!
  t.deepEqual(read.cues, [{ type: 'cue', slot: 2, positionMs: 4321, color: '#88cc00', name: 'C' }])
  t.deepEqual(read.grid, [{ positionMs: 250, bpm: 124, beatOfBar: 1 }])
  t.is(read.timing, undefined) // not an MP3: no offset
})

test('a file whose Serato tag is damaged: a warning, the other tags still read, nothing thrown', async (t) => {
  const dir = await tempDir(t)
  const file = await mp3(dir)
  await writeSeratoTags(file, { cues: cues.slice(0, 2), grid })
  const bytes = await readFile(file)
  // Break Markers2's base64 in place (same length): a character outside the alphabet.
  const at = bytes.indexOf(Buffer.from('Serato Markers2\0', 'latin1')) + 'Serato Markers2\0'.length + 2
  bytes[at + 5] = 0x2a // '*'
  await writeFile(file, bytes)
  const read = (await readSeratoFile(file))!
  t.is(read.warnings.length, 1)
  t.regex(read.warnings[0]!, /^Serato Markers2: base64 text holds a character outside the alphabet$/)
  t.is(read.grid.length, 2) // the BeatGrid still reads
  t.deepEqual(read.cues.map((c) => c.slot), [0, 3]) // from Markers_, which Serato prefers anyway
})

test('what Serato keeps and djcloud does not carry survives a rewrite: flips, the BPM lock, a saved loop\'s lock', async (t) => {
  const dir = await tempDir(t)
  const file = await mp3(dir)
  const flip = { type: 'FLIP', body: Buffer.from([0, 0, 1, 2, 3, 0]) }
  // As Serato left it: the loop at 1.000-2.500 s on djcloud's timeline is 1026-2526 ms on Serato's (ffmpeg's MP3, case B), locked.
  const serato = buildMarkers2({ cues: [], loops: [{ index: 0, startMs: 1026, endMs: 2526, name: 'Build', locked: true, color: '#27aae1' }], others: [flip], bpmLock: true })
  await writeFile(file, withGeobs(await readFile(file), [{ description: 'Serato Markers2', data: serato }], [], file))
  await writeSeratoTags(file, { cues, grid: [] })
  const frame = readId3Frames(await readFile(file), file).frames.find((f) => f.description === 'Serato Markers2')!
  const body = frame.raw.subarray(10)
  const data = body.subarray(body.indexOf(0, body.indexOf(0, body.indexOf(0, 1) + 1) + 1) + 1)
  const m = parseMarkers2(data)
  t.deepEqual(m.others, [flip])
  t.true(m.bpmLock)
  t.deepEqual(m.loops.map((l) => [l.startMs, l.endMs, l.locked]), [[1026, 2526, true]])
  t.deepEqual(m.cues.map((c) => c.index), [0, 3])
})
