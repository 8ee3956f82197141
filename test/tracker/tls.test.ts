// The tracker speaks TLS 1.3 only, with a certificate of its device's key; a
// client accepts it only when that key is a device on its roster, not
// revoked, and says nothing to it otherwise. What an observer captures on the
// path is useless: no certificate, infohash or peer id in it, and replayed to
// the tracker it admits nobody. Older clients announcing plain HTTP are told
// why they are refused.
import test, { type ExecutionContext } from 'ava'
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net'
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls'
import { encodeCertificate, revokeDevice } from '../../src/identity/index.ts'
import { selfSignedCertificate } from '../../src/link/index.ts'
import { AnnounceError, announce, percentEncodeBytes } from '../../src/swarm/index.ts'
import { PLAIN_HTTP_REFUSED } from '../../tracker/index.ts'
import { until } from '../helpers/until.ts'
import { makeCircle, newInfoHash, newPeerId, startTracker } from './fixtures.ts'

/** A TLS server presenting `seed`'s key that records every decrypted byte it receives. */
async function recordingTlsServer(t: ExecutionContext, seed?: Uint8Array) {
  const { key, cert } = await selfSignedCertificate(seed)
  const state = { connections: 0, closed: 0, received: Buffer.alloc(0) }
  const sockets = new Set<Socket | TLSSocket>()
  const server = createTlsServer({ key, cert, minVersion: 'TLSv1.3' }, (s) => {
    sockets.add(s)
    s.on('data', (d: Buffer) => (state.received = Buffer.concat([state.received, d])))
    s.on('error', () => {})
  })
  server.on('connection', (raw: Socket) => {
    state.connections++
    sockets.add(raw)
    raw.on('close', () => state.closed++)
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { state, url: `https://127.0.0.1:${(server.address() as { port: number }).port}/announce` }
}

/** A TCP relay to `port` that keeps every byte each way. */
async function recordingRelay(t: ExecutionContext, port: number) {
  const captured = { up: [] as Buffer[], down: [] as Buffer[] }
  const sockets = new Set<Socket>()
  const server = createNetServer((client) => {
    const upstream = netConnect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (d: Buffer) => {
      captured.up.push(d)
      upstream.write(d)
    })
    upstream.on('data', (d: Buffer) => {
      captured.down.push(d)
      client.write(d)
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { captured, url: `https://127.0.0.1:${(server.address() as { port: number }).port}/announce` }
}

/** The DER of the certificate a TLS server at `port` presents. */
function serverCertificate(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.raw)
      s.destroy()
    })
    s.on('error', reject)
  })
}

const opts = () => ({ infoHash: newInfoHash(), peerId: newPeerId(), port: 6881 })

test('announces go over TLS 1.3 to a tracker whose key is a device on the roster, and are admitted', async (t) => {
  const { roster, laptop, pc } = makeCircle()
  const { tracker, url, port } = await startTracker(t, { roster, deviceSeed: pc.key.seed })
  t.deepEqual(tracker.publicKey, pc.key.publicKey, 'the TLS key is the device key of the device running it')
  const o = opts()
  const res = await announce(url, { ...o, event: 'started', signer: laptop.signer, roster })
  t.deepEqual(res.peers, [{ host: '127.0.0.1', port: 6881 }])
  t.like(tracker.stats(), { admitted: 1, peers: 1 })

  const protocol = await new Promise<string | null>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getProtocol())
      s.destroy()
    })
    s.on('error', reject)
  })
  t.is(protocol, 'TLSv1.3')
  const tls12 = await new Promise<Error | undefined>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
      s.destroy()
      resolve(undefined)
    })
    s.on('error', resolve)
  })
  t.truthy(tls12, 'TLS 1.2 is refused')

  // An older djcloud with the https:// URL checks the certificate against CAs and fails at once.
  const old = await t.throwsAsync(announce(url, { ...opts(), timeoutMs: 5000 }), { instanceOf: AnnounceError })
  t.is(old?.code, 'ERR_TRACKER_UNREACHABLE')
  t.regex(old!.message, /self-signed certificate/)
})

