// Issue 13: every peer connection is an encrypted link, authentication is
// bound to it, and devices of older (plaintext) versions are refused with a
// clear reason, not a hang. Real swarms, real sockets on loopback.
import test, { type ExecutionContext } from 'ava'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { readFile } from 'node:fs/promises'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { createLinkServer, dialLink, LINK_ALPN, LinkError, selfSignedCertificate } from '../../src/link/index.ts'
import { authenticate, SessionError } from '../../src/swarm/index.ts'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { listening, refusals } from '../helpers/link.ts'

const MB = 1024 * 1024


test('authentication outside an encrypted link fails on both sides: nothing authenticates over plain TCP by accident', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const infoHash = randomBytes(20)
  /** Listens on plain TCP; the dialler sends its proof over it with the given binding (or none). */
  const run = async (dialBinding?: () => Uint8Array) => {
    let server!: Promise<string>
    const port = await listening(t, createServer((sock) => {
      server = authenticate(sock, { credentials: c.devices[0]!.credentials, roster: () => c.roster, accept: () => ({}) }).then(() => 'authenticated', (err: SessionError) => err.reason)
    }))
    const sock = connect(port, '127.0.0.1')
    sock.on('error', () => {})
    const dialler = await authenticate(sock, { credentials: c.devices[1]!.credentials, roster: () => c.roster, infoHash, binding: dialBinding }).then(() => 'authenticated', (err: SessionError) => err.reason)
    return { dialler, server: await until(async () => server, 5_000).then((p) => p) }
  }
  // The dialler will not sign a proof without a link to bind it to.
  t.like(await run(), { dialler: 'not an encrypted link' })
  // Nor will the answering side check one (a peer that made up a binding).
  t.deepEqual(await run(() => randomBytes(32)), { dialler: 'connection closed', server: 'not an encrypted link' })
})

test('a device of a later link version is told apart from a broken one, both ways', async (t) => {
  const creds = await selfSignedCertificate()
  const later = createTlsServer({ key: creds.key, cert: creds.cert, minVersion: 'TLSv1.3', ALPNProtocols: ['djcloud-link/3'] })
  later.on('tlsClientError', () => {})
  const port = await listening(t, later)
  await t.throwsAsync(dialLink('127.0.0.1', port), { message: `peer 127.0.0.1:${port}: the peer speaks another djcloud link version (this device speaks ${LINK_ALPN})` })

  const reasons: string[] = []
  const server = await createLinkServer(() => t.fail('a link of another version came through'), { onRefused: (_h, reason) => reasons.push(reason) })
  const ours = await listening(t, server)
  const { connect: tlsConnect } = await import('node:tls')
  const s = tlsConnect({ port: ours, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['djcloud-link/3'] })
  s.on('error', () => {})
  await new Promise((resolve) => s.once('close', resolve))
  t.deepEqual(reasons, [`the peer speaks another djcloud link version (this device speaks ${LINK_ALPN})`])
})

test('a TLS client that offers no link protocol at all is dropped after its handshake, before any BitTorrent byte', async (t) => {
  const reasons: string[] = []
  const server = await createLinkServer(() => t.fail('reached the link handler'), { onRefused: (_h, reason) => reasons.push(reason) })
  const port = await listening(t, server)
  const { connect: tlsConnect } = await import('node:tls')
  const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false })
  s.on('error', () => {})
  await new Promise((resolve) => s.once('close', resolve))
  t.deepEqual(reasons, [`not a djcloud link: no ${LINK_ALPN} offered`])
})

test('a TLS handshake that never finishes is dropped at the handshake deadline', async (t) => {
  const reasons: string[] = []
  const server = await createLinkServer(() => t.fail('reached the link handler'), { handshakeTimeoutMs: 200, onRefused: (_h, reason) => reasons.push(reason) })
  const port = await listening(t, server)
  const sock = connect(port, '127.0.0.1')
  sock.on('error', () => {})
  const t0 = Date.now()
  await once(sock, 'close')
  t.true(Date.now() - t0 < 3_000)
  t.deepEqual(reasons, ['the encrypted handshake did not finish in time'])
})

/**
 * A relay in the middle that terminates TLS on each side (it answers the
 * dialler as a link server and dials the real device) and passes everything
 * between them in clear: the strongest position a stranger on the path can
 * take. Records what it saw.
 */
