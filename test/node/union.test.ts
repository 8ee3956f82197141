// The union library across real node processes: tracks scanned on one device
// appear on the others (with who holds them and who is online), survive
// restarts of either side, and playlists edited on both merge.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500 } // ms: devices redial often here; manifests travel as in production (the test logs how soon)

interface Listed {
  sha256: string
  tags: { title?: string }
  holders: Array<{ name: string; online: boolean; self: boolean }>
}

async function ls(home: string): Promise<Listed[]> {
  const r = await runCli(['ls', '--json'], { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as Listed[]
}

const linked = (n: NodeProcess, name: string) => async () => {
  const r = await fetch(`${n.info.api}/api/devices`)
  const { devices } = (await r.json()) as { devices: Array<{ name: string }> }
  return devices.some((d) => d.name === name) ? true : undefined
}

test('a track scanned on one device appears on the other within seconds, with holders and online state, and after restarts', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  const first = await writeTrack(join(music, 'first.wav'), { title: 'First Light', artist: 'Dawn' }, 1, 20)

  let h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const trackerArgs = ['--tracker', h.info.tracker!]
  let l = await serveNode(t, laptop!, trackerArgs, { timings })
  await until(linked(l, 'home-pc'))

  const scan = await runCli(['scan', music, '--json'], { DJCLOUD_HOME: home! })
  t.is(scan.code, 0, scan.stderr)
  const started = Date.now()
  const seen = await until(async () => (await ls(laptop!)).find((x) => x.tags.title === 'First Light'), 10_000)
  t.log(`appeared on the laptop ${Date.now() - started} ms after the scan finished`)
  t.deepEqual(seen.holders.map((x) => [x.name, x.online, x.self]), [['home-pc', true, false]])
  t.truthy(first)

  // The laptop's own tracks show it as a holder too, and home-pc sees them.
  const mine = join(root, 'laptop-music')
  await mkdir(mine)
  await writeTrack(join(mine, 'mine.wav'), { title: 'Laptop Tune' }, 2, 10)
  t.is((await runCli(['scan', mine], { DJCLOUD_HOME: laptop! })).code, 0)
  const onHome = await until(async () => (await ls(home!)).find((x) => x.tags.title === 'Laptop Tune'), 10_000)
  t.deepEqual(onHome.holders.map((x) => x.name), ['laptop'])

  // home-pc goes away: the laptop still lists its tracks, as offline.
  await h.stop()
  const offline = await until(async () => {
    const x = (await ls(laptop!)).find((y) => y.tags.title === 'First Light')
    return x && !x.holders[0]!.online ? x : undefined
  }, 10_000)
  t.is(offline.holders[0]!.name, 'home-pc')

  // The laptop restarts alone: what it knew comes back from its home.
  await l.stop()
  l = await serveNode(t, laptop!, trackerArgs, { timings })
  const remembered = (await ls(laptop!)).find((x) => x.tags.title === 'First Light')
  t.truthy(remembered, 'the union survives a restart without the other device')
  t.false(remembered!.holders[0]!.online)

  // A track scanned on home-pc while the laptop is down reaches it when both are up.
  await l.stop()
  h = await serveNode(t, home!, ['--tracker-port', String(new URL(trackerArgs[1]!).port), '--tracker-host', '127.0.0.1'], { timings })
  await writeTrack(join(music, 'second.wav'), { title: 'Second Wind' }, 3, 10)
  t.is((await runCli(['scan', music], { DJCLOUD_HOME: home! })).code, 0)
  l = await serveNode(t, laptop!, trackerArgs, { timings })
  const second = await until(async () => (await ls(laptop!)).find((x) => x.tags.title === 'Second Wind'), 15_000)
  t.true(second.holders[0]!.online)
})
