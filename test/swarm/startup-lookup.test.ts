// A track asked for right after a device starts, while its own devices are
// still being linked, waits for them (within the start-up window) instead
// of failing "no holder": the fault soak's 404 after a restart, and bench/wan's
// cold first byte, both met it.
import test, { type ExecutionContext } from 'ava'
import { readFile } from 'node:fs/promises'
import { makeCircle, type TestCircle } from '../helpers/circle.ts'
import { handLinkedDevice, startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { LOOKUP_EXTENSION, type Swarm, type TorrentMeta } from '../../src/swarm/index.ts'
import { asDict, decode } from '../../src/codec/index.ts'

/** Device 0 ("home") starts holding the track and dials `laptop`, as discovery would. */
async function holderLinks(t: ExecutionContext, c: TestCircle, dir: string, track: { path: string; meta: TorrentMeta }, laptop: Swarm): Promise<void> {
  const home = await startSwarm(t, c, 0, dir)
  home.offer(track.meta, track.path)
  await home.connectDevice('127.0.0.1', laptop.port)
}

test('an open just after start waits for an own device linked within the start-up window, and fetches from it', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 300_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 1, dir, { startupLinkWaitMs: 20_000 })
  const opening = laptop.fetch(meta.sha256)
  // The holder comes up and links only now (it dials the laptop, as discovery would).
  await holderLinks(t, c, dir, { path, meta }, laptop)
  const got = await opening
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources), ['home'])
})

test('past the start-up window, a track no linked device holds fails at once', async (t) => {
  const c = makeCircle(['laptop'])
  const dir = await tempDir(t)
  const { meta } = await randomTrackFile(dir, 100_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 0, dir, { startupLinkWaitMs: 0 })
  const t0 = Date.now()
  await t.throwsAsync(laptop.fetch(meta.sha256), { message: /no online own device holds/ })
  t.true(Date.now() - t0 < 5_000)
})

test('a holder that links while the lookup waits on a slower device is asked too, not missed', async (t) => {
  const c = makeCircle(['home', 'laptop', 'hub'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 300_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 1, dir, { startupLinkWaitMs: 30_000 })
  // The hub links first and never answers lookups: the laptop's lookup waits on it (LOOKUP_TIMEOUT).
  const hub = await handLinkedDevice(t, c, 2, laptop, 1)
  const asked = new Promise<void>((resolve) => hub.wire.on('extended', (name, payload) => name === LOOKUP_EXTENSION && asDict(decode(payload), 'q').t !== undefined && resolve()))
  hub.wire.resume()
  const t0 = Date.now()
  const opening = laptop.fetch(meta.sha256)
  await asked
  // The holder links while the hub's answer is awaited.
  await holderLinks(t, c, dir, { path, meta }, laptop)
  const got = await opening
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources), ['home'])
  // Asked once the hub's lookup timed out, not at the end of the start-up window.
  t.true(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`)
})
