// Plays stay among own devices: Alex's two devices and his friend Fiona's
// device, real in-process nodes meeting over a loopback DHT, linked as
// friends by a shared playlist. A play on alex-pc reaches alex-laptop; Fiona's
// device gets no plays notice on any channel and holds no play.
import test from 'ava'
import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { startNode, type Node, type NodeOptions } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { playsLogPath } from '../../src/plays/index.ts'
import { friendCircles } from '../helpers/friends.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 300, manifestPoll: 1_000, shareRound: 500 }
const base = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', analyze: false, uiDir: null, timings } as const
const ownTracker = { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }
const dht = { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }

async function call<T>(n: Node, method: string, path: string, body?: unknown): Promise<T> {
  const token = (await readApiToken(n.home))!
  const r = await fetch(n.info.api + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}

test('a play reaches own devices and never a friend\'s', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const { alex: [alexPc, alexLaptop], fiona: [fionaPc], fionaOwner } = await friendCircles(root, ['alex-pc', 'alex-laptop'])
  const nodes: Node[] = []
  t.teardown(() => Promise.all(nodes.map((n) => n.close())))
  const start = async (o: Partial<NodeOptions> & { home: string }) => {
    const n = await startNode({ ...base, ...o })
    nodes.push(n)
    return n
  }
  const a = await start({ home: alexPc!, tracker: ownTracker, dht })
  const l = await start({ home: alexLaptop!, tracker: false, trackers: [a.info.tracker!], dht, bootstrap: [a.info.bootstrap!] })
  const f = await start({ home: fionaPc!, tracker: ownTracker, dht, bootstrap: [a.info.bootstrap!] })
  // Every "plays" notice or command Fiona's node sees, on any channel.
  const seen: string[] = []
  for (const [name, ch] of [['devices', f.swarm.devices], ['friends', f.swarm.friends], ['holders', f.swarm.holders]] as const) {
    ch.on('notice', (_link, n) => n.kind === 'plays' && seen.push(`${name} notice`))
  }

  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'one.wav'), { title: 'For Fiona', artist: 'Alex' }, 1, 2)
  await call(a, 'POST', '/api/scan', { roots: [music] })
  const [track] = (await call<{ tracks: Array<{ sha256: string }> }>(a, 'GET', '/api/library')).tracks
  await call(a, 'POST', '/api/playlists', { name: 'Shared' })
  await call(a, 'POST', '/api/playlists/Shared/tracks', { tracks: [track!.sha256] })
  await call(a, 'POST', '/api/playlists/Shared/share', { friend: fionaOwner })
  // Friends linked: Fiona's node has a link to Alex's on its friends' channel.
  await until(async () => (f.swarm.friends.online().length > 0 ? true : undefined), 90_000)
  await until(async () => (l.swarm.devices.online().length > 0 ? true : undefined), 60_000)

  t.like(await call(a, 'POST', '/api/plays', { sha256: track!.sha256, listened: 1.5 }), { counted: true })
  await until(async () => (l.plays.book.stats().get(track!.sha256)?.count === 1 ? true : undefined))
  // A second play while the friends are linked, then Fiona's node is asked what it has.
  await call(a, 'POST', '/api/plays', { sha256: track!.sha256, listened: 1.5 })
  await until(async () => (l.plays.book.stats().get(track!.sha256)?.count === 2 ? true : undefined))
  t.true(f.swarm.friends.online().length > 0, 'still linked as friends')
  t.deepEqual(seen, [])
  t.deepEqual(f.plays.book.all(), [])
  t.deepEqual((await call<{ tracks: unknown[] }>(f, 'GET', '/api/plays')).tracks, [])
  await t.throwsAsync(stat(playsLogPath(fionaPc!)), { code: 'ENOENT' })
})
