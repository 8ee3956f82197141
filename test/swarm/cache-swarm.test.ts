// The cache budget with real swarms on 127.0.0.1: real fetches, real files.
import test, { type ExecutionContext } from 'ava'
import { access, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { SwarmError, encodeInfoDict, metaFromTrack, type TorrentMeta } from '../../src/swarm/index.ts'
import { makeCircle, type TestCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { until } from '../helpers/until.ts'

const MB = 1024 * 1024
const exists = (p: string) => access(p).then(() => true, () => false)

/** What a fetched track takes in the cache: the file and its .info. */
const footprint = (m: TorrentMeta, c: TestCircle) => m.size + encodeInfoDict(m, c.circleSecret).length

/** Bytes of the track files (and their sidecars) in a cache dir. */
async function trackBytes(dir: string): Promise<number> {
  let n = 0
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (/^[0-9a-f]{64}/.test(name)) n += await stat(join(dir, name)).then((s) => s.size, () => 0)
  }
  return n
}

// Samples the cache dir's track bytes in a tight loop on a thread of its own,
// so the swarm's event loop neither slows it down nor hides instants from it.
const SAMPLER = `
const { readdirSync, statSync } = require('node:fs')
const { join } = require('node:path')
const { workerData, parentPort } = require('node:worker_threads')
const stop = new Int32Array(workerData.stop)
let max = 0, samples = 0
while (Atomics.load(stop, 0) === 0) {
  let n = 0
  let names = []
  try { names = readdirSync(workerData.dir) } catch {}
  for (const name of names) {
    if (!/^[0-9a-f]{64}/.test(name)) continue
    try { n += statSync(join(workerData.dir, name)).size } catch {}
  }
  if (n > max) max = n
  samples++
}
parentPort.postMessage({ max, samples })
`

function sampleDisk(t: ExecutionContext, dir: string): { stop: () => Promise<{ max: number; samples: number }> } {
  const stop = new SharedArrayBuffer(4)
  const worker = new Worker(SAMPLER, { eval: true, workerData: { dir, stop } })
  t.teardown(async () => {
    Atomics.store(new Int32Array(stop), 0, 1) // a failed test does not leave it spinning
    await worker.terminate()
  })
  const result = once(worker, 'message') as Promise<[{ max: number; samples: number }]>
  return {
    stop: async () => {
      Atomics.store(new Int32Array(stop), 0, 1)
      const [r] = await result
      await worker.terminate()
      return r
    },
  }
}

test('concurrent downloads into a small budget evict the least recently used tracks, never exceed the budget on disk, and the evicted are no longer offered', async (t) => {
  const c = makeCircle(['home', 'laptop', 'phone'])
  const dir = await tempDir(t)
  const tracks = await Promise.all([0, 1, 2, 3, 4, 5].map(() => randomTrackFile(dir, 1 * MB + 12_345, c.circleSecret)))
  const fp = footprint(tracks[0]!.meta, c)
  const budget = Math.floor(3.5 * fp) // three tracks fit, not four
  const home = await startSwarm(t, c, 0, dir)
  for (const tr of tracks) home.offer(tr.meta, tr.path)
  const laptop = await startSwarm(t, c, 1, dir, { cacheBudget: budget })
  await laptop.connectDevice('127.0.0.1', home.port)
  const evicted: string[] = []
  laptop.on('evicted', (sha) => evicted.push(sha))
  const cacheDir = join(dir, 'cache-1')
  const sampler = sampleDisk(t, cacheDir)

  const sha = (i: number) => tracks[i]!.meta.sha256
  await Promise.all([0, 1, 2].map((i) => laptop.fetch(sha(i))))
  t.deepEqual(evicted, [])
  // Three more at once: each must evict one of the first three before its first byte.
  const got = await Promise.all([3, 4, 5].map((i) => laptop.fetch(sha(i))))
  const { max, samples } = await sampler.stop()
  t.log(`${samples} samples of the cache dir, at most ${max} of ${budget} bytes`)
  t.true(samples > 100)
  t.true(max <= budget, `${max} bytes on disk, budget ${budget}`)
  t.true(max > 2 * fp) // the sampler did see the cache full
  for (const [k, i] of [3, 4, 5].entries()) t.true((await readFile(got[k]!.path)).equals(tracks[i]!.bytes))
  t.deepEqual([...evicted].sort(), [sha(0), sha(1), sha(2)].sort())
  for (const i of [0, 1, 2]) {
    t.false(laptop.holds(sha(i)))
    t.is(await laptop.infoDictOf(sha(i)), null)
    t.false(await exists(join(cacheDir, sha(i))))
    t.false(await exists(join(cacheDir, `${sha(i)}.info`)))
  }
  t.like(laptop.cache.stats(), { used: 3 * fp, cached: 3 * fp, fetching: 0, tracks: 3, budget })
  t.is(await trackBytes(cacheDir), 3 * fp)

  // A device that reaches only the laptop finds what it still holds, and nothing it evicted.
  const phone = await startSwarm(t, c, 2, dir)
  await phone.connectDevice('127.0.0.1', laptop.port)
  await t.throwsAsync(phone.fetch(sha(0)), { message: /no online own device holds/ })
  const fromLaptop = await phone.fetch(sha(3))
  t.deepEqual(Object.keys(fromLaptop.sources), ['laptop'])

  // Pinned tracks are never evicted: with three pinned, a fourth cannot come in.
  for (const i of [3, 4, 5]) await laptop.cache.pin(sha(i))
  const err = await t.throwsAsync(laptop.fetch(sha(0)), { instanceOf: SwarmError })
  t.is(err?.code, 'ERR_CACHE_FULL')
  t.regex(err!.message, /^no room in the cache for [0-9a-f]{12} \(1\.0\d MB\): budget 3\.\d\d MB, pinned 3\.\d\d MB$/)
  t.is(await trackBytes(cacheDir), 3 * fp)
  // and the refusal is not remembered: once there is room, the same track comes in
  await laptop.cache.unpin(sha(3))
  await laptop.fetch(sha(0))
  t.true(laptop.holds(sha(0)))
  t.false(laptop.holds(sha(3)))
})

test('a track served to the player or to a peer is used recently: the least recently used one is evicted, and the order survives a restart', async (t) => {
  const c = makeCircle(['home', 'laptop', 'phone'])
  const dir = await tempDir(t)
  const tracks = await Promise.all([0, 1, 2, 3, 4].map(() => randomTrackFile(dir, 300_000, c.circleSecret)))
  const sha = (i: number) => tracks[i]!.meta.sha256
  const fp = footprint(tracks[0]!.meta, c)
  const home = await startSwarm(t, c, 0, dir)
  for (const tr of tracks) home.offer(tr.meta, tr.path)
  let laptop = await startSwarm(t, c, 1, dir)
  await laptop.cache.setBudget(3 * fp) // saved: it holds after the restart
  await laptop.connectDevice('127.0.0.1', home.port)
  for (const i of [0, 1, 2]) {
    await laptop.fetch(sha(i))
    await new Promise((r) => setTimeout(r, 5))
  }
  // 0 is served to a peer, then 1 to the player: 2 is now the least recently used.
  const phone = await startSwarm(t, c, 2, dir)
  await phone.connectDevice('127.0.0.1', laptop.port)
  await phone.fetch(sha(0))
  await new Promise((r) => setTimeout(r, 5))
  const played = await laptop.open(sha(1))
  t.true(played.complete)
  t.deepEqual(laptop.cache.list().map((e) => e.sha256), [sha(2), sha(0), sha(1)])

  // The order is saved: after a restart, a new track evicts 2, then 0.
  await laptop.close()
  laptop = await startSwarm(t, c, 1, dir)
  t.is(laptop.cache.budget, 3 * fp)
  t.deepEqual(laptop.cache.list().map((e) => e.sha256), [sha(2), sha(0), sha(1)])
  t.true(laptop.holds(sha(2)))
  await laptop.connectDevice('127.0.0.1', home.port)
  const evicted: string[] = []
  laptop.on('evicted', (s) => evicted.push(s))
  await laptop.fetch(sha(3))
  await laptop.fetch(sha(4))
  t.deepEqual(evicted, [sha(2), sha(0)])

  // Shrinking the budget evicts at once; below the pinned tracks it is refused.
  await laptop.cache.pin(sha(4))
  await laptop.cache.setBudget(2 * fp)
  t.deepEqual(evicted, [sha(2), sha(0), sha(1)])
  t.false(laptop.holds(sha(1)))
  await t.throwsAsync(laptop.cache.setBudget(fp - 1), { code: 'ERR_CACHE_BUDGET', message: /^cache budget \d+ bytes is smaller than the pinned tracks \(\d+ bytes\)/ } as never)
})

test('a download interrupted by a stop is accounted as a partial file at the next start and resumed', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const home = await startSwarm(t, c, 0, dir)
  home.offer(meta, path)
  let laptop = await startSwarm(t, c, 1, dir)
  await laptop.connectDevice('127.0.0.1', home.port)
  const torrent = await laptop.open(meta.sha256)
  torrent.holdBackground(10_000) // only what the "player" asks for
  await torrent.waitFor(0, 100_000)
  t.like(laptop.cache.stats(), { fetching: footprint(meta, c) })
  await laptop.close()
  const cacheDir = join(dir, 'cache-1')
  t.true(await exists(join(cacheDir, `${meta.sha256}.part`)))

  laptop = await startSwarm(t, c, 1, dir)
  const partial = laptop.cache.list()
  t.is(partial.length, 1)
  t.like(partial[0], { sha256: meta.sha256, state: 'partial', bytes: meta.size + Math.ceil(meta.pieceCount / 8) })
  t.false(laptop.holds(meta.sha256))
  await laptop.connectDevice('127.0.0.1', home.port)
  const got = await laptop.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
  t.true(got.sources.home! < meta.size) // resumed: the pieces fetched before the stop were not fetched again
  t.like(laptop.cache.stats(), { partial: 0, fetching: 0, cached: footprint(meta, c), tracks: 1 })
  t.is(await trackBytes(cacheDir), footprint(meta, c))
})