async function terminatingRelay(t: ExecutionContext, targetPort: number): Promise<{ port: number; seen: Buffer[] }> {
  const seen: Buffer[] = []
  const server = await createLinkServer((front: TLSSocket) => {
    front.on('error', () => {})
    front.pause()
    void dialLink('127.0.0.1', targetPort).then(
      (back) => {
        back.on('error', () => {})
        front.on('data', (d: Buffer) => (seen.push(d), back.write(d)))
        back.on('data', (d: Buffer) => (seen.push(d), front.write(d)))
        front.on('close', () => back.destroy())
        back.on('close', () => front.destroy())
        front.resume()
      },
      () => front.destroy(),
    )
  })
  const port = await listening(t, server)
  return { port, seen }
}

test('a proof relayed by someone terminating TLS in the middle is refused: each side signed its own link', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir)
  const laptop = await startSwarm(t, c, 1, dir)
  const refused = refusals(home)
  const relay = await terminatingRelay(t, home.port)
  await t.throwsAsync(laptop.connectDevice('127.0.0.1', relay.port))
  const r = await until(async () => refused[0], 5_000)
  t.is(r.reason, 'bad-signature')
  // The relay saw the session in clear (it holds both TLS sessions): the search below would find a handshake there.
  t.true(Buffer.concat(relay.seen).includes(Buffer.from('BitTorrent protocol')))
  t.is(home.devices.online().length, 0)
  t.is(laptop.devices.online().length, 0)
  // The same two devices link directly.
  const link = await laptop.connectDevice('127.0.0.1', home.port)
  t.is(link.session.peer.certificate.name, 'home')
})

/**
 * A passive observer: a TCP relay on another loopback address with the same
 * port number as the device (so the track's torrent, dialled at the address
 * the device link came from and the port its hello gave, passes it too).
 * Records every byte each way.
 */
async function tap(t: ExecutionContext, port: number): Promise<{ host: string; bytes: () => Buffer; connections: () => number }> {
  const chunks: Buffer[] = []
  let connections = 0
  const host = '127.0.0.2'
  const open = new Set<Socket>()
  const server = createServer((front) => {
    connections++
    const back = connect(port, '127.0.0.1')
    for (const s of [front, back]) {
      open.add(s)
      s.on('error', () => {})
      s.on('close', () => (open.delete(s), front.destroy(), back.destroy()))
    }
    front.on('data', (d: Buffer) => (chunks.push(Buffer.from(d)), back.write(d)))
    back.on('data', (d: Buffer) => (chunks.push(Buffer.from(d)), front.write(d)))
  })
  await listening(t, server, host, port)
  t.teardown(() => open.forEach((s) => s.destroy())) // before the server's close, which waits for them (teardowns run last first)
  return { host, bytes: () => Buffer.concat(chunks), connections: () => connections }
}

test('a passive observer of a track and a manifest moving between two devices sees none of their bytes, no certificate and no infohash', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 3 * MB + 777, c.circleSecret)
  const manifest = Buffer.from(JSON.stringify({ tracks: Array.from({ length: 200 }, (_, i) => ({ title: `Track number ${i}`, bpm: 120 + i / 10 })) }))
  const manifestId = createHash('sha256').update(manifest).digest('hex')
  const home = await startSwarm(t, c, 0, dir, { blob: async (id) => (id === manifestId ? manifest : undefined) })
  home.offer(meta, path)
  const laptop = await startSwarm(t, c, 1, dir)
  const observer = await tap(t, home.port)

  const link = await laptop.connectDevice(observer.host, home.port)
  t.is(link.session.peer.certificate.name, 'home')
  const blob = await laptop.devices.fetchBlob(manifestId)
  t.true(blob?.data.equals(manifest), 'the manifest arrived through the observer')
  const got = await laptop.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes), 'the track arrived')
  t.true(observer.connections() >= 2, 'the device link and the track torrent both passed the observer')

  const seen = observer.bytes()
  t.true(seen.length > meta.size, `the observer saw ${seen.length} bytes: the whole transfer went through it`)
  for (const at of [0, 1 * MB + 3, Math.floor(meta.size / 2), meta.size - 64]) {
    t.false(seen.includes(bytes.subarray(at, at + 64)), `64 track bytes at ${at} are visible`)
  }
  for (const at of [0, Math.floor(manifest.length / 2), manifest.length - 64]) {
    t.false(seen.includes(manifest.subarray(at, at + 64)), `64 manifest bytes at ${at} are visible`)
  }
  t.false(seen.includes(Buffer.from('BitTorrent protocol')), 'the BitTorrent handshake is visible')
  t.false(seen.includes(meta.infoHash), 'the infohash is visible')
  t.false(seen.includes(Buffer.from(c.devices[0]!.key.publicKey)), "home's device key is visible")
  t.false(seen.includes(Buffer.from(c.devices[1]!.key.publicKey)), "the laptop's device key is visible")
  t.false(seen.includes(Buffer.from(c.owner.publicKey)), 'the owner key is visible')
})
