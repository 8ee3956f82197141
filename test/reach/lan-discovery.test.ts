// LAN discovery's receive path over a real UDP socket on 127.0.0.1 (packets
// sent by unicast to its port: no multicast needed here; the two-device
// multicast test runs in network namespaces, test/lab/lan.test.ts). A packet
// of this circle is handed on once; replayed, stale, forged (another circle's,
// or bytes flipped) and wrong-sized ones are dropped silently and counted.
import test from 'ava'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { LanDiscovery, lanKey, sealLanPacket, openLanPacket, LAN_PACKET_BYTES, type LanStats } from '../../src/reach/index.ts'
import { until } from '../helpers/until.ts'

const secret = randomBytes(32)
const other = randomBytes(32)

async function receiver(t: import('ava').ExecutionContext, now: () => number) {
  const peers: Array<{ host: string; port: number }> = []
  const lan = new LanDiscovery({
    circleSecret: secret, peerPort: () => 7461, onPeer: (a) => peers.push(a), port: 0, bindHost: '127.0.0.1', interfaces: () => [], burstMs: [], intervalMs: 60_000, windowMs: 10_000, now,
  })
  t.teardown(() => lan.stop())
  await lan.start()
  const sock = createSocket('udp4')
  sock.bind(0, '127.0.0.1')
  await once(sock, 'listening')
  t.teardown(() => sock.close())
  const handled = (s: LanStats) => s.accepted + s.size + s.forged + s.stale + s.replayed + s.self
  /** Sends one datagram and waits until the receiver has dealt with it. */
  const send = async (packet: Uint8Array) => {
    const before = handled(lan.stats())
    sock.send(packet, lan.port, '127.0.0.1')
    await until(async () => (handled(lan.stats()) > before ? true : undefined), 10_000, 5)
  }
  return { lan, peers, send }
}

test('a packet of the circle is handed on once; replays, stale, forged and wrong-sized packets are dropped and counted', async (t) => {
  let clock = 1_800_000_000_000
  const { lan, peers, send } = await receiver(t, () => clock)
  const key = lanKey(secret)
  const good = sealLanPacket(key, { kind: 'announce', time: clock, port: 50_001 })
  await send(good)
  t.deepEqual(peers, [{ host: '127.0.0.1', port: 50_001 }])

  // The same bytes again (a guest recorded them): ignored, now and later within the window.
  await send(good)
  clock += 9_000
  await send(good)
  t.is(peers.length, 1)

  // A fresh packet whose time is outside the window either way: stale.
  await send(sealLanPacket(key, { kind: 'announce', time: clock - 10_001, port: 50_002 }))
  await send(sealLanPacket(key, { kind: 'announce', time: clock + 10_001, port: 50_003 }))
  // Another circle's packet, one with a flipped bit, one made up: forged.
  await send(sealLanPacket(lanKey(other), { kind: 'announce', time: clock, port: 50_004 }))
  const flipped = Buffer.from(sealLanPacket(key, { kind: 'announce', time: clock, port: 50_005 }))
  flipped[20]! ^= 1
  await send(flipped)
  await send(randomBytes(LAN_PACKET_BYTES))
  // Too long (a valid packet with bytes after it), too short, empty-ish: size.
  await send(Buffer.concat([sealLanPacket(key, { kind: 'announce', time: clock, port: 50_006 }), Buffer.alloc(1)]))
  await send(Buffer.alloc(1400))
  await send(Buffer.alloc(1))
  t.is(peers.length, 1)

  // A query of the circle, fresh: handed on.
  await send(sealLanPacket(key, { kind: 'query', time: clock, port: 50_007 }))
  t.deepEqual(peers.map((p) => p.port), [50_001, 50_007])
  t.like(lan.stats(), { accepted: 2, replayed: 2, stale: 2, forged: 3, size: 3 })
})

test('a packet is 39 bytes with nothing stable in it: two of one device at one time and port differ in nonce and box', (t) => {
  const key = lanKey(secret)
  const a = sealLanPacket(key, { kind: 'announce', time: 1_800_000_000_000, port: 7461 })
  const b = sealLanPacket(key, { kind: 'announce', time: 1_800_000_000_000, port: 7461 })
  t.is(a.length, LAN_PACKET_BYTES)
  // Same device, same time, same port: the bytes still differ everywhere a guest could key on (nonce, box, tag).
  t.false(a.subarray(0, 12).equals(b.subarray(0, 12)))
  t.false(a.subarray(12).equals(b.subarray(12)))
  t.like(openLanPacket(key, a), { kind: 'announce', port: 7461, time: 1_800_000_000_000 })
  t.is(openLanPacket(lanKey(other), a), 'forged')
  t.throws(() => sealLanPacket(key, { kind: 'announce', time: 0, port: 0 }), { instanceOf: RangeError })
})