test('a download that fails its SHA-256 gives its reservation back and can be tried again', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, meta } = await randomTrackFile(dir, 500_000, c.circleSecret)
  // Every piece checks, the whole file does not: the torrent claims another SHA-256.
  const liar = metaFromTrack({ sha256: 'ab'.repeat(32), size: meta.size, pieceLength: meta.pieceLength, pieces: meta.pieces }, c.circleSecret)
  const home = await startSwarm(t, c, 0, dir)
  home.offer(liar, path)
  const laptop = await startSwarm(t, c, 1, dir, { cacheBudget: 600_000 })
  await laptop.connectDevice('127.0.0.1', home.port)
  await t.throwsAsync(laptop.fetch(liar.sha256), { code: 'ERR_VERIFY' } as never)
  const cacheDir = join(dir, 'cache-1')
  await until(async () => (laptop.cache.stats().used === 0 ? true : undefined), 5_000, 10) // released just after the failure is reported
  t.like(laptop.cache.stats(), { used: 0, fetching: 0 })
  t.is(await trackBytes(cacheDir), 0)
  t.false(laptop.holds(liar.sha256))
  // Not stuck on the failed torrent: a second try fetches (and fails) again, with a new reservation.
  await t.throwsAsync(laptop.fetch(liar.sha256), { code: 'ERR_VERIFY' } as never)
})

