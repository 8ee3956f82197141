// A node with WebRTC on (as `djcloud serve` runs it) keeps a signed WebSocket
// announce at its circle's tracker and answers an own device's WebRTC offer:
// a device that reaches it only that way (as a browser would) links over a
// data channel and fetches a track it holds, SHA-256 checked.
import test from 'ava'
import { mkdir, readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { startNode, type NodeOptions } from '../../src/node/index.ts'
import { loadIdentity } from '../../src/identity/index.ts'
import { WebRtcLinks, announceSigner } from '../../src/swarm/index.ts'
import { logger } from '../../src/log/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { until } from '../helpers/until.ts'
import { identitySwarm } from '../helpers/identity-swarm.ts'
import { rtcOptions } from '../helpers/rtc.ts'

const local = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, analyze: false, uiDir: null } satisfies Partial<NodeOptions>

test('a node answers an own device\'s WebRTC offer through its tracker, and serves it a track over the data channel', async (t) => {
  const root = await tempDir(t)
  const [home, phone] = await makeHomes(root, ['home-pc', 'phone'])
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeTrack(join(music, 'song.wav'), { title: 'Song' }, 3, 20)
  const sha = createHash('sha256').update(await readFile(song)).digest('hex')
  await scanHome(home!, music)
  const h = await startNode({ home: home!, ...local, tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }, webrtc: { roundMs: 200, rtc: await rtcOptions() } })
  t.teardown(() => h.close())
  t.true(h.services.includes('webrtc'))
  await until(async () => (h.webrtc!.joined === 1 ? true : undefined))

  // The phone: no TCP dial to the node, only the tracker's WebSocket and WebRTC.
  const id = await loadIdentity(phone!)
  const swarm = await identitySwarm(t, id, join(root, 'phone-cache'))
  swarm.on('warning', () => {})
  const links = new WebRtcLinks({
    swarm, signer: announceSigner(id), roster: () => id.roster, trackers: () => [h.info.tracker!], self: Buffer.from(id.device.publicKey).toString('hex'), rtc: await rtcOptions(), log: logger('test:rtc'),
  })
  t.teardown(() => links.close())
  await links.start()
  const [link] = await links.offer(1)
  t.truthy(link)
  t.is(link!.name, 'home-pc')
  t.is(link!.path, 'webrtc')
  const got = await swarm.fetch(sha)
  t.is(createHash('sha256').update(await readFile(got.path)).digest('hex'), sha)
  t.deepEqual(Object.keys(got.sources), ['home-pc'])
  const there = await until(async () => h.swarm.devices.online().find((l) => l.name === 'phone'))
  t.is(there.path, 'webrtc')
})

test('with webrtc.offer a node offers to own devices it is not linked to, and links to them over WebRTC alone', async (t) => {
  const root = await tempDir(t)
  const [home, phone] = await makeHomes(root, ['home-pc', 'phone'])
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeTrack(join(music, 'song.wav'), { title: 'Song' }, 4, 20)
  const sha = createHash('sha256').update(await readFile(song)).digest('hex')
  await scanHome(home!, music)
  const rtc = await rtcOptions()
  const h = await startNode({ home: home!, ...local, tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }, webrtc: { roundMs: 200, rtc } })
  t.teardown(() => h.close())
  await until(async () => (h.webrtc!.joined === 1 ? true : undefined))
  // The phone names the tracker by its WebSocket URL only: its discovery announces nowhere (HTTPS only), so no TCP link can form.
  const wss = h.info.tracker!.replace(/^https:/, 'wss:').replace(/\/announce$/, '')
  const p = await startNode({ home: phone!, ...local, tracker: false, trackers: [wss], lanDiscovery: false, webrtc: { offer: true, roundMs: 200, rtc } })
  t.teardown(() => p.close())
  const link = await until(async () => p.swarm.devices.online().find((l) => l.name === 'home-pc'))
  t.is(link.path, 'webrtc')
  const got = await p.swarm.fetch(sha)
  t.is(createHash('sha256').update(await readFile(got.path)).digest('hex'), sha)
  t.true(p.swarm.devices.online().every((l) => l.path === 'webrtc'))
})
