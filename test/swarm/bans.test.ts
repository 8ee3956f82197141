// Bans by what failed (docs/swarm.md, "Bans"), with real devices on
// 127.0.0.1 playing one NAT's public address: the ban list's loopback
// exemption is off (`exemptLoopback: false`), so every device here shares the
// address a misbehaving stranger or device comes from, as a household does
// behind its router. A second loopback address (127.0.0.2) plays another
// address of the same bad device.
import test from 'ava'
import { connect, type TLSSocket } from 'node:tls'
import { connect as tcpConnect } from 'node:net'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { refusals } from '../helpers/link.ts'
import { until } from '../helpers/until.ts'
import { authenticate } from '../../src/swarm/index.ts'
import { dialLink, LINK_ALPN } from '../../src/link/index.ts'
import type { TestCircle } from '../helpers/circle.ts'
import { revokeDevice } from '../../src/identity/index.ts'

const MB = 1024 * 1024
const NAT = { exemptLoopback: false }

/** A TLS link to `port` leaving from `localAddress`: the same device at another address. */
async function linkFrom(localAddress: string, port: number): Promise<TLSSocket> {
  const tcp = tcpConnect({ port, host: '127.0.0.1', localAddress })
  tcp.on('error', () => {})
  const sock = connect({ socket: tcp, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [LINK_ALPN] })
  sock.on('error', () => {})
  await once(sock, 'secureConnect')
  return sock
}

/** Device `i` of `c` proving itself on `channel` at `port` over `sock`: the session, or the reason it was refused. */
function proveOn(sock: TLSSocket, c: TestCircle, i: number, channel: Buffer, port: number): Promise<unknown> {
  return authenticate(sock, { credentials: c.devices[i]!.credentials, roster: () => c.roster, infoHash: channel, remote: { host: '127.0.0.1', port } })
}

test('a stranger behind the same address fails its proofs until the address is throttled; an own device there still links and fetches', async (t) => {
  const c = makeCircle(['home', 'laptop', 'phone'])
  const strangers = makeCircle(['stranger'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 2 * MB, c.circleSecret)
  const home = await startSwarm(t, c, 0, dir, { bans: NAT })
  home.offer(meta, path)
  const refused = refusals(home)
  // A stranger that guesses at channels, then one holding the track's .torrent (its infohash) with a key of its own.
  const stranger = await startSwarm(t, strangers, 0, dir)
  await t.throwsAsync(stranger.connectDevice('127.0.0.1', home.port))
  for (let i = 0; i < 2; i++) await t.throwsAsync(proveOn(await linkFrom('127.0.0.1', home.port), strangers, 0, meta.infoHash, home.port))
  await until(async () => (refused.length >= 3 ? true : undefined))
  t.deepEqual(refused.map((r) => r.reason), ['asked for an infohash not served here', 'unknown-owner', 'unknown-owner'])
  t.is(home.banStats.throttledAddresses, 1) // 127.0.0.1: the stranger's and the laptop's address

  const laptop = await startSwarm(t, c, 1, dir)
  await laptop.connectDevice('127.0.0.1', home.port)
  const got = await laptop.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
  t.deepEqual(Object.keys(got.sources), ['home'])

  // Our own dials are never refused by our ban list: home reaches a device at the address it throttles.
  const phone = await startSwarm(t, c, 2, dir)
  const link = await home.connectDevice('127.0.0.1', phone.port)
  t.is(link.name, 'phone')
})

test('a device sending bad pieces is banned by its key: another device at its address still links and fetches, and the key is refused from another address', async (t) => {
  const c = makeCircle(['home', 'liar', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 8 * MB, c.circleSecret)
  const bad = Buffer.from(bytes)
  for (let at = 0; at < bad.length; at += meta.pieceLength) bad[at]! ^= 0xff // every piece damaged
  const badPath = join(dir, 'damaged.bin')
  await writeFile(badPath, bad)
  const [home, liar] = await Promise.all([0, 1].map((i) => startSwarm(t, c, i, dir)))
  home!.offer(meta, path)
  liar!.offer(meta, badPath)
  const laptop = await startSwarm(t, c, 2, dir, { bans: NAT })
  const refused = refusals(laptop)
  await laptop.connectDevice('127.0.0.1', home!.port)
  await laptop.connectDevice('127.0.0.1', liar!.port)
  const got = await laptop.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
  t.like(laptop.banStats, { bannedIdentities: 1, throttledAddresses: 0 })

  // home, at the same address, still gets in (it dials the laptop now)
  const back = await home!.connectDevice('127.0.0.1', laptop.port)
  t.is(back.name, 'laptop')
  // the liar's key is refused, from its address and from another one
  for (const from of ['127.0.0.1', '127.0.0.2']) {
    await t.throwsAsync(proveOn(await linkFrom(from, laptop.port), c, 1, laptop.channel, laptop.port))
    await until(async () => refused.find((r) => r.host === from && r.reason === 'banned'))
  }
  // the laptop's next fetch of another track does not ask the liar either, and home serves it
  const second = await randomTrackFile(dir, 1 * MB, c.circleSecret)
  home!.offer(second.meta, second.path)
  liar!.offer(second.meta, second.path)
  const again = await laptop.fetch(second.meta.sha256)
  t.deepEqual(Object.keys(again.sources), ['home'])
  t.is(laptop.banStats.throttledAddresses, 0)
})

test('a stranger hammering the port gets a bounded number of handshakes per window and no content byte; an own device at its address links in the next window', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const strangers = makeCircle(['stranger'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 1 * MB, c.circleSecret)
  let clock = 1_000_000
  const WINDOW = 60_000
  const home = await startSwarm(t, c, 0, dir, { bans: { ...NAT, now: () => clock, throttleHandshakes: 2, throttleWindowMs: WINDOW } })
  home.offer(meta, path)
  const refused = refusals(home)

  let handshakes = 0
  const received: Buffer[] = []
  const attempt = async (): Promise<void> => {
    let sock: TLSSocket
    try {
      sock = await dialLink('127.0.0.1', home.port)
    } catch {
      return // closed before any TLS byte: throttled
    }
    handshakes++
    sock.on('data', (d: Buffer) => received.push(d))
    await authenticate(sock, { credentials: strangers.devices[0]!.credentials, roster: () => strangers.roster, infoHash: meta.infoHash, remote: { host: '127.0.0.1', port: home.port } }).then(
      () => t.fail('a stranger authenticated'),
      () => {},
    )
  }
  for (let i = 0; i < 3; i++) await attempt() // three failed proofs: throttled from here on
  await until(async () => (refused.length >= 3 ? true : undefined))
  t.is(handshakes, 3)
  t.true(home.banStats.throttledAddresses === 1)
  handshakes = 0
  await Promise.all(Array.from({ length: 40 }, attempt))
  t.is(handshakes, 2) // the window's budget, not 40
  t.like(home.banStats, { throttledAdmitted: 2, throttledRefused: 38 })
  // the two let through failed their proofs; the 38 closed at accept failed nothing and are not reported as failed handshakes
  t.deepEqual(refused.slice(3).map((r) => r.reason), ['unknown-owner', 'unknown-owner'])
  const all = Buffer.concat(received)
  for (let at = 0; at < bytes.length; at += 16 * 1024) t.is(all.indexOf(bytes.subarray(at, at + 32)), -1)

  // the next window: the laptop, at the same address, proves itself and fetches
  clock += WINDOW
  const laptop = await startSwarm(t, c, 1, dir)
  await laptop.connectDevice('127.0.0.1', home.port)
  const got = await laptop.fetch(meta.sha256)
  t.true((await readFile(got.path)).equals(bytes))
})

test('a connection from a throttled address that does not prove itself is closed after the short deadline', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir, { bans: NAT, throttledDeadlineMs: 200 })
  const refused = refusals(home)
  for (let i = 0; i < 3; i++) {
    const sock = await dialLink('127.0.0.1', home.port)
    sock.on('error', () => {})
    sock.write(Buffer.alloc(68, 'garbage, not a BitTorrent handshake '))
    await once(sock, 'close')
  }
  await until(async () => (home.banStats.throttledAddresses === 1 ? true : undefined))
  t.true(refused.every((r) => r.reason === 'protocol error: not a BitTorrent handshake'))
  const silent = await dialLink('127.0.0.1', home.port)
  silent.on('error', () => {})
  const started = performance.now()
  await once(silent, 'close')
  const ms = performance.now() - started
  t.true(ms < 2_500, `closed after ${Math.round(ms)} ms, not the 5 s proof deadline`)
})

