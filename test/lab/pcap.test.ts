// The NAT lab's capture reader (test/helpers/wan-lab/pcap.ts): TCP and UDP
// payloads of a pcap in order, nothing from other frames, padding and IP
// options respected, and a clear error for what is not a pcap. Needs no root.
import test from 'ava'
import { packetPayloads } from '../helpers/wan-lab/index.ts'

/** An Ethernet + IPv4 frame carrying `l4` (protocol `proto`), with `pad` bytes of Ethernet padding after it. */
function ipv4Frame(proto: number, l4: Buffer, opts: { ihlWords?: number; pad?: number; fragmentOffset?: number } = {}): Buffer {
  const ihl = (opts.ihlWords ?? 5) * 4
  const ip = Buffer.alloc(ihl)
  ip[0] = 0x40 | (ihl / 4)
  ip.writeUInt16BE(ihl + l4.length, 2)
  ip.writeUInt16BE(opts.fragmentOffset ?? 0, 6)
  ip[9] = proto
  const eth = Buffer.alloc(14)
  eth.writeUInt16BE(0x0800, 12)
  return Buffer.concat([eth, ip, l4, Buffer.alloc(opts.pad ?? 0, 0xee)])
}

const tcp = (payload: string, dataOffsetWords = 5) => {
  const h = Buffer.alloc(dataOffsetWords * 4)
  h[12] = dataOffsetWords << 4
  return Buffer.concat([h, Buffer.from(payload)])
}
const udp = (payload: string) => Buffer.concat([Buffer.alloc(8), Buffer.from(payload)])

function pcap(frames: Buffer[], linkType = 1): Buffer {
  const head = Buffer.alloc(24)
  head.writeUInt32LE(0xa1b2c3d4, 0)
  head.writeUInt16LE(2, 4)
  head.writeUInt16LE(4, 6)
  head.writeUInt32LE(262_144, 16)
  head.writeUInt32LE(linkType, 20)
  return Buffer.concat([head, ...frames.flatMap((f) => {
    const rec = Buffer.alloc(16)
    rec.writeUInt32LE(f.length, 8)
    rec.writeUInt32LE(f.length, 12)
    return [rec, f]
  })])
}

test('TCP and UDP payloads in capture order; handshakes, padding, options, ARP and fragments add nothing', (t) => {
  const arp = Buffer.alloc(42)
  arp.writeUInt16BE(0x0806, 12)
  const frames = [
    ipv4Frame(6, tcp('')), // a SYN
    ipv4Frame(6, tcp('one,', 8)), // TCP options
    arp,
    ipv4Frame(17, udp('two,'), { ihlWords: 6 }), // IP options
    ipv4Frame(6, tcp('x'), { pad: 5 }), // a short frame, padded to Ethernet's minimum
    ipv4Frame(17, udp('tail of a fragment'), { fragmentOffset: 185 }),
    ipv4Frame(1, Buffer.from('icmp echo')),
  ]
  t.is(packetPayloads(pcap(frames)).toString(), 'one,two,x')
})

test('what is not a readable pcap is refused with a clear error', (t) => {
  t.throws(() => packetPayloads(Buffer.from('short')), { message: /not a pcap file: shorter than its header/ })
  t.throws(() => packetPayloads(Buffer.alloc(64, 1)), { message: /not a pcap file/ })
  t.throws(() => packetPayloads(pcap([], 228)), { message: /pcap link type 228 is not read/ })
})
