// Reaching an own device that cannot be dialled (docs/reach.md): a hole
// punch brokered by a device both are linked to, else a circuit through a
// relay device; a track's wires then take the same path. On loopback no NAT
// is in the way: these tests check the protocol (who asks whom, the proofs,
// what the relay admits); test/lab/nat.test.ts checks real NATs.
import test, { type ExecutionContext } from 'ava'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import type { Swarm, SwarmOptions } from '../../src/swarm/index.ts'
import { openCircuit } from '../../src/reach/index.ts'

/** Circle relay, home, laptop: home and laptop each linked to the relay, not to each other. */
async function triangle(t: ExecutionContext, opts: { relay?: Partial<SwarmOptions>; ends?: Partial<SwarmOptions> } = {}) {
  const c = makeCircle(['relay', 'home', 'laptop'])
  const dir = await tempDir(t)
  const relay = await startSwarm(t, c, 0, dir, { relay: true, ...opts.relay })
  const home = await startSwarm(t, c, 1, dir, opts.ends)
  const laptop = await startSwarm(t, c, 2, dir, opts.ends)
  for (const s of [home, laptop]) await s.connectDevice('127.0.0.1', relay.port)
  await until(async () => (relay.devices.online().length === 2 ? true : undefined))
  const deviceOf = (i: number) => Buffer.from(c.devices[i]!.key.publicKey).toString('hex')
  return { c, dir, relay, home, laptop, homeKey: deviceOf(1), laptopKey: deviceOf(2) }
}

async function fetchThrough(t: ExecutionContext, from: Swarm, to: Swarm, dir: string, circleSecret: Uint8Array): Promise<Buffer> {
  const { path, bytes, meta } = await randomTrackFile(dir, 3_000_000, circleSecret)
  from.offer(meta, path)
  const got = await to.fetch(meta.sha256)
  t.is(createHash('sha256').update(await readFile(got.path)).digest('hex'), meta.sha256)
  return bytes
}

test('on loopback no NAT holds a SYN, so the punch finds no path; the relay takes over and the track comes through it', async (t) => {
  const { dir, c, relay, home, laptop, homeKey } = await triangle(t, { ends: { punchTimeoutMs: 500 } })
  const link = await laptop.reachDevice(homeKey)
  t.is(link.path, 'relayed')
  t.is(link.via, Buffer.from(c.devices[0]!.key.publicKey).toString('hex'))
  const back = await until(async () => home.devices.online().find((l) => l.device !== link.via))
  t.is(back.path, 'relayed', 'the reached side knows the path too')
  await until(async () => (link.rttMs !== undefined ? true : undefined))
  const before = relay.paths.relayServer.stats.bytes
  await fetchThrough(t, home, laptop, dir, c.circleSecret)
  t.true(relay.paths.relayServer.stats.bytes - before > 3_000_000, 'the track passed through the relay')
})

test('with punches off, a relay circuit links the two; the track comes through the relay, and the relay counts the bytes', async (t) => {
  const seen: Buffer[] = []
  const { dir, c, relay, home, laptop, homeKey } = await triangle(t, { ends: { punch: false }, relay: { relayTap: (chunk) => seen.push(Buffer.from(chunk)) } })
  const link = await laptop.reachDevice(homeKey)
  t.is(link.path, 'relayed')
  const before = relay.paths.relayServer.stats.bytes
  const bytes = await fetchThrough(t, home, laptop, dir, c.circleSecret)
  const all = Buffer.concat(seen)
  t.true(all.length > bytes.length, 'the relay saw the transfer')
  for (let off = 0; off < bytes.length; off += 100_003) t.is(all.indexOf(bytes.subarray(off, off + 64)), -1, 'the relay saw no track bytes: only the ends\' ciphertext')
  t.true(relay.paths.relayServer.stats.bytes - before > 3_000_000, 'the track passed through the relay')
  t.true(relay.paths.relayServer.stats.circuits >= 2, 'the device link and the track wire each had a circuit')
})

