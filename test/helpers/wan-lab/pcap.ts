// Reading what a lab capture saw: the TCP and UDP payloads of a pcap file
// (tcpdump -w), so a test can look for bytes that must not have crossed a
// host (a relay's capture holding no plaintext track bytes).

const LINKTYPE_ETHERNET = 1
const LINKTYPE_LINUX_SLL = 113 // tcpdump -i any (older)
const LINKTYPE_LINUX_SLL2 = 276 // tcpdump -i any
const LINKTYPE_RAW = 101

/** The TCP and UDP payloads of every IPv4 packet in a pcap file, concatenated in capture order. */
export function packetPayloads(pcap: Buffer): Buffer {
  if (pcap.length < 24) throw new Error('not a pcap file: shorter than its header')
  const magic = pcap.readUInt32LE(0)
  // Either byte order, microsecond or nanosecond timestamps (the magic tells both).
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error('not a pcap file (pcapng is not read)')
  const u32 = (at: number) => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at))
  const linkType = u32(20) & 0xffff
  const linkHeader = ipOffset(linkType)
  const parts: Buffer[] = []
  for (let at = 24; at + 16 <= pcap.length; ) {
    const caplen = u32(at + 8)
    const frame = pcap.subarray(at + 16, at + 16 + caplen)
    at += 16 + caplen
    const payload = ipPayload(frame, linkType, linkHeader)
    if (payload?.length) parts.push(payload)
  }
  return Buffer.concat(parts)
}

function ipOffset(linkType: number): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return 14
    case LINKTYPE_LINUX_SLL:
      return 16
    case LINKTYPE_LINUX_SLL2:
      return 20
    case LINKTYPE_RAW:
      return 0
    default:
      throw new Error(`pcap link type ${linkType} is not read`)
  }
}

/** The frame's IPv4 TCP or UDP payload; null for anything else (ARP, IPv6, ICMP, a fragment's tail). */
function ipPayload(frame: Buffer, linkType: number, offset: number): Buffer | null {
  const proto = linkType === LINKTYPE_ETHERNET ? frame.readUInt16BE(12) : linkType === LINKTYPE_LINUX_SLL ? frame.readUInt16BE(14) : linkType === LINKTYPE_LINUX_SLL2 ? frame.readUInt16BE(0) : 0x0800
  if (proto !== 0x0800 || frame.length < offset + 20) return null
  const ip = frame.subarray(offset)
  if (ip[0]! >> 4 !== 4) return null
  const ihl = (ip[0]! & 0x0f) * 4
  const total = Math.min(ip.readUInt16BE(2), ip.length) // Ethernet pads short frames: the IP length is the truth
  if ((ip.readUInt16BE(6) & 0x1fff) !== 0) return null // a later fragment: no transport header
  const l4 = ip.subarray(ihl, total)
  if (ip[9] === 6 && l4.length >= 20) return l4.subarray((l4[12]! >> 4) * 4)
  if (ip[9] === 17 && l4.length >= 8) return l4.subarray(8)
  return null
}
