// StreamMonitor over a real LocalFileTrackSource: bytes, the 2 s rate window
// and the 10 s a finished stream stays listed, on a clock the test moves.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { openLibrary } from '../../src/library/index.ts'
import { LocalFileTrackSource } from '../../src/player/index.ts'
import { LINGER, RATE_WINDOW, StreamMonitor } from '../../src/node/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

test('local reads: bytes, rate over the last 2 s, listed for 10 s after the last response, continued by the next range', async (t) => {
  const root = await tempDir(t)
  await mkdir(join(root, 'music'))
  await writeTrack(join(root, 'music', 'a.wav'), { title: 'A' }, 1, 4)
  const library = await openLibrary(join(root, 'home'))
  t.teardown(() => library.close())
  await library.scan([join(root, 'music')])
  const [track] = await library.list()
  let now = 1_000_000
  const monitor = new StreamMonitor(() => 'laptop', () => now)
  t.teardown(() => monitor.close())
  const source = monitor.local(new LocalFileTrackSource(library))
  t.is(await source.resolve('0'.repeat(64)), null)
  t.deepEqual(monitor.list(), [])

  const read = async (start: number, end: number) => {
    const handle = (await source.resolve(track!.sha256))!
    t.is(handle.size, track!.size)
    let n = 0
    for await (const chunk of handle.read(start, end, new AbortController().signal) as AsyncIterable<Uint8Array>) n += chunk.length
    await handle.close?.()
    return n
  }
  t.is(await read(0, 9_999), 10_000)
  now += 500
  let [s] = monitor.list()
  t.like(s, { sha256: track!.sha256, startedAt: 1_000_000, bytes: 10_000, sources: [{ device: 'local', name: 'laptop', bytes: 10_000 }] })
  t.is(s!.sources[0]!.rate, 20_000, '10,000 bytes in the 0.5 s since the start')

  now += RATE_WINDOW + 1
  t.is(monitor.list()[0]!.sources[0]!.rate, 0, 'nothing in the last 2 s')
  t.is(await read(10_000, 13_999), 4_000)
  const ended = now
  now += 1_000
  ;[s] = monitor.list()
  t.is(s!.bytes, 14_000)
  t.is(s!.startedAt, 1_000_000, 'the next range continues the entry')
  t.true(s!.sources[0]!.rate > 0 && s!.sources[0]!.rate <= 4_000, `rate ${s!.sources[0]!.rate}`)

  now = ended + LINGER
  t.is(monitor.list().length, 1)
  now += 1
  t.deepEqual(monitor.list(), [])
})
