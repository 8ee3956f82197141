// The announcing client (src/swarm/announce.ts): its errors, limits and parsing.
import test from 'ava'
import { createServer, type Socket } from 'node:net'
import { encode } from '../../src/codec/index.ts'
import {
  AnnounceError, announce, announceUrl, parseAnnounceResponse, percentEncodeBytes, signedAnnounceParams,
} from '../../src/swarm/index.ts'
import { makeCircle, newInfoHash, newPeerId, startTracker } from './fixtures.ts'

const opts = () => ({ infoHash: newInfoHash(), peerId: newPeerId(), port: 6881 })

/** A TCP server on 127.0.0.1 that accepts and never answers. */
async function silentServer(t: import('ava').ExecutionContext): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

test('a tracker that does not answer times out; an abort is an abort', async (t) => {
  const port = await silentServer(t)
  const url = `http://127.0.0.1:${port}/announce`
  const started = Date.now()
  const timedOut = await t.throwsAsync(announce(url, { ...opts(), timeoutMs: 200 }), { instanceOf: AnnounceError })
  t.is(timedOut?.code, 'ERR_TRACKER_TIMEOUT')
  t.true(Date.now() - started < 3000)
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const aborted = await t.throwsAsync(announce(url, { ...opts(), signal: ac.signal }), { instanceOf: AnnounceError })
  t.is(aborted?.code, 'ERR_ABORTED')
  const early = await t.throwsAsync(announce(url, { ...opts(), signal: AbortSignal.abort() }), { instanceOf: AnnounceError })
  t.is(early?.code, 'ERR_ABORTED')
  // The same while waiting for a pinned TLS handshake.
  const { roster, laptop } = makeCircle()
  const tls = `https://127.0.0.1:${port}/announce`
  const tlsTimedOut = await t.throwsAsync(announce(tls, { ...opts(), signer: laptop.signer, roster, timeoutMs: 200 }), { instanceOf: AnnounceError })
  t.is(tlsTimedOut?.code, 'ERR_TRACKER_TIMEOUT')
  const ac2 = new AbortController()
  setTimeout(() => ac2.abort(), 50)
  const tlsAborted = await t.throwsAsync(announce(tls, { ...opts(), signer: laptop.signer, roster, signal: ac2.signal }), { instanceOf: AnnounceError })
  t.is(tlsAborted?.code, 'ERR_ABORTED')
})

test('HTTP errors and unreachable trackers are typed errors', async (t) => {
  const { roster, laptop } = makeCircle()
  const { base, tracker } = await startTracker(t, { roster })
  const notFound = await t.throwsAsync(announce(`${base}/nope`, { ...opts(), signer: laptop.signer, roster }), { instanceOf: AnnounceError })
  t.is(notFound?.code, 'ERR_TRACKER_HTTP')
  await tracker.close()
  const gone = await t.throwsAsync(announce(`${base}/announce`, { ...opts(), signer: laptop.signer, roster }), { instanceOf: AnnounceError })
  t.is(gone?.code, 'ERR_TRACKER_UNREACHABLE')
})

test('responses: compact IPv4 and IPv6 peers, dict peers, failure reasons; anything else is refused', (t) => {
  const v4 = Buffer.from([10, 0, 0, 7, 0x1a, 0xe1]) // 10.0.0.7:6881
  const v6 = Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from([0x1a, 0xe2])])
  t.deepEqual(parseAnnounceResponse(encode({ interval: 1800, 'min interval': 60, complete: 2, incomplete: 1, peers: v4, peers6: v6 })), {
    interval: 1800,
    minInterval: 60,
    complete: 2,
    incomplete: 1,
    peers: [{ host: '10.0.0.7', port: 6881 }, { host: '2001:db8:0:0:0:0:0:1', port: 6882 }],
  })
  t.deepEqual(parseAnnounceResponse(encode({ interval: 60, peers: [{ ip: 'nas.local', port: 7000, 'peer id': newPeerId() }] })).peers, [
    { host: 'nas.local', port: 7000 },
  ])
  const refused = t.throws(() => parseAnnounceResponse(encode({ 'failure reason': 'revoked device' })), { instanceOf: AnnounceError })
  t.like(refused, { code: 'ERR_TRACKER_REFUSED', reason: 'revoked device' })
  const bad: Array<[string, Uint8Array]> = [
    ['not bencode', Buffer.from('<html>')],
    ['no interval', encode({ peers: v4 })],
    ['a truncated compact peer', encode({ interval: 1, peers: v4.subarray(0, 5) })],
    ['port 0', encode({ interval: 1, peers: Buffer.from([1, 2, 3, 4, 0, 0]) })],
    ['a peer without ip', encode({ interval: 1, peers: [{ port: 1 }] })],
    ['too deep', encode({ interval: 1, peers: [{ ip: [[['x']]], port: 1 }] })],
    ['too many peers', encode({ interval: 1, peers: Buffer.alloc(6 * 501, 1) })],
    ['too big', encode({ interval: 1, junk: Buffer.alloc(70_000) })],
  ]
  for (const [what, body] of bad) {
    t.is(t.throws(() => parseAnnounceResponse(body), { instanceOf: AnnounceError }, what)?.code, 'ERR_TRACKER_RESPONSE', what)
  }
})

test('the query carries raw infohash and peer id bytes, percent-encoded, after any existing query', (t) => {
  t.is(percentEncodeBytes(Buffer.from([0x00, 0x41, 0x7e, 0x2d, 0xff, 0x20])), '%00A~-%FF%20')
  const infoHash = Buffer.alloc(20, 0xab)
  const peerId = Buffer.from('-DJ0100-abcdefghijkl')
  const url = announceUrl('http://127.0.0.1:1/announce?passkey=x', { infoHash, peerId, port: 6881, event: 'started', numwant: 10 })
  t.is(
    url.search,
    `?passkey=x&info_hash=${'%AB'.repeat(20)}&peer_id=-DJ0100-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=0&compact=1&numwant=10&event=started`,
  )
  t.throws(() => announceUrl('udp://127.0.0.1:1', { infoHash, peerId, port: 6881 }), { instanceOf: RangeError })
  t.throws(() => announceUrl('http://127.0.0.1:1', { infoHash: Buffer.alloc(19), peerId, port: 6881 }), { instanceOf: RangeError })
  t.throws(() => announceUrl('http://127.0.0.1:1', { infoHash, peerId, port: 0 }), { instanceOf: RangeError })
})

test('a proof is fresh per call and checks its inputs', async (t) => {
  const { laptop } = makeCircle()
  const o = { ...laptop.signer, infoHash: newInfoHash(), peerId: newPeerId(), port: 6881 }
  const a = signedAnnounceParams(o)
  const b = signedAnnounceParams(o)
  t.not(a.dj_nonce, b.dj_nonce)
  t.regex(a.dj_nonce, /^[0-9a-f]{32}$/)
  t.is(Buffer.from(a.dj_sig, 'base64url').length, 64)
  t.throws(() => signedAnnounceParams({ ...o, peerId: Buffer.alloc(21) }), { instanceOf: RangeError })
  t.throws(() => signedAnnounceParams({ ...o, port: 70000 }), { instanceOf: RangeError })
  t.throws(() => signedAnnounceParams({ ...o, nonce: Buffer.alloc(8) }), { instanceOf: RangeError })
  await t.throwsAsync(announce('http://127.0.0.1:1/announce', { ...o, signer: laptop.signer, ...a }), { instanceOf: TypeError })
  await t.throwsAsync(announce('http://127.0.0.1:1/announce', { ...o, dj_sig: a.dj_sig }), { instanceOf: TypeError })
})
