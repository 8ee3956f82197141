// A whole-track fetch of a large file starts with its first ready holder: a
// holder still in its handshake (a lost packet at 100 ms RTT) joins when it
// is ready instead of idling the others for a second. (A small file still
// waits for every holder: test/swarm/swarm.test.ts.)
import test from 'ava'
import { makeCircle } from '../helpers/circle.ts'
import { slowHolder, startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

test('a fetch of a large file starts with its first ready holder, not a second later for a holder still in its handshake', async (t) => {
  const c = makeCircle(['home', 'studio', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 40_000_000, c.circleSecret)
  const laptop = await startSwarm(t, c, 2, dir)
  const home = await startSwarm(t, c, 0, dir)
  home.offer(meta, path)
  await home.connectDevice('127.0.0.1', laptop.port)
  // The studio holds the track too, but its wire becomes ready (bitfield, unchoke) only after 3 s.
  await slowHolder(t, c, 1, laptop, { meta, path }, { readyAfterMs: 3_000 })
  await until(async () => (laptop.devices.online().length === 2 ? true : undefined))

  const t0 = performance.now()
  const torrent = await laptop.open(meta.sha256, { allSources: true })
  const first = await new Promise<number>((resolve) => torrent.once('piece', () => resolve(performance.now() - t0)))
  t.true(first < 700, `the first piece came ${Math.round(first)} ms after the fetch was asked (the studio became ready at 3 s)`)
  t.true((torrent.sources().home ?? 0) > 0)
})