test("a tracker whose key is a stranger's, or a revoked device's, is refused before any request byte reaches it", async (t) => {
  const { roster, laptop, pc, stranger } = makeCircle()

  const impostor = await recordingTlsServer(t, stranger.key.seed)
  const err = await t.throwsAsync(announce(impostor.url, { ...opts(), signer: laptop.signer, roster }), { instanceOf: AnnounceError })
  t.is(err?.code, 'ERR_TRACKER_IDENTITY')
  t.regex(err!.message, /^tracker 127\.0\.0\.1:\d+ is not one of this circle's devices \(.*\); nothing was sent$/)
  t.notRegex(err!.message, /\n/)
  await until(async () => (impostor.state.closed === 1 ? true : undefined))
  t.is(impostor.state.connections, 1, 'the client did connect: it refused the key it was shown')
  t.is(impostor.state.received.length, 0, 'not one request byte')

  // A throwaway key is no better.
  const throwaway = await recordingTlsServer(t)
  const err2 = await t.throwsAsync(announce(throwaway.url, { ...opts(), signer: laptop.signer, roster }), { instanceOf: AnnounceError })
  t.is(err2?.code, 'ERR_TRACKER_IDENTITY')
  await until(async () => (throwaway.state.closed === 1 ? true : undefined))
  t.is(throwaway.state.received.length, 0)

  // The pc runs a real tracker, then the roster revokes the pc: its tracker is refused.
  const { tracker, url } = await startTracker(t, { roster, deviceSeed: pc.key.seed })
  await announce(url, { ...opts(), signer: laptop.signer, roster })
  const revoked = revokeDevice(roster, pc.cert.device)
  const err3 = await t.throwsAsync(announce(url, { ...opts(), signer: laptop.signer, roster: revoked }), { instanceOf: AnnounceError })
  t.is(err3?.code, 'ERR_TRACKER_IDENTITY')
  const stats = tracker.stats()
  t.is(stats.admitted, 1)
  t.is(Object.values(stats.refusals).reduce((a, b) => a + b, 0), 0, 'the refused client sent no announce')
})

test('a captured announce is useless: it shows no certificate, infohash or peer id, and replayed it admits nobody', async (t) => {
  const { roster, laptop } = makeCircle()
  const { tracker, port } = await startTracker(t, { roster })
  const relay = await recordingRelay(t, port)
  const o = opts()
  const res = await announce(relay.url, { ...o, event: 'started', signer: laptop.signer, roster })
  t.deepEqual(res.peers, [{ host: '127.0.0.1', port: 6881 }], 'admitted through the relay')
  t.like(tracker.stats(), { admitted: 1, peers: 1 })
  const up = Buffer.concat(relay.captured.up)
  const all = Buffer.concat([up, ...relay.captured.down])
  t.true(up.length > 0 && all.length > up.length)

  // Nothing an observer could read: the device certificate (raw, as sent in
  // the query, or inside the tracker's TLS certificate), the infohash and the
  // peer id in every form they take on the wire.
  const certificate = Buffer.from(encodeCertificate(laptop.cert))
  const needles: Array<[string, Buffer]> = [
    ['device certificate', certificate],
    ['device certificate, base64url', Buffer.from(certificate.toString('base64url'))],
    ['device key', Buffer.from(laptop.key.publicKey)],
    ["the tracker's TLS certificate", await serverCertificate(port)],
    ['infohash', o.infoHash],
    ['infohash, percent-encoded', Buffer.from(percentEncodeBytes(o.infoHash))],
    ['infohash, hex', Buffer.from(o.infoHash.toString('hex'))],
    ['peer id', o.peerId],
    ['peer id, percent-encoded', Buffer.from(percentEncodeBytes(o.peerId))],
    ['the proof parameter names', Buffer.from('dj_cert')],
  ]
  for (const [what, needle] of needles) t.false(all.includes(needle), `${what} is not in the capture`)

  // Replaying the client's bytes on a new connection: the TLS handshake they
  // belong to cannot be finished again, so nothing reaches admission.
  const replay = netConnect(port, '127.0.0.1')
  const answer: Buffer[] = []
  replay.on('data', (d: Buffer) => answer.push(d))
  replay.on('error', () => {})
  const closed = new Promise<void>((resolve) => replay.on('close', () => resolve()))
  replay.write(up)
  await closed
  const stats = tracker.stats()
  t.is(stats.admitted, 1, 'the replay admitted nobody')
  t.is(stats.peers, 1)
  t.is(Object.values(stats.refusals).reduce((a, b) => a + b, 0), 0, 'it did not even reach admission')
  const back = Buffer.concat(answer)
  t.false(back.includes(Buffer.from('peers')), 'no peer list came back')
  t.false(back.includes(Buffer.from([127, 0, 0, 1, 0x1a, 0xe1])), 'no compact peer came back')
})

test('an older client announcing plain HTTP to the TLS port is refused with a reason at once; a new one sends nothing over plain HTTP', async (t) => {
  const { roster, laptop } = makeCircle()
  const { tracker, port } = await startTracker(t, { roster })
  const plainUrl = `http://127.0.0.1:${port}/announce`
  // The wire bytes of an older djcloud: a signed announce as a plain GET.
  const started = Date.now()
  const err = await t.throwsAsync(announce(plainUrl, { ...opts(), event: 'started', signer: laptop.signer, allowPlainHttp: true, timeoutMs: 20_000 }), { instanceOf: AnnounceError })
  t.is(err?.code, 'ERR_TRACKER_REFUSED')
  t.is(err?.reason, PLAIN_HTTP_REFUSED)
  t.regex(err!.reason!, /TLS only.*update djcloud/)
  t.true(Date.now() - started < 10_000, 'answered, not left to time out')
  t.like(tracker.stats(), { admitted: 0, peers: 0 })

  // This client will not send a proof to a plain http:// URL at all.
  const sniffed: Buffer[] = []
  const plain = createNetServer((s) => {
    s.on('data', (d: Buffer) => sniffed.push(d))
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => plain.close(() => resolve())))
  const insecure = await t.throwsAsync(
    announce(`http://127.0.0.1:${(plain.address() as { port: number }).port}/announce`, { ...opts(), signer: laptop.signer }),
    { instanceOf: AnnounceError },
  )
  t.is(insecure?.code, 'ERR_TRACKER_INSECURE')
  t.is(sniffed.length, 0)
})

test('a connection that stays silent, or a plain request that never ends its head, is closed after the handshake timeout', async (t) => {
  const { roster } = makeCircle()
  const { port } = await startTracker(t, { roster, handshakeTimeoutMs: 300 })
  const closedAfter = async (write?: string) => {
    const started = Date.now()
    const s = netConnect(port, '127.0.0.1')
    s.on('error', () => {})
    if (write) s.write(write)
    await new Promise<void>((resolve) => s.on('close', () => resolve()))
    return Date.now() - started
  }
  t.true(await closedAfter() < 5_000, 'silent')
  t.true(await closedAfter('GET /announce?info_hash=') < 5_000, 'a plain request head never finished')
  t.true(await closedAfter('\x16\x03\x01') < 5_000, 'a TLS handshake never finished')
})
