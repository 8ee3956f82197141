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
