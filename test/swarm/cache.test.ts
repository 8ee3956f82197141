import test, { type ExecutionContext } from 'ava'
import { access, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { CACHE_STATE_FILE, DEFAULT_CACHE_BUDGET_MAX, SwarmError, TrackCache, defaultCacheBudget, formatBytes, type TrackCacheOptions } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'

const KB = 1000
const sha = (n: number) => createHash('sha256').update(`track ${n}`).digest('hex')
const exists = (p: string) => access(p).then(() => true, () => false)
const tick = () => new Promise((r) => setTimeout(r, 5)) // distinct last-use times

/** A cached track as the swarm leaves it: the file and its .info. */
async function cachedFile(dir: string, n: number, bytes: number, info = 100): Promise<string> {
  await writeFile(join(dir, sha(n)), Buffer.alloc(bytes - info))
  await writeFile(join(dir, `${sha(n)}.info`), Buffer.alloc(info))
  return sha(n)
}

async function openCache(t: ExecutionContext, opts: TrackCacheOptions): Promise<TrackCache> {
  const c = new TrackCache({ saveDelay: 10, ...opts })
  c.on('warning', (err) => t.fail(err.message))
  t.teardown(() => c.close())
  await c.open()
  return c
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0
  for (const name of await readdir(dir)) if (/^[0-9a-f]{64}/.test(name)) n += (await stat(join(dir, name))).size
  return n
}

test('the default budget is 20 GB, or half the free space when that is less', (t) => {
  t.is(defaultCacheBudget(1e12), DEFAULT_CACHE_BUDGET_MAX)
  t.is(defaultCacheBudget(8e9), 4e9)
  t.is(defaultCacheBudget(0), 0)
})

test('sizes in messages read as people read them', (t) => {
  t.deepEqual([512, 999, 1000, 10_500_000, 999_950, 999_499, 20e9, 3e15].map(formatBytes), ['512 B', '999 B', '1.00 kB', '10.5 MB', '1.00 MB', '999 kB', '20.0 GB', '3000 TB'])
})

test('open() accounts cached files with their .info and leftover partials with their .have, and drops orphan sidecars and cut-short sidecar saves', async (t) => {
  const dir = await tempDir(t)
  await cachedFile(dir, 1, 30 * KB)
  await writeFile(join(dir, `${sha(2)}.part`), Buffer.alloc(20 * KB))
  await writeFile(join(dir, `${sha(2)}.have`), Buffer.alloc(2))
  await writeFile(join(dir, `${sha(3)}.info`), Buffer.alloc(50)) // its file is gone
  await writeFile(join(dir, `${sha(4)}.have`), Buffer.alloc(2)) // its .part is gone
  await writeFile(join(dir, `${sha(2)}.have.tmp`), Buffer.alloc(2)) // a sidecar save cut short
  await writeFile(join(dir, 'notes.txt'), 'not ours: left alone, not accounted')
  const c = await openCache(t, { dir })
  t.deepEqual(
    c.list().map((e) => [e.sha256, e.state, e.bytes]).sort(),
    [[sha(1), 'cached', 30 * KB], [sha(2), 'partial', 20 * KB + 2]].sort(),
  )
  t.like(c.stats(), { used: 50 * KB + 2, cached: 30 * KB, partial: 20 * KB + 2, fetching: 0, tracks: 1 })
  t.false(await exists(join(dir, `${sha(3)}.info`)))
  t.false(await exists(join(dir, `${sha(4)}.have`)))
  t.false(await exists(join(dir, `${sha(2)}.have.tmp`)))
  t.true(await exists(join(dir, 'notes.txt')))
  t.true(c.has(sha(1)))
  t.false(c.has(sha(2)))
  // No budget configured: the default is computed at the first start and saved.
  const saved = JSON.parse(await readFile(join(dir, CACHE_STATE_FILE), 'utf8'))
  t.is(saved.budget, c.budget)
  t.true(c.budget > 0 && c.budget <= DEFAULT_CACHE_BUDGET_MAX)
})

test('a reservation evicts the least recently used unpinned tracks, deleting their files before it is granted', async (t) => {
  const dir = await tempDir(t)
  for (const n of [1, 2, 3, 4]) {
    await cachedFile(dir, n, 25 * KB)
    await tick()
  }
  const hooked: Array<[string, boolean]> = []
  const c = await openCache(t, { dir, budget: 100 * KB, beforeEvict: async (s) => void hooked.push([s, await exists(join(dir, s))]) })
  const evicted: string[] = []
  c.on('evicted', (s, bytes) => {
    t.is(bytes, 25 * KB)
    evicted.push(s)
  })
  await c.pin(sha(1)) // oldest, but pinned
  c.touch(sha(2)) // now the most recent
  await c.reserve(sha(9), 40 * KB)
  // 3 and 4 were least recently used among the unpinned: both had to go for 40 kB
  t.deepEqual(evicted, [sha(3), sha(4)])
  t.deepEqual(hooked, [[sha(3), true], [sha(4), true]]) // asked to stop serving while the file was still there
  for (const n of [3, 4]) {
    t.false(await exists(join(dir, sha(n))))
    t.false(await exists(join(dir, `${sha(n)}.info`)))
  }
  t.like(c.stats(), { used: 90 * KB, fetching: 40 * KB, cached: 50 * KB, pinned: 25 * KB })
  t.true((await dirBytes(dir)) <= c.budget)
})

test('a download that cannot fit even after evicting every unpinned track is refused, and nothing is evicted', async (t) => {
  const dir = await tempDir(t)
  await cachedFile(dir, 1, 60 * KB)
  await cachedFile(dir, 2, 30 * KB)
  const c = await openCache(t, { dir, budget: 100 * KB })
  await c.pin(sha(1))
  await c.reserve(sha(8), 5 * KB) // in flight: cannot be evicted either
  const err = await t.throwsAsync(c.reserve(sha(9), 40 * KB), { instanceOf: SwarmError })
  t.is(err?.code, 'ERR_CACHE_FULL')
  t.is(err?.message, `no room in the cache for ${sha(9).slice(0, 12)} (40.0 kB): budget 100 kB, pinned 60.0 kB, downloads in flight 5.00 kB`)
  t.true(c.has(sha(2)))
  t.true(await exists(join(dir, sha(2))))
  // a track larger than the whole budget
  await t.throwsAsync(c.reserve(sha(10), 200 * KB), { code: 'ERR_CACHE_FULL' } as never)
})

test('a reservation becomes the cached track when done, or is freed with its partial files when abandoned', async (t) => {
  const dir = await tempDir(t)
  const c = await openCache(t, { dir, budget: 100 * KB })
  await c.reserve(sha(1), 50 * KB)
  await c.reserve(sha(1), 50 * KB) // the same download asked again: counted once
  t.like(c.stats(), { used: 50 * KB, fetching: 50 * KB })
  c.complete(sha(1), 48 * KB)
  t.like(c.stats(), { used: 48 * KB, fetching: 0, cached: 48 * KB, tracks: 1 })
  await c.reserve(sha(2), 30 * KB)
  await writeFile(join(dir, `${sha(2)}.part`), Buffer.alloc(29 * KB))
  await writeFile(join(dir, `${sha(2)}.have`), Buffer.alloc(1))
  await c.release(sha(2))
  t.false(await exists(join(dir, `${sha(2)}.part`)))
  t.false(await exists(join(dir, `${sha(2)}.have`)))
  t.like(c.stats(), { used: 48 * KB, fetching: 0 })
})

test('partial files of an earlier run are evicted before any cached track unless pinned, and a fetch of the same track takes its partial over', async (t) => {
  const dir = await tempDir(t)
  await cachedFile(dir, 1, 40 * KB)
  await tick()
  await writeFile(join(dir, `${sha(5)}.part`), Buffer.alloc(10 * KB)) // pinned: kept
  await tick()
  await writeFile(join(dir, `${sha(2)}.part`), Buffer.alloc(30 * KB)) // newer than track 1, still goes first
  await writeFile(join(dir, `${sha(3)}.part`), Buffer.alloc(20 * KB))
  const c = await openCache(t, { dir, budget: 110 * KB })
  await c.pin(sha(5))
  t.is(c.stats().pinned, 10 * KB)
  await c.reserve(sha(3), 20 * KB) // resumed: no new bytes
  t.like(c.stats(), { used: 100 * KB, fetching: 20 * KB, partial: 40 * KB })
  await c.reserve(sha(4), 30 * KB)
  t.false(await exists(join(dir, `${sha(2)}.part`)))
  t.true(await exists(join(dir, `${sha(5)}.part`)))
  t.true(c.has(sha(1)))
  t.like(c.stats(), { used: 100 * KB, partial: 10 * KB })
  await c.reserve(sha(6), 20 * KB) // the pinned partial stays: track 1 goes
  t.false(c.has(sha(1)))
  t.true(await exists(join(dir, `${sha(5)}.part`)))
})

test('setBudget: a smaller budget evicts at once; one below the pinned tracks is refused with both figures', async (t) => {
  const dir = await tempDir(t)
  for (const n of [1, 2, 3]) {
    await cachedFile(dir, n, 30 * KB)
    await tick()
  }
  const c = await openCache(t, { dir })
  await c.pin(sha(3))
  const evicted: string[] = []
  c.on('evicted', (s) => evicted.push(s))
  await c.setBudget(60 * KB)
  t.deepEqual(evicted, [sha(1)])
  t.is(c.budget, 60 * KB)
  const err = await t.throwsAsync(c.setBudget(20 * KB), { instanceOf: SwarmError })
  t.is(err?.code, 'ERR_CACHE_BUDGET')
  t.is(err?.message, 'cache budget 20.0 kB is smaller than the pinned tracks (30.0 kB): unpin tracks or choose a larger budget')
  t.false(err!.message.includes('\n'))
  t.is(c.budget, 60 * KB) // unchanged, nothing evicted
  t.deepEqual(evicted, [sha(1)])
  // figures that would read the same are given in bytes
  await t.throwsAsync(c.setBudget(30 * KB - 1), { message: /^cache budget 29999 bytes is smaller than the pinned tracks \(30000 bytes\)/ })
  // downloads in flight cannot be evicted either
  await c.reserve(sha(7), 25 * KB) // evicts track 2 to fit in 60 kB
  t.deepEqual(evicted, [sha(1), sha(2)])
  await t.throwsAsync(c.setBudget(50 * KB), { message: 'cache budget 50.0 kB is smaller than the pinned tracks (30.0 kB) plus 25.0 kB of downloads in flight: unpin tracks or choose a larger budget' })
  await c.setBudget(55 * KB) // exactly what must stay
  t.is(c.stats().used, 55 * KB)
  await t.throwsAsync(c.setBudget(-1), { instanceOf: RangeError })
})

test('a configured budget below the pinned tracks present refuses to open', async (t) => {
  const dir = await tempDir(t)
  await cachedFile(dir, 1, 30 * KB)
  const c = await openCache(t, { dir })
  await c.pin(sha(1))
  await c.close()
  const small = new TrackCache({ dir, budget: 10 * KB })
  await t.throwsAsync(small.open(), { code: 'ERR_CACHE_BUDGET', message: /cache budget 10.0 kB is smaller than the pinned tracks \(30.0 kB\)/ } as never)
  t.true(await exists(join(dir, sha(1))))
})

test('pins, last-use order and the budget survive a restart; a configured budget evicts at open', async (t) => {
  const dir = await tempDir(t)
  for (const n of [1, 2, 3, 4]) {
    await cachedFile(dir, n, 20 * KB)
    await tick()
  }
  const a = await openCache(t, { dir })
  await a.setBudget(80 * KB)
  await a.pin(sha(1))
  await a.pin(sha(5)) // not cached yet: allowed, kept once fetched
  a.touch(sha(2))
  await tick()
  a.touch(sha(3))
  await a.close()
  t.deepEqual(await readdir(dir).then((n) => n.filter((x) => x.includes('.tmp'))), [])
  const b = await openCache(t, { dir, budget: 45 * KB }) // configured for this run: 4 (oldest unpinned) and 2 go
  t.deepEqual(b.pins(), [sha(1), sha(5)].sort())
  t.deepEqual(b.list().map((e) => e.sha256), [sha(1), sha(3)])
  t.is(b.stats().pins, 2)
  await b.close()
  const c = await openCache(t, { dir }) // the configured budget was not saved
  t.is(c.budget, 80 * KB)
})

test('an unreadable state file is kept aside with a warning, not lost', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, CACHE_STATE_FILE), '{"v":1,"pins":[')
  const c = new TrackCache({ dir })
  const warned = new Promise<Error>((r) => c.once('warning', r))
  t.teardown(() => c.close())
  await c.open()
  t.regex((await warned).message, /unreadable.*moved to .*cache-state\.json\.bad-\d+/)
  t.is((await readdir(dir)).filter((n) => n.startsWith(`${CACHE_STATE_FILE}.bad-`)).length, 1)
})

