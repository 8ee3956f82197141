// `djcloud analyze` over a real library: results by audio hash and analyser
// version, kept between runs; undecodable audio recorded and skipped; a run
// on one device feeds the others through the library manifest.
import test from 'ava'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { readApiToken } from '../../src/player/index.ts'
import { LocalLibrary } from '../../src/library/index.ts'
import { analyzeFile, ANALYZER_VERSION } from '../../src/analysis/index.ts'

interface Summary {
  recordings: number
  analysed: number
  cached: number
  fromDevices: number
  failed: number
  issues: Array<{ code: string; reason: string; path: string }>
}
interface Listed {
  sha256: string
  tags: { title?: string }
  analysis?: { bpm: number; key: string; camelot: string; openKey: string; lufs: number; version: number }
}

async function cli<T>(home: string, args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

test('analyze: tempo and key land in the listing; a second run reuses them; --force redoes them; bad audio is recorded and skipped', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'house.wav'), { title: 'House', bpm: 124 }, 1, 20)
  await writeTrack(join(music, 'dnb.wav'), { title: 'Drum and Bass', bpm: 174 }, 2, 20)
  const broken = await writeTrack(join(music, 'broken.wav'), { title: 'Broken', bpm: 128 }, 3, 20)
  await cli(home!, ['scan', music])
  // The file changes on disk after the scan into something no decoder reads.
  await writeFile(broken, randomBytes(50_000))

  const first = await cli<Summary>(home!, ['analyze'])
  t.is(first.recordings, 3)
  t.is(first.analysed, 2)
  t.is(first.failed, 1)
  t.is(first.issues[0]!.path, broken)
  t.regex(first.issues[0]!.reason, /^[^\n]+$/)

  const listed = await cli<Listed[]>(home!, ['ls'])
  const by = (title: string) => listed.find((x) => x.tags.title === title)!
  for (const [title, bpm] of [['House', 124], ['Drum and Bass', 174]] as const) {
    const a = by(title).analysis!
    t.truthy(a, `${title} was analysed`)
    t.true(Math.abs(a.bpm - bpm) / bpm <= 0.04, `${title}: ${a.bpm} BPM, expected ${bpm}`)
    t.is(a.key, 'A minor', `${title}'s key`)
    t.is(a.camelot, '8A')
    t.is(a.openKey, '1m')
    t.true(a.lufs < 0 && a.lufs > -40)
  }
  t.is(by('Broken').analysis, undefined)
  const table = (await runCli(['ls'], { DJCLOUD_HOME: home! })).stdout
  t.regex(table, /Drum and Bass\s+17\d\.\d\s+8A Am\s+-\d+\.\d\s/, 'the table shows the analysed tempo, Camelot key and loudness')
  t.regex(table, /Broken\s+128\*\s/, 'and the tag, marked, where there is no analysis')

  const second = await cli<Summary>(home!, ['analyze'])
  t.deepEqual([second.analysed, second.cached, second.failed], [0, 3, 0], 'results and the recorded failure are kept')
  const forced = await cli<Summary>(home!, ['analyze', '--force'])
  t.deepEqual([forced.analysed, forced.failed], [2, 1])
})

test('a recording analysed on one own device is taken from its library manifest on another, not analysed again', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const dirs = { home: join(root, 'm-home'), laptop: join(root, 'm-laptop') }
  await mkdir(dirs.home)
  await mkdir(dirs.laptop)
  const track = await writeTrack(join(dirs.home, 'tune.wav'), { title: 'Tune', bpm: 128 }, 5, 20)
  await copyFile(track, join(dirs.laptop, 'tune.wav'))

  // home-pc analyses in the background as a node does.
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { analyze: true })
  const l: NodeProcess = await serveNode(t, laptop!, ['--tracker', h.info.tracker!])
  await cli(home!, ['scan', dirs.home])
  // Before the laptop has the file: its union shows home-pc's record, analysis included.
  const remote = await until(async () => (await cli<Listed[]>(laptop!, ['ls'])).find((x) => x.tags.title === 'Tune' && x.analysis), 60_000)
  t.true(Math.abs(remote.analysis!.bpm - 128) <= 128 * 0.04)
  // The laptop scans the same recording; its run takes the analysis instead of computing it.
  await cli(laptop!, ['scan', dirs.laptop])
  const run = await cli<Summary>(laptop!, ['analyze'])
  t.is(run.fromDevices, 1)
  t.is(run.analysed, 0)
  const mine = (await cli<Listed[]>(laptop!, ['ls'])).find((x) => x.tags.title === 'Tune')!
  t.true(Math.abs(mine.analysis!.bpm - 128) <= 128 * 0.04)
  t.truthy(l)
})

