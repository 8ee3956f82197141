// The page's player reads a Torrent through torrentTrack (src/browser/playback.ts):
// what it asks the holders for first, on a real Torrent fetching from a real
// seeder on 127.0.0.1 (the same Torrent the page runs).
import test from 'ava'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile, startLeecher, startSeeder } from '../helpers/swarm.ts'
import { torrentTrack } from '../../src/browser/playback.ts'
import { until } from '../helpers/until.ts'

const MB = 1024 * 1024

test('playing from the start asks for the start and the tail first, a seek its range at once, and then the rest comes', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const dir = await tempDir(t)
  const { bytes, path, meta } = await randomTrackFile(dir, 8 * MB, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const asked: Array<{ index: number; at: number }> = []
  seeder.torrent.on('peer', (s) => s.wire.on('request', (index: number) => asked.push({ index, at: performance.now() })))
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [seeder.port])
  const holdMs = 1_500
  const track = torrentTrack(leecher, 'audio/wav', { holdMs })
  const L = meta.pieceLength
  const pieces = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

  const started = performance.now()
  const first = await track.read(0, 4 * L)
  t.true(Buffer.from(first).equals(bytes.subarray(0, first.length)))
  const tail = pieces(Math.floor((meta.size - 64 * 1024) / L), meta.pieceCount - 1)
  // A seek: a new request far into the track, its pieces not here.
  const at = Math.floor(meta.pieceCount * 0.75) * L + 1000
  const sought = performance.now()
  const got = await track.read(at, at + 4 * L)
  t.true(Buffer.from(got).equals(bytes.subarray(at, at + got.length)))
  const before = (ms: number) => new Set(asked.filter((a) => a.at < ms).map((a) => a.index))
  const seekRange = pieces(Math.floor(at / L), Math.floor((at + 4 * L - 1) / L))
  // Until the seek's hold ends: the start, the tail, and the seek's range only (no background fetch).
  const wanted = new Set([...pieces(0, 3), ...tail, ...seekRange])
  const early = [...before(sought + holdMs - 200)]
  t.true(early.every((i) => wanted.has(i)), `asked during the holds: ${early.sort((a, b) => a - b).join(',')}`)
  t.true(tail.every((i) => early.includes(i)), 'the tail came with the start')
  t.true(seekRange.every((i) => early.includes(i)), 'the seek range came at once')
  t.true(sought - started < holdMs, 'the seek came within the first hold (else the test proves nothing)')
  // Then the rest of the track comes, whole.
  await until(async () => (leecher.have.full ? true : undefined), 30_000, 50)
  t.true(asked.some((a) => !wanted.has(a.index)), 'the background fetch ran after the holds')
})

test('a read that follows the last one (the element reading on) holds nothing back', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, join(dir, 'cache'), [seeder.port])
  const holds: number[] = []
  const hold = leecher.holdBackground.bind(leecher)
  leecher.holdBackground = (ms: number) => (holds.push(ms), hold(ms))
  const track = torrentTrack(leecher, 'audio/wav', { holdMs: 5 })
  const L = meta.pieceLength
  const a = await track.read(2 * L, 3 * L) // a jump: not from the start, not where a read ended
  t.deepEqual(holds, [5])
  await track.read(2 * L + a.length, 4 * L) // on from where that one ended
  t.deepEqual(holds, [5])
})