test('a device that does not relay refuses circuits, and the reason says so in one line', async (t) => {
  const { laptop, homeKey } = await triangle(t, { relay: { relay: false }, ends: { punch: false } })
  const err = await t.throwsAsync(laptop.reachDevice(homeKey))
  t.is((err as { code?: string }).code, 'ERR_UNREACHABLE')
  t.regex(err!.message, /no linked device relays/)
  const second = await triangle(t, { relay: { relay: false }, ends: { punchTimeoutMs: 300 } })
  const punched = await t.throwsAsync(second.laptop.reachDevice(second.homeKey))
  t.regex(punched!.message, /no direct path \(this device: no NAT \(127\.0\.0\.1\)/, 'the punch says what it found of the NATs')
  t.notRegex(err!.message, /\n/)
})

test('the relay admits own devices; a stranger is refused, and a friend only within the quota its owner was given', async (t) => {
  const { c, dir, relay, home, homeKey } = await triangle(t, { relay: { relayFriendBytes: 50_000 } })
  const others = makeCircle(['fiona-pc'])
  const fiona = await startSwarm(t, others, 0, dir)
  const asFiona = () => openCircuit('127.0.0.1', relay.port, homeKey, (b, p) => fiona.paths.prove(b, p))
  t.regex((await t.throwsAsync(asFiona()))!.message, /refused: .*unknown-owner/, 'a stranger gets no circuit')
  c.roster = { ...c.roster, friends: [{ owner: others.owner.publicKey, name: 'Fiona', added: Date.now() }] }
  const circuit = await asFiona()
  // The circuit reaches home's link server: fiona's device may now speak to it (what it may fetch is home's to decide).
  circuit.write(Buffer.alloc(80_000))
  await until(async () => (circuit.destroyed ? true : undefined))
  t.true(relay.paths.relayServer.stats.bytes >= 50_000, 'the quota was used')
  t.regex((await t.throwsAsync(asFiona()))!.message, /quota for your devices is used up/)
  // The own device still gets its circuits.
  const own = await openCircuit('127.0.0.1', relay.port, homeKey, (b, p) => home.paths.prove(b, p)).catch((err: Error) => err)
  t.regex(String((own as Error).message ?? ''), /nothing to relay/, 'home asking for itself: refused for that reason only')
})

/** Alex's circle (pc, laptop) sharing on `channel` with Fiona's device, who is linked to Alex's pc only. */
async function friendAtRelay(t: ExecutionContext, relayFriendBytes: number) {
  const alex = makeCircle(['alex-pc', 'alex-laptop'])
  const fiona = makeCircle(['fiona-pc'])
  alex.roster = { ...alex.roster, friends: [{ owner: fiona.owner.publicKey, name: 'Fiona', added: Date.now() }] }
  fiona.roster = { ...fiona.roster, friends: [{ owner: alex.owner.publicKey, name: 'Alex', added: Date.now() }] }
  const channel = Buffer.alloc(20, 7)
  const fionaOwner = Buffer.from(fiona.owner.publicKey).toString('hex')
  const alexOwner = Buffer.from(alex.owner.publicKey).toString('hex')
  // Alex shares on `channel` with Fiona: that is all Alex's devices let her reach.
  const sharing = { channelFor: (ih: string) => (ih === channel.toString('hex') ? fionaOwner : undefined), allows: () => false, answer: async () => null, blob: async () => undefined }
  const dir = await tempDir(t)
  const pc = await startSwarm(t, alex, 0, dir, { relay: true, relayFriendBytes, sharing })
  const laptop = await startSwarm(t, alex, 1, dir, { sharing })
  await laptop.connectDevice('127.0.0.1', pc.port)
  const fionaPc = await startSwarm(t, fiona, 0, join(dir, 'f'))
  const atPc = await fionaPc.connectFriend('127.0.0.1', pc.port, channel, alexOwner)
  return { channel, alexOwner, laptop, fionaPc, atPc, laptopKey: Buffer.from(alex.devices[1]!.key.publicKey).toString('hex') }
}

test('a friend\'s device reaches the owner\'s other device through the owner\'s relay only when the owner opted in for friends', async (t) => {
  const opted = await friendAtRelay(t, 10_000_000)
  t.true(opted.atPc.relays, 'the relay says so in its hello on the share channel')
  const link = await opted.fionaPc.connectFriendVia(opted.atPc, opted.laptopKey, opted.channel, opted.alexOwner)
  t.is(link.path, 'relayed')
  t.is(link.device, opted.laptopKey)
  await until(async () => (opted.laptop.friends.online().length === 1 ? true : undefined))

  const not = await friendAtRelay(t, 0)
  t.false(not.atPc.relays, 'no opt-in: the hello does not offer relaying')
  const err = await t.throwsAsync(not.fionaPc.connectFriendVia(not.atPc, not.laptopKey, not.channel, not.alexOwner))
  t.regex(err!.message, /relays only for its own devices/)
  t.is(not.laptop.friends.online().length, 0)
})