test('a certificate replayed under a bad signature strikes the address, never the key it names', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir, { bans: NAT })
  const refused = refusals(home)
  // The stranger holds the laptop's certificate (a device shows it to whoever it dials) but not its key.
  const forger = { ...c, devices: [{ ...c.devices[1]!, credentials: { ...c.devices[1]!.credentials, deviceSeed: makeCircle(['x']).devices[0]!.key.seed } }] }
  for (let i = 0; i < 3; i++) await t.throwsAsync(proveOn(await linkFrom('127.0.0.1', home.port), forger, 0, home.channel, home.port))
  await until(async () => (refused.length >= 3 ? true : undefined))
  t.true(refused.every((r) => r.reason === 'bad-signature'))
  t.like(home.banStats, { throttledAddresses: 1, bannedIdentities: 0 })
  // the laptop itself, at that address and at another, still gets in
  const laptop = await startSwarm(t, c, 1, dir)
  t.is((await laptop.connectDevice('127.0.0.1', home.port)).name, 'home')
  await proveOn(await linkFrom('127.0.0.2', home.port), c, 1, home.channel, home.port)
})

test('a revoked device that proves its key strikes that key, not the address it shares with own devices', async (t) => {
  const c = makeCircle(['home', 'laptop', 'old tablet'])
  c.roster = revokeDevice(c.roster, c.devices[2]!.key.publicKey)
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir, { bans: { ...NAT, throttleHandshakes: 0 } })
  const refused = refusals(home)
  for (let i = 0; i < 3; i++) await t.throwsAsync(proveOn(await linkFrom('127.0.0.1', home.port), c, 2, home.channel, home.port))
  await until(async () => (refused.length >= 3 ? true : undefined))
  t.true(refused.every((r) => r.reason === 'revoked'))
  t.like(home.banStats, { throttledAddresses: 0, bannedIdentities: 1 })
  // not throttled at all (this list would give a throttled address no handshake): the laptop links at once
  const laptop = await startSwarm(t, c, 1, dir)
  t.is((await laptop.connectDevice('127.0.0.1', home.port)).name, 'home')
  // the tablet is still refused, from anywhere, and its address still not throttled
  await t.throwsAsync(proveOn(await linkFrom('127.0.0.2', home.port), c, 2, home.channel, home.port))
  await until(async () => (refused.length >= 4 ? true : undefined))
  t.like(refused[3], { host: '127.0.0.2', reason: 'revoked' })
  t.is(home.banStats.throttledAddresses, 0)
})
