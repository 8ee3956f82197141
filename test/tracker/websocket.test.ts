// WebSocket announces (the WebRTC signaling side), over TLS on the tracker's
// one port (wss://): the same admission as HTTPS. The certificate is the
// tracker device's self-signed one, so the client takes any certificate
// here; pinning is tested in tls.test.ts.
import test, { type ExecutionContext } from 'ava'
import WebSocket from 'ws'
import { signedAnnounceParams, type AnnounceSigner } from '../../src/swarm/index.ts'
import { makeCircle, newInfoHash, newPeerId, startTracker } from './fixtures.ts'

interface Client {
  send(msg: unknown): void
  /** The next message from the tracker, parsed. */
  next(): Promise<Record<string, unknown>>
  /** Resolves with the close code. */
  closed: Promise<number>
}

async function connect(t: ExecutionContext, url: string): Promise<Client> {
  const ws = new WebSocket(url, { rejectUnauthorized: false })
  const queue: Array<Record<string, unknown>> = []
  const waiting: Array<(m: Record<string, unknown>) => void> = []
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(String(data)) as Record<string, unknown>
    const w = waiting.shift()
    if (w) w(msg)
    else queue.push(msg)
  })
  ws.on('error', (err: Error) => t.log(`client socket error: ${err.message}`))
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)))
  t.teardown(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    next: () => {
      const m = queue.shift()
      if (m) return Promise.resolve(m)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message from the tracker within 5 s')), 5000)
        waiting.push((msg) => {
          clearTimeout(timer)
          resolve(msg)
        })
      })
    },
    closed,
  }
}

const bin = (b: Uint8Array) => Buffer.from(b).toString('latin1')

/** A bittorrent-tracker WebSocket announce; signed for port 0 (WebRTC peers have no port). */
function wsAnnounce(infoHash: Uint8Array, peerId: Uint8Array, signer: AnnounceSigner | undefined, extra: object = {}) {
  const proof = signer ? signedAnnounceParams({ ...signer, infoHash, peerId, port: 0, event: 'started' }) : {}
  return { action: 'announce', info_hash: bin(infoHash), peer_id: bin(peerId), event: 'started', numwant: 0, offers: [], ...proof, ...extra }
}

test('a signed WebSocket announce is admitted and WebRTC offers reach admitted peers', async (t) => {
  const { roster, laptop, pc } = makeCircle()
  const { tracker, ws } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const a = await connect(t, ws)
  const aId = newPeerId()
  a.send(wsAnnounce(infoHash, aId, laptop.signer))
  const ack = await a.next()
  t.is(ack['failure reason'], undefined)
  t.like(ack, { action: 'announce', info_hash: bin(infoHash) })
  t.true((ack.interval as number) > 0)
  t.like(tracker.stats(), { swarms: 1, peers: 1, admitted: 1 })

  const b = await connect(t, `${ws}/announce`)
  const bId = newPeerId()
  const offer = { type: 'offer', sdp: 'v=0 (test)' }
  b.send(wsAnnounce(infoHash, bId, pc.signer, { numwant: 1, offers: [{ offer, offer_id: 'offer-1' }] }))
  t.like(await b.next(), { action: 'announce', complete: 0, incomplete: 2 })
  t.like(await a.next(), { action: 'announce', offer, offer_id: 'offer-1', peer_id: bin(bId) })
  t.like(tracker.stats(), { peers: 2, admitted: 2 })
})

test('WebSocket announces without a valid proof are refused and the socket is closed', async (t) => {
  const { roster, laptop, stranger } = makeCircle()
  const { tracker, ws } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const cases: Array<[string, unknown, string]> = [
    ['no proof', wsAnnounce(infoHash, newPeerId(), undefined), 'missing proof'],
    ['a stranger', wsAnnounce(infoHash, newPeerId(), stranger.signer), 'unknown owner'],
    ['signed for a port', (() => {
      const peerId = newPeerId()
      return wsAnnounce(infoHash, peerId, undefined, signedAnnounceParams({ ...laptop.signer, infoHash, peerId, port: 6881, event: 'started' }))
    })(), 'bad signature'],
    // bittorrent-tracker 11 throws on this once another WebSocket peer is in the swarm
    ['a null offer', wsAnnounce(infoHash, newPeerId(), laptop.signer, { numwant: 1, offers: [null] }), 'malformed announce'],
    ['not JSON', 'hello', 'malformed announce'],
    ['a 19-byte info_hash', { ...wsAnnounce(infoHash, newPeerId(), laptop.signer), info_hash: 'x'.repeat(19) }, 'malformed announce'],
    ['a scrape (it would list every swarm)', { action: 'scrape' }, 'scrape is not served'],
  ]
  // An admitted WebSocket peer in the swarm, so offers would be forwarded.
  const member = await connect(t, ws)
  member.send(wsAnnounce(infoHash, newPeerId(), laptop.signer))
  t.is((await member.next())['failure reason'], undefined)

  for (const [what, msg, reason] of cases) {
    const c = await connect(t, ws)
    c.send(msg)
    t.is((await c.next())['failure reason'], reason, what)
    t.is(await c.closed, 1008, what)
  }
  t.like(tracker.stats(), {
    peers: 1,
    admitted: 1,
    refusals: { 'missing proof': 1, 'unknown owner': 1, 'bad signature': 1, 'malformed announce': 3 },
  })
  // and the admitted peer is still served
  const again = wsAnnounce(infoHash, newPeerId(), laptop.signer)
  member.send(again)
  t.is((await member.next())['failure reason'], undefined)
})
