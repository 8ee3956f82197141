// Streaming Ogg page parser (RFC 3533). It checks each page's CRC and feeds
// the bodies of the pages after the codec's header packets (identification,
// comments, setup) to `sink`: retagging rewrites the comment packet and
// renumbers pages, but leaves those bodies byte-identical.
import { PayloadError } from './errors.ts'

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    t[i] = r >>> 0
  }
  return t
})()

function oggCrc(page: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < page.length; i++) {
    // bytes 22..25 hold the CRC itself and count as zero
    const b = i >= 22 && i < 26 ? 0 : page[i]!
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0
  }
  return crc
}

export class OggPayloadParser {
  private pending: Buffer = Buffer.alloc(0)
  private headersLeft: number
  private offset = 0
  private audioPages = 0
  private lastFlags = 0

  constructor(
    headerPackets: number,
    private readonly sink: (body: Uint8Array) => void,
  ) {
    this.headersLeft = headerPackets
  }

  push(chunk: Uint8Array): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    let at = 0
    const buf = this.pending
    while (buf.length - at >= 27) {
      if (buf.toString('latin1', at, at + 4) !== 'OggS') {
        throw new PayloadError('ERR_CORRUPT', `corrupt Ogg stream: no page marker at byte ${this.offset + at}`)
      }
      const segments = buf[at + 26]!
      if (buf.length - at < 27 + segments) break
      let bodyLength = 0
      for (let i = 0; i < segments; i++) bodyLength += buf[at + 27 + i]!
      const pageLength = 27 + segments + bodyLength
      if (buf.length - at < pageLength) break
      const page = buf.subarray(at, at + pageLength)
      if (oggCrc(page) !== page.readUInt32LE(22)) {
        throw new PayloadError('ERR_CORRUPT', `corrupt Ogg page at byte ${this.offset + at} (checksum mismatch)`)
      }
      if (this.headersLeft > 0) {
        // A lacing value under 255 ends a packet.
        for (let i = 0; i < segments; i++) if (buf[at + 27 + i]! < 255) this.headersLeft--
      } else {
        this.sink(page.subarray(27 + segments))
        this.audioPages++
      }
      this.lastFlags = buf[at + 5]!
      at += pageLength
    }
    this.offset += at
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at))
  }

  end(): void {
    if (this.pending.length > 0) throw new PayloadError('ERR_TRUNCATED', 'truncated: the last Ogg page is incomplete')
    if (this.headersLeft > 0 || this.audioPages === 0) throw new PayloadError('ERR_TRUNCATED', 'truncated: the Ogg stream ends before any audio')
    // The last page of a complete stream carries the end-of-stream flag.
    if ((this.lastFlags & 0x04) === 0) throw new PayloadError('ERR_TRUNCATED', 'truncated: the Ogg stream has no end-of-stream page')
  }
}