test('a download whose holders went away is stalled: after stalledAfter, a download that needs its room evicts it, and its fetch rejects', async (t) => {
  const c = makeCircle(['home', 'laptop', 'phone'])
  const dir = await tempDir(t)
  const a = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const [b, d] = await Promise.all([0, 1].map(() => randomTrackFile(dir, 1 * MB, c.circleSecret)))
  const home = await startSwarm(t, c, 0, dir)
  home.offer(a.meta, a.path)
  const phone = await startSwarm(t, c, 2, dir)
  phone.offer(b!.meta, b!.path)
  phone.offer(d!.meta, d!.path)
  const budget = footprint(a.meta, c) + footprint(b!.meta, c) + 100_000 // d fits only if a's reservation goes
  const laptop = await startSwarm(t, c, 1, dir, { cacheBudget: budget, stalledAfter: 3_000 })
  await laptop.connectDevice('127.0.0.1', home.port)
  await laptop.connectDevice('127.0.0.1', phone.port)
  const ta = await laptop.open(a.meta.sha256)
  ta.holdBackground(60_000) // only the start, as a player that stopped after a few seconds
  await ta.waitFor(0, 100_000)
  const pending = laptop.fetch(a.meta.sha256) // waits for the whole track
  pending.catch(() => {})
  await laptop.fetch(b!.meta.sha256)
  await laptop.cache.pin(b!.meta.sha256) // so only a's room can be had
  await home.close() // a's only holder goes away
  await until(async () => (ta.peerCount === 0 ? true : undefined), 5_000, 10)
  // Not stalled yet: still a download in flight, kept.
  await t.throwsAsync(laptop.fetch(d!.meta.sha256), { code: 'ERR_CACHE_FULL', message: /pinned 1\.05 MB, downloads in flight 4\.\d\d MB$/ } as never)
  // Once a's download has had no holder for stalledAfter, d's fetch takes its room.
  await until(async () => {
    try {
      await laptop.fetch(d!.meta.sha256)
      return true
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_CACHE_FULL') return undefined
      throw err
    }
  }, 15_000, 100)
  await t.throwsAsync(pending, { code: 'ERR_NO_HOLDER', message: /stopped: no holder fed it/ } as never)
  const cacheDir = join(dir, 'cache-1')
  t.false(await exists(join(cacheDir, `${a.meta.sha256}.part`)))
  t.false(await exists(join(cacheDir, `${a.meta.sha256}.have`)))
  t.true(laptop.holds(b!.meta.sha256))
  t.true(laptop.holds(d!.meta.sha256))
  t.like(laptop.cache.stats(), { fetching: 0, tracks: 2, used: footprint(b!.meta, c) + footprint(d!.meta, c) })
  t.true((await trackBytes(cacheDir)) <= budget)
})

