// Play history between own devices, as real in-process nodes on 127.0.0.1:
// a scrobble on the laptop is counted on home-pc; plays added while the two
// were apart merge without double counting once they link again; a removed
// session goes from both.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { startNode, type Node, type NodeOptions } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { addApp } from '../../src/subsonic/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const common = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, analyze: false, uiDir: null, subsonic: true, timings: { redial: 300 } } as const

async function call<T>(n: Node, method: string, path: string, body?: unknown): Promise<T> {
  const token = (await readApiToken(n.home))!
  const r = await fetch(n.info.api + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}

type Counts = Record<string, number>
async function counts(n: Node): Promise<Counts> {
  const { tracks } = await call<{ tracks: Array<{ sha256: string; count: number }> }>(n, 'GET', '/api/plays')
  return Object.fromEntries(tracks.map((t) => [t.sha256, t.count]))
}
const countsAre = (n: Node, want: Counts) => async () => (JSON.stringify(sorted(await counts(n))) === JSON.stringify(sorted(want)) ? true : undefined)
const sorted = (c: Counts) => Object.fromEntries(Object.entries(c).sort())

async function scanOne(n: Node, dir: string, title: string, seed: number): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeTrack(join(dir, `${title}.wav`), { title, artist: 'Test' }, seed, 2)
  await call(n, 'POST', '/api/scan', { roots: [dir] })
  const { tracks } = await call<{ tracks: Array<{ sha256: string; tags: { title?: string } }> }>(n, 'GET', '/api/library')
  return tracks.find((t) => t.tags.title === title)!.sha256
}

test('a scrobble on one own device counts on the other; plays made apart merge once; a removed session goes everywhere', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [homeDir, laptopDir] = await makeHomes(root, ['home-pc', 'laptop'])
  const open: Node[] = []
  t.teardown(() => Promise.all(open.map((n) => n.close())))
  const start = async (o: Partial<NodeOptions> & { home: string }) => {
    const n = await startNode({ ...common, tracker: false, ...o })
    open.push(n)
    return n
  }
  const stop = async (n: Node) => {
    await n.close()
    open.splice(open.indexOf(n), 1)
  }
  const startBoth = async () => {
    const home = await start({ home: homeDir!, tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' } })
    const laptop = await start({ home: laptopDir!, trackers: [home.info.tracker!] })
    await until(async () => (laptop.swarm.devices.online().some((l) => l.name === 'home-pc') ? true : undefined))
    return { home, laptop }
  }

  let { home, laptop } = await startBoth()
  const x = await scanOne(home, join(root, 'home-music'), 'Home Tune', 1)
  const y = await scanOne(laptop, join(root, 'laptop-music'), 'Laptop Tune', 2)
  await until(async () => ((await call<{ tracks: unknown[] }>(laptop, 'GET', '/api/library')).tracks.length === 2 ? true : undefined))

  // The test: the phone scrobbles to the laptop; home-pc counts it (its own Subsonic answer).
  const phone = await addApp(laptop.home, 'phone')
  const scrobble = await fetch(`${laptop.info.api}/rest/scrobble?apiKey=${phone.apiKey}&v=1.16.1&c=t&f=json&id=${x}&submission=true`)
  t.is(((await scrobble.json()) as { 'subsonic-response': { status: string } })['subsonic-response'].status, 'ok')
  const desk = await addApp(home.home, 'desk')
  await until(async () => {
    const r = (await (await fetch(`${home.info.api}/rest/getSong?apiKey=${desk.apiKey}&v=1.16.1&c=t&f=json&id=${x}`)).json()) as { 'subsonic-response': { song?: { playCount: number } } }
    return r['subsonic-response'].song?.playCount === 1 ? true : undefined
  })
  // A web UI play shorter than half the track is not one.
  t.deepEqual(await call(home, 'POST', '/api/plays', { sha256: x, listened: 0.5 }), { counted: false })

  // Apart: home-pc plays X twice while the laptop is off; then the laptop plays Y alone.
  await stop(laptop)
  for (let i = 0; i < 2; i++) t.like(await call(home, 'POST', '/api/plays', { sha256: x, listened: 1.5 }), { counted: true })
  await stop(home)
  const alone = await start({ home: laptopDir! })
  const offline = Date.now()
  t.like(await call(alone, 'POST', '/api/plays', { sha256: y, listened: 300 }), { counted: true })
  const offlineEnd = Date.now()
  t.deepEqual(sorted(await counts(alone)), sorted({ [x]: 1, [y]: 1 }))
  await stop(alone)

  // Together again: each has everything, once.
  ;({ home, laptop } = await startBoth())
  const want = { [x]: 3, [y]: 1 }
  await until(countsAre(home, want))
  await until(countsAre(laptop, want))
  // Linking again (a restart of the link) adds nothing.
  t.deepEqual(sorted(await counts(laptop)), sorted(want))
  t.is(home.plays.book.all().length, 4)

  // The laptop's lone session is removed on home-pc; the laptop drops it too.
  t.like(await call(home, 'POST', '/api/plays/remove', { from: offline, to: offlineEnd }), { removed: 1 })
  await until(countsAre(laptop, { [x]: 3 }))
  t.deepEqual(await counts(home), { [x]: 3 })

  // A gig: the laptop pulls a playlist to itself; plays in the window after the pull count as at the gig, from any own device.
  await call(laptop, 'POST', '/api/playlists', { name: 'Friday' })
  await call(laptop, 'POST', '/api/playlists/Friday/tracks', { tracks: [x] })
  const { job } = await call<{ job: { id: string } }>(laptop, 'POST', '/api/pull', { playlist: 'Friday' })
  await until(async () => ((await call<{ job: { state: string } }>(laptop, 'GET', `/api/pull/${job.id}`)).job.state === 'done' ? true : undefined))
  const gigsOf = () => call<{ gigs: Array<{ playlist: string }>; tracks: Array<{ sha256: string; count: number; title?: string }> }>(laptop, 'GET', '/api/plays/gigs')
  t.deepEqual((await gigsOf()).gigs.map((g) => g.playlist), ['Friday'])
  t.deepEqual((await gigsOf()).tracks, [], 'plays before the pull are not at the gig')
  await call(home, 'POST', '/api/plays', { sha256: x, listened: 1.5 })
  await until(async () => ((await gigsOf()).tracks[0]?.count === 1 ? true : undefined))
  t.like((await gigsOf()).tracks[0], { sha256: x, title: 'Home Tune' })
})
