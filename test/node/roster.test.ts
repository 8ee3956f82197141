// The roster as a manifest, across real node processes: a change made on the
// admin device (a friend added, a device revoked) reaches the other own
// devices; the revoked device loses its links there and its library leaves
// their union; a device recovered from the phrase takes the newest roster.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { formatId, generateKeyPair, loadIdentity } from '../../src/identity/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500, manifestPoll: 1_000 } // ms: devices redial and check the DHT often here; the roster reload, which the test logs, is the production one

async function cliJson<T>(home: string, args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
interface RosterView {
  seq: number
  devices: Array<{ id: string; name: string }>
  revoked: string[]
  friends: Array<{ id: string; name: string }>
}
const devicesOf = async (n: NodeProcess) =>
  ((await (await fetch(`${n.info.api}/api/devices`)).json()) as { devices: Array<{ name: string }> }).devices.map((d) => d.name)

test('roster changes on the admin reach the other devices; a revoked device loses its links and leaves their union', async (t) => {
  const root = await tempDir(t)
  const [home, phone, laptop] = await makeHomes(root, ['home-pc', 'phone', 'laptop'])
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const p = await serveNode(t, phone!, ['--tracker', h.info.tracker!], { timings })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await until(async () => ((await devicesOf(p)).length === 2 ? true : undefined))
  const music = join(root, 'laptop-music')
  await mkdir(music)
  await writeTrack(join(music, 'l.wav'), { title: 'On The Laptop' }, 9, 5)
  t.is((await runCli(['scan', music], { DJCLOUD_HOME: laptop! })).code, 0)
  await until(async () => ((await cliJson<Array<{ tags: { title?: string } }>>(phone!, ['ls'])).some((x) => x.tags.title === 'On The Laptop') ? true : undefined))

  // A friend added on the admin device shows up in the phone's roster.
  const friend = formatId('owner', generateKeyPair().publicKey)
  t.is((await runCli(['trust', 'add', friend, '--role', 'friend', '--name', 'Bob'], { DJCLOUD_HOME: home! })).code, 0)
  const withFriend = await until(async () => {
    const r = await cliJson<RosterView>(phone!, ['trust', 'ls'])
    return r.friends.some((f) => f.name === 'Bob') ? r : undefined
  }, 15_000)
  t.is(withFriend.friends.find((f) => f.name === 'Bob')!.id, friend)

  // The laptop is revoked on the admin device: the phone learns it, drops the laptop and its tracks.
  const laptopId = formatId('device', (await loadIdentity(laptop!)).device.publicKey)
  const started = Date.now()
  t.is((await runCli(['trust', 'revoke', laptopId], { DJCLOUD_HOME: home! })).code, 0)
  const revoked = await until(async () => {
    const r = await cliJson<RosterView>(phone!, ['trust', 'ls'])
    return r.revoked.includes(laptopId) ? r : undefined
  }, 15_000)
  t.log(`the phone had the revocation ${Date.now() - started} ms after "trust revoke" (the admin's node reads its roster file every 5 s)`)
  t.true(revoked.seq > withFriend.seq)
  await until(async () => (!(await devicesOf(p)).includes('laptop') ? true : undefined), 10_000)
  const union = await cliJson<Array<{ tags: { title?: string } }>>(phone!, ['ls'])
  t.false(union.some((x) => x.tags.title === 'On The Laptop'), "the revoked device's library is gone from the union")
  // The laptop cannot come back: it dials again (a redial round) and the phone refuses it on the wire.
  const mark = p.stderr().length
  await until(async () => (/^refused /m.test(p.stderr().slice(mark)) ? true : undefined), 15_000).catch((err: Error) => {
    throw new Error(`${err.message}: the phone refused no dial after the revocation\nPHONE\n${p.stderr()}`)
  })
  t.false((await devicesOf(p)).includes('laptop'))
  await l.stop()
})

test('a device recovered from the phrase adopts the newest roster it finds and adds itself after it', async (t) => {
  const root = await tempDir(t)
  const [home, phone] = await makeHomes(root, ['home-pc', 'phone'])
  // The roster grows to a seq a fresh "init --recover" cannot know.
  for (let i = 0; i < 3; i++) {
    await runCli(['trust', 'add', formatId('owner', generateKeyPair().publicKey), '--role', 'friend', '--name', `f${i}`], { DJCLOUD_HOME: home! })
  }
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  await serveNode(t, phone!, ['--tracker', h.info.tracker!], { timings })
  const published = await cliJson<RosterView>(home!, ['trust', 'ls'])
  const phrase = (await loadIdentity(home!)).phrase!
  const recovered = join(root, 'new-laptop')
  t.is((await runCli(['init', '--recover', phrase, '--name', 'new-laptop'], { DJCLOUD_HOME: recovered })).code, 0)
  t.is((await cliJson<RosterView>(recovered, ['trust', 'ls'])).seq, 1)
  // Its seq-1 roster lists no device but itself, so it cannot accept the tracker's
  // key yet (docs/tracker.md): it finds the newest roster over the DHT, then the tracker.
  await serveNode(t, recovered, ['--tracker', h.info.tracker!, '--bootstrap', h.info.bootstrap!, '--no-tracker'], { timings })
  const adopted = await until(async () => {
    const r = await cliJson<RosterView>(recovered, ['trust', 'ls'])
    return r.seq > published.seq ? r : undefined
  }, 15_000)
  t.deepEqual(adopted.friends.map((f) => f.name).sort(), ['f0', 'f1', 'f2'])
  t.deepEqual(adopted.devices.map((d) => d.name).sort(), ['home-pc', 'new-laptop', 'phone'])
  // Its own edit went out as the next version, and the other devices take it.
  await until(async () => ((await cliJson<RosterView>(phone!, ['trust', 'ls'])).devices.some((d) => d.name === 'new-laptop') ? true : undefined), 15_000)
})