test('concurrent reservations are granted one at a time and never sum over the budget', async (t) => {
  const dir = await tempDir(t)
  for (const n of [1, 2, 3, 4, 5]) {
    await cachedFile(dir, n, 20 * KB)
    await tick()
  }
  const c = await openCache(t, { dir, budget: 100 * KB })
  const results = await Promise.allSettled([10, 11, 12, 13].map((n) => c.reserve(sha(n), 30 * KB)))
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'])
  t.like(c.stats(), { fetching: 90 * KB, cached: 0 })
  t.true(c.stats().used <= 100 * KB)
})

test('a stalled download may be evicted like a partial file, first; one still fed may not', async (t) => {
  const dir = await tempDir(t)
  await cachedFile(dir, 1, 30 * KB)
  const stalled = new Set<string>()
  const stopped: string[] = []
  const c = await openCache(t, { dir, budget: 100 * KB, stalled: (s) => stalled.has(s), beforeEvict: async (s) => void stopped.push(s) })
  await c.reserve(sha(2), 40 * KB)
  await writeFile(join(dir, `${sha(2)}.part`), Buffer.alloc(40 * KB))
  await t.throwsAsync(c.reserve(sha(3), 75 * KB), { code: 'ERR_CACHE_FULL' } as never)
  // the budget check counts a download still fed as kept, a stalled one not
  await t.throwsAsync(c.setBudget(39 * KB), { message: /plus 40.0 kB of downloads in flight/ })
  stalled.add(sha(2))
  await c.reserve(sha(3), 65 * KB) // the stalled download goes first, before the cached track
  t.deepEqual(stopped, [sha(2)])
  t.false(await exists(join(dir, `${sha(2)}.part`)))
  t.true(c.has(sha(1)))
  t.like(c.stats(), { used: 95 * KB, fetching: 65 * KB })
})