test('the tempo range is kept for the device; tempos made for another range are redone; a bad range is a usage error', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'dnb.wav'), { title: 'Drum and Bass', bpm: 174 }, 2, 20)
  await cli(home!, ['scan', music])
  const bpm = async () => (await cli<Listed[]>(home!, ['ls']))[0]!.analysis!.bpm

  const slow = await cli<Summary & { tempoRange: { min: number; max: number } }>(home!, ['analyze', '--tempo-range', '60-120'])
  t.deepEqual(slow.tempoRange, { min: 60, max: 120 })
  t.is(slow.analysed, 1)
  t.true(Math.abs((await bpm()) - 87) < 1, 'folded into 60-120')
  // kept: the next run (and a node) uses it and finds nothing stale
  const again = await cli<Summary & { tempoRange: { min: number; max: number } }>(home!, ['analyze'])
  t.deepEqual([again.analysed, again.cached, again.tempoRange.min], [0, 1, 60])
  const back = await cli<Summary>(home!, ['analyze', '--tempo-range', 'default'])
  t.is(back.analysed, 1, 'a result made for another range is stale')
  t.true(Math.abs((await bpm()) - 174) < 1)

  for (const bad of ['100-150', 'fast', '10-400']) {
    const r = await runCli(['analyze', '--tempo-range', bad], { DJCLOUD_HOME: home! })
    t.is(r.code, 2, bad)
    t.regex(r.stderr.split("\n")[0]!, /tempo range/, bad)
  }
  t.is((await cli<Summary>(home!, ['analyze'])).cached, 1, 'a refused range changes nothing')
})

test('a node killed with -9 in the middle of its background analysis resumes where it stopped', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const music = join(root, 'music')
  await mkdir(music)
  const N = 6
  // minutes-long tracks so a run lasts long enough to be caught in the middle
  for (let i = 0; i < N; i++) await writeTrack(join(music, `t${i}.wav`), { title: `T${i}`, bpm: 120 + i }, 10 + i, 150)
  const local = ['--tracker-port', '0', '--tracker-host', '127.0.0.1'] // not the default port 7463 on every interface
  const first = await serveNode(t, home!, local, { analyze: true })
  await cli(home!, ['scan', music])
  const token = (await readApiToken(home!))!
  const analysed = async () => {
    const res = await fetch(`${first.info.api}/api/library`, { headers: { authorization: `Bearer ${token}` } })
    const { tracks } = (await res.json()) as { tracks: Listed[] }
    return tracks.filter((x) => x.analysis).length
  }
  const before = await until(async () => {
    const n = await analysed()
    return n >= 1 ? n : undefined
  }, 60_000, 20)
  t.true(before < N, `the kill came after the whole run (${before} of ${N} done): make the tracks longer`)
  await first.stop('SIGKILL')

  await serveNode(t, home!, local) // no background run: the asked-for run below tells what was left
  const resumed = await cli<Summary>(home!, ['analyze'])
  t.log(`killed with ${before} of ${N} seen done; the next run found ${resumed.cached} and analysed ${resumed.analysed}`)
  t.true(resumed.cached >= before, `results written before the kill are kept (${resumed.cached} >= ${before})`)
  t.true(resumed.analysed >= 1, 'the run was cut in the middle')
  t.is(resumed.cached + resumed.analysed, N, 'and the rest is analysed, once')
  t.is(resumed.failed, 0)
})

test("another device's analysis is taken only when made by this analyser version for this tempo range", async (t) => {
  const root = await tempDir(t)
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'dnb.wav'), { title: 'Drum and Bass', bpm: 174 }, 2, 20)
  const lib = await LocalLibrary.open(join(root, 'home'))
  t.teardown(() => lib.close())
  await lib.scan([music])
  const [track] = await lib.list()
  const theirs = await analyzeFile(track!.paths[0]!, { tempoRange: { min: 60, max: 120 } })
  const { waveform, ...summary } = theirs
  const offered = (over: Partial<typeof summary>) => () => ({ ...summary, ...over, overview: waveform[0] })
  let computed = 0
  const run = (shared: ReturnType<typeof offered>, tempoRange = { min: 60, max: 120 }) =>
    lib.analyze({ analyze: (p) => (computed++, analyzeFile(p, { tempoRange })), version: ANALYZER_VERSION, tempoRange, shared, force: false })

  t.is((await run(offered({ version: ANALYZER_VERSION - 1 }))).analysed, 1, 'another version is computed here')
  t.is(computed, 1)
  // The device switches to the default range: the result here and the offered one are both stale.
  const switched = await run(offered({}), { min: 85, max: 175 })
  t.deepEqual([switched.fromDevices, switched.analysed], [0, 1])
  t.true(Math.abs((await lib.analysisOf(track!.audioHash))!.result!.bpm - 174) < 1)
  // Back to 60-120: the offered result fits and is taken as it is.
  const back = await run(offered({}))
  t.deepEqual([back.fromDevices, back.analysed, computed], [1, 0, 2])
  const stored = (await lib.analysisOf(track!.audioHash))!
  t.is(stored.source, 'device')
  t.true(Math.abs(stored.result!.bpm - 87) < 1)
})