test('a download no holder feeds for stalledAfter stops with its partial file kept (not "fetching" for ever); the next open resumes it', async (t) => {
  const c = makeCircle(['home', 'laptop', 'nas'])
  const dir = await tempDir(t)
  const a = await randomTrackFile(dir, 4 * MB, c.circleSecret)
  const home = await startSwarm(t, c, 0, dir)
  home.offer(a.meta, a.path)
  const laptop = await startSwarm(t, c, 1, dir, { stalledAfter: 500 })
  await laptop.connectDevice('127.0.0.1', home.port)
  const ta = await laptop.open(a.meta.sha256)
  ta.holdBackground(60_000) // a player that read the start and went away
  await ta.waitFor(0, 100_000)
  await home.close() // its only holder goes away
  await until(async () => (ta.peerCount === 0 ? true : undefined), 5_000, 10)
  const reading = ta.waitFor(3 * MB, 3 * MB + 1000) // a reader still waiting for bytes nobody can send
  reading.catch(() => {})
  const entry = () => laptop.cache.list().find((e) => e.sha256 === a.meta.sha256)
  await until(async () => (entry()?.state === 'partial' ? true : undefined), 10_000, 20)
  t.is(laptop.openTorrents, 0, 'its torrent is closed')
  t.is(laptop.cache.stats().fetching, 0)
  await t.throwsAsync(reading, { message: 'torrent closed' })
  const part = join(dir, 'cache-1', `${a.meta.sha256}.part`)
  t.true(await exists(part), 'the partial file is kept')

  // A holder comes back: the next fetch takes the partial over and fetches only what is missing.
  const nas = await startSwarm(t, c, 2, dir)
  nas.offer(a.meta, a.path)
  await laptop.connectDevice('127.0.0.1', nas.port)
  const r = await laptop.fetch(a.meta.sha256)
  t.true((await readFile(r.path)).equals(await readFile(a.path)))
  const fetched = Object.values(r.sources).reduce((x, y) => x + y, 0)
  t.true(fetched > 0 && fetched < a.meta.size, `resumed: ${fetched} of ${a.meta.size} bytes fetched again`)
  t.like(entry(), { state: 'cached' })
})
