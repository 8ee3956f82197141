// The node's /api/signal (src/node/signal-relay.ts): it carries a paired
// browser's signaling WebSocket to the circle's tracker over the node's own
// pinned TLS connection, frames unread: a token it does not know, a page of
// another origin and a tracker that is not the circle's are refused; with a
// good token an announce the device signed is admitted by the tracker and its
// answer comes back, and one signed by a stranger is refused by the tracker
// (the relay vouches for nothing).
import test from 'ava'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { startNode, SIGNAL_PATH, type NodeOptions } from '../../src/node/index.ts'
import { loadIdentity } from '../../src/identity/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { TrackerSignal, type WebSocketLike } from '../../src/rtc/index.ts'
import { announceSigner, deviceChannelInfoHash, signedAnnounceParams } from '../../src/swarm/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'

const local = { peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, analyze: false, uiDir: null, webrtc: false } satisfies Partial<NodeOptions>

/** Opens the relay and sends `hello`; resolves with the first message and how the socket closed (if it did). */
async function relay(url: string, origin: string, hello: unknown): Promise<{ ws: WebSocket; first: Record<string, unknown> }> {
  const ws = new WebSocket(url, { origin })
  await once(ws, 'open')
  ws.send(JSON.stringify(hello))
  const [data] = (await once(ws, 'message')) as [Buffer]
  return { ws, first: JSON.parse(data.toString()) as Record<string, unknown> }
}

test('/api/signal relays a token holder\'s signed announces to the circle\'s tracker, unread; bad tokens, other origins and other trackers are refused', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const [other] = await makeHomes(await tempDir(t), ['stranger']) // another circle
  const h = await startNode({ home: home!, ...local, tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' } })
  t.teardown(() => h.close())
  const url = h.info.api.replace(/^http/, 'ws') + SIGNAL_PATH
  const origin = h.info.api
  const token = (await readApiToken(home!))!

  // Another site's page: refused at the upgrade.
  const foreign = new WebSocket(url, { origin: 'http://evil.example' })
  const [, res] = (await once(foreign, 'unexpected-response')) as [unknown, { statusCode: number }]
  t.is(res.statusCode, 403)

  // A token the node does not know.
  const bad = await relay(url, origin, { token: 'x'.repeat(43) })
  t.deepEqual(bad.first, { 'failure reason': 'this token is not accepted here' })
  t.is(((await once(bad.ws, 'close')) as [number])[0], 4401)

  // A tracker that is not the circle's: the relay is no way to reach any host.
  const elsewhere = await relay(url, origin, { token, tracker: 'wss://127.0.0.1:9' })
  t.deepEqual(elsewhere.first, { 'failure reason': 'that is not a tracker of this circle' })

  // The node's token: the tracker's WebSocket opens, and what passes is the tracker's own word.
  const id = await loadIdentity(home!)
  const infoHash = deviceChannelInfoHash(id.circleSecret)
  const signalOver = async (signer: ReturnType<typeof announceSigner>) => {
    const { ws, first } = await relay(url, origin, { token })
    t.like(first, { relay: 'open' })
    const peerId = randomBytes(20)
    return new TrackerSignal({
      socket: ws as unknown as WebSocketLike,
      infoHash,
      peerId,
      prove: (event) => ({ ...signedAnnounceParams({ ...signer, infoHash, peerId, port: 0, ...(event === 'started' ? { event } : {}) }) }),
    })
  }
  const own = await signalOver(announceSigner(id))
  t.teardown(() => own.close())
  await t.notThrowsAsync(own.start(), 'a device\'s signed announce is admitted and the answer comes back')
  const stranger = await signalOver(announceSigner(await loadIdentity(other!)))
  t.teardown(() => stranger.close())
  const refused = await stranger.start().then(() => 'admitted', (err: Error) => err.message)
  t.regex(refused, /^the tracker refused: /)
})
