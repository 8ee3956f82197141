// `djcloud cache` through a running node: what a fetched track looks like in
// the cache, pins, and a budget that pins make impossible.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500 } // ms: devices redial often here

interface CacheView {
  stats: { budget: number; used: number; pinned: number; pins: number; tracks: number }
  tracks: Array<{ sha256: string; state: string; bytes: number; pinned: boolean }>
}

test('djcloud cache: a fetched track is listed, pinned, kept over a budget below it, unpinned; usage errors', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'tune.wav'), { title: 'Tune' }, 1, 30)
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  const cli = async <T>(who: string, args: string[]) => {
    const r = await runCliInProcess([...args, '--json'], { DJCLOUD_HOME: who })
    if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
    return JSON.parse(r.stdout) as T
  }
  await cli(home!, ['scan', music])
  const sha = await until(async () => (await cli<Array<{ sha256: string }>>(laptop!, ['ls']))[0]?.sha256)
  await until(async () => ((await runCliInProcess(['get', sha, '--json'], { DJCLOUD_HOME: laptop! })).code === 0 ? true : undefined), 20_000, 500)

  const listed = await cli<CacheView>(laptop!, ['cache'])
  const entry = listed.tracks.find((x) => x.sha256 === sha)!
  t.like(entry, { state: 'cached', pinned: false })
  t.true(entry.bytes > 0 && listed.stats.used >= entry.bytes)

  const pinned = await cli<CacheView>(laptop!, ['cache', 'pin', sha])
  t.true(pinned.tracks.find((x) => x.sha256 === sha)!.pinned)
  t.is(pinned.stats.pinned, entry.bytes)

  // A budget below the pinned track is refused with both figures, and nothing changes.
  const tooSmall = await runCliInProcess(['cache', 'budget', '1000'], { DJCLOUD_HOME: laptop! })
  t.is(tooSmall.code, 1)
  t.regex(tooSmall.stderr.split('\n')[0]!, /budget/i)
  t.is((await cli<CacheView>(laptop!, ['cache'])).stats.budget, listed.stats.budget)
  const set = await cli<CacheView>(laptop!, ['cache', 'budget', '5GB'])
  t.is(set.stats.budget, 5e9)

  // Unpinned, a budget below it evicts it: the cache is empty, and the laptop no longer holds it.
  await cli(laptop!, ['cache', 'unpin', sha])
  const evicted = await cli<CacheView>(laptop!, ['cache', 'budget', '1000'])
  t.is(evicted.stats.used, 0)
  t.false(evicted.tracks.some((x) => x.sha256 === sha))

  for (const bad of [['cache', 'pin', 'abc'], ['cache', 'budget', 'lots'], ['cache', 'flush']]) {
    t.is((await runCliInProcess(bad, { DJCLOUD_HOME: laptop! })).code, 2, bad.join(' '))
  }
  t.is((await runCliInProcess(['cache'], { DJCLOUD_HOME: join(root, 'nobody') })).code, 1)
})
