import test from 'ava'
import { readFile } from 'node:fs/promises'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { until } from '../helpers/until.ts'

const MB = 1024 * 1024

test('a device that knows only a SHA-256 finds the holders over the device channel and fetches from both', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 6 * MB, c.circleSecret)
  const [home, phone, laptop] = await Promise.all([0, 1, 2].map((i) => startSwarm(t, c, i, dir)))
  home!.offer(meta, path)
  phone!.offer(meta, path)
  await laptop!.connectDevice('127.0.0.1', home!.port)
  await laptop!.connectDevice('127.0.0.1', phone!.port)
  t.deepEqual(laptop!.devices.online().map((l) => l.name).sort(), ['home', 'phone'])
  const got = await laptop!.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources).sort(), ['home', 'phone'])
  t.true(laptop!.holds(meta.sha256))
  // once cached, the laptop serves it too, after a restart as well
  await laptop!.close()
  const again = await startSwarm(t, c, 2, dir)
  t.true(again.holds(meta.sha256))
})

test('a track nobody online holds fails with a clear error', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const [home, laptop] = await Promise.all([0, 1].map((i) => startSwarm(t, c, i, dir)))
  await laptop!.connectDevice('127.0.0.1', home!.port)
  await t.throwsAsync(laptop!.fetch('ab'.repeat(32)), { message: /no online own device holds abababababab/ })
})

test('a device of another circle cannot join the device channel', async (t) => {
  const c = makeCircle(['home'])
  const other = makeCircle(['stranger'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir)
  const stranger = await startSwarm(t, other, 0, dir)
  const refused = new Promise<string>((resolve) => home.on('refused', (_h, reason) => resolve(reason)))
  // the stranger knows the address but not the channel: it can only guess an infohash
  await t.throwsAsync(stranger.connectDevice('127.0.0.1', home.port))
  t.is(await refused, 'asked for an infohash not served here')
  t.deepEqual(home.devices.online(), [])
})

test('a second open of a track being fetched takes the same torrent and its wires: no new lookup, no new dials', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 8 * MB, c.circleSecret)
  const [home, phone, laptop] = await Promise.all([0, 1, 2].map((i) => startSwarm(t, c, i, dir)))
  home!.offer(meta, path)
  phone!.offer(meta, path)
  await laptop!.connectDevice('127.0.0.1', home!.port)
  await laptop!.connectDevice('127.0.0.1', phone!.port)
  const first = await laptop!.open(meta.sha256)
  first.holdBackground(5_000) // nothing asked for: the download stays where it is while we look
  await until(async () => (first.peerCount === 2 ? true : undefined), 5_000, 20)
  const again = await Promise.all([laptop!.open(meta.sha256), laptop!.open(meta.sha256)])
  t.is(again[0], first)
  t.is(again[1], first)
  await new Promise((r) => setTimeout(r, 300)) // new dials, had there been any, would have connected by now
  t.is(first.peerCount, 2)
  t.false(first.complete)
})

test('a whole fetch waits for a holder that is slow to open the track, so a small file still comes from both', async (t) => {
  const c = makeCircle(['home', 'phone', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 1 * MB, c.circleSecret)
  const [home, phone, laptop] = await Promise.all([0, 1, 2].map((i) => startSwarm(t, c, i, dir)))
  // home has to read the track's details first (a library track is opened on first ask): 300 ms
  home!.offerLazy(meta.infoHash.toString('hex'), meta.sha256, async () => {
    await new Promise((r) => setTimeout(r, 300))
    return { meta, path }
  })
  phone!.offer(meta, path)
  await laptop!.connectDevice('127.0.0.1', home!.port)
  await laptop!.connectDevice('127.0.0.1', phone!.port)
  const got = await laptop!.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources).sort(), ['home', 'phone'])
  t.true(Object.values(got.sources).every((b) => b > 0), JSON.stringify(got.sources))
})

test('a fetch stops waiting when its signal aborts mid-transfer; the track stays fetchable', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 24 * MB, c.circleSecret)
  const [home, laptop] = await Promise.all([0, 1].map((i) => startSwarm(t, c, i, dir)))
  home!.offer(meta, path)
  await laptop!.connectDevice('127.0.0.1', home!.port)
  const stop = new AbortController()
  const fetching = laptop!.fetch(meta.sha256, { signal: stop.signal })
  stop.abort(new Error('the pull was stopped'))
  await t.throwsAsync(fetching, { message: 'the pull was stopped' })
  await t.throwsAsync(laptop!.fetch(meta.sha256, { signal: stop.signal }), { message: 'the pull was stopped' })
  const got = await laptop!.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
})
