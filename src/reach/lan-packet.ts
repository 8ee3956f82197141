// The LAN announcement packet (docs/node.md, "On the LAN"): what one own
// device multicasts so the others on its segment dial it, sealed so that a
// venue's other guests learn nothing from it. The whole packet is a random
// nonce and a ChaCha20-Poly1305 box under a key only the circle can derive:
//
//   nonce (12 random bytes) | box( kind (1) | time ms (8, BE) | peer port (2) ) | tag (16)
//
// 39 bytes that look random to anyone without the circle secret: no magic, no
// device key, no infohash, nothing stable from one packet to the next. The
// receiver checks the tag (forged), the time against a window either way
// (stale) and the nonce against a bounded cache (replayed); what passes is
// only a hint (an address to dial), and the device channel's dj_auth proves
// who is there.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'

export const LAN_PACKET_BYTES = 39
const NONCE = 12
const BODY = 11
const TAG = 16
/** Bound into every box: a later format changes it, and old packets fail the tag. */
const AAD = Buffer.from('djcloud/lan/v1')

/** `announce`: here I am (periodic, or an answer); `query`: here I am, and who else is (a newcomer's burst). */
export type LanKind = 'announce' | 'query'
const KIND_CODE: Record<LanKind, number> = { announce: 1, query: 2 }

export interface LanAnnouncement {
  kind: LanKind
  /** Sender's clock, ms since the epoch. */
  time: number
  /** The sender's peer port (TCP). */
  port: number
  /** The packet's nonce, hex: the replay cache's key. */
  nonce: string
}

/** The circle's LAN key: HMAC-SHA256 of the circle secret under its own label, as the device channel's infohash is derived. */
export function lanKey(circleSecret: Uint8Array): Buffer {
  return createHmac('sha256', circleSecret).update('djcloud/lan-discovery/v1').digest()
}

/** One packet; `nonce` only for tests (default: random). */
export function sealLanPacket(key: Uint8Array, a: { kind: LanKind; time: number; port: number }, nonce: Uint8Array = randomBytes(NONCE)): Buffer {
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new RangeError(`a peer port is 1-65535, not ${a.port}`)
  const body = Buffer.alloc(BODY)
  body[0] = KIND_CODE[a.kind]
  body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(a.time))), 1)
  body.writeUInt16BE(a.port, 9)
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG })
  cipher.setAAD(AAD, { plaintextLength: BODY })
  return Buffer.concat([nonce, cipher.update(body), cipher.final(), cipher.getAuthTag()])
}

export type LanDrop = 'size' | 'forged'

/** The announcement in a packet, or why it was dropped (wrong size, or a tag that fails: another circle's, or made up). */
export function openLanPacket(key: Uint8Array, packet: Uint8Array): LanAnnouncement | LanDrop {
  if (packet.length !== LAN_PACKET_BYTES) return 'size'
  const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.length)
  const nonce = buf.subarray(0, NONCE)
  let body: Buffer
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG })
    decipher.setAAD(AAD, { plaintextLength: BODY })
    decipher.setAuthTag(buf.subarray(NONCE + BODY))
    body = Buffer.concat([decipher.update(buf.subarray(NONCE, NONCE + BODY)), decipher.final()])
  } catch {
    return 'forged'
  }
  const kind = body[0] === KIND_CODE.announce ? 'announce' : body[0] === KIND_CODE.query ? 'query' : null
  const port = body.readUInt16BE(9)
  // Sealed with our key yet malformed: only a circle member could make it; dropped all the same.
  if (!kind || port === 0) return 'forged'
  return { kind, time: Number(body.readBigUInt64BE(1)), port, nonce: nonce.toString('hex') }
}
