// Finds the audio payload of a file: the bytes that carry sound, with tag
// blocks left out, so that retagging a file keeps its audio hash. Each
// format is checked with a few small positional reads (headers and the tail)
// before the single streaming pass; Ogg is the exception, its payload is
// found while streaming (see ogg-payload.ts).
//
// The same checks reject files whose content does not match their extension
// and files cut short, with a one-line reason.
import type { FileHandle } from 'node:fs/promises'
import type { AudioFormat } from './formats.ts'
import { PayloadError } from './errors.ts'

/** Byte ranges [start, end) in file order, or an Ogg stream to parse while streaming. */
export type PayloadPlan =
  | { kind: 'ranges'; ranges: Array<[number, number]> }
  | { kind: 'ogg'; headerPackets: number }

const MAX_CHUNKS = 10_000 // a peer-independent cap, but files are hostile input too

export interface RandomReader {
  size: number
  read(offset: number, length: number): Promise<Buffer>
}

/**
 * Positional reads of a file, served from `head` (the file's first bytes,
 * already in memory) when they fall inside it: small files then need no read
 * beyond the one that fetched them.
 */
export function fileReader(fh: FileHandle, size: number, head: Buffer = Buffer.alloc(0)): RandomReader {
  return {
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset))
      if (offset + len <= head.length) return head.subarray(offset, offset + len)
      const buf = Buffer.alloc(len)
      let done = 0
      while (done < len) {
        const { bytesRead } = await fh.read(buf, done, len - done, offset + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return buf.subarray(0, done)
    },
  }
}

export async function planPayload(format: AudioFormat, r: RandomReader): Promise<PayloadPlan> {
  switch (format) {
    case 'mp3':
      return planMp3(r)
    case 'flac':
      return planFlac(r)
    case 'wav':
      return planRiff(r)
    case 'aiff':
      return planAiff(r)
    case 'm4a':
      return planMp4(r)
    case 'ogg':
    case 'opus':
      return planOgg(r)
  }
}

const notAudio = (format: string, why: string) => new PayloadError('ERR_NOT_AUDIO', `not a valid ${format} file: ${why}`)
const truncated = (why: string) => new PayloadError('ERR_TRUNCATED', `truncated: ${why}`)

/** Skips ID3v2 tags at `offset` (several may follow each other); returns the offset after them. */
async function skipId3v2(r: RandomReader, offset: number): Promise<number> {
  for (let i = 0; i < 16; i++) {
    const h = await r.read(offset, 10)
    if (h.length < 10 || h.toString('latin1', 0, 3) !== 'ID3') return offset
    if ((h[6]! | h[7]! | h[8]! | h[9]!) & 0x80) throw new PayloadError('ERR_CORRUPT', 'corrupt ID3v2 tag header')
    const size = (h[6]! << 21) | (h[7]! << 14) | (h[8]! << 7) | h[9]!
    const footer = h[5]! & 0x10 ? 10 : 0
    offset += 10 + size + footer
    if (offset > r.size) throw truncated(`the ID3v2 tag claims ${size} bytes, more than the file holds`)
  }
  return offset
}

/** Leaves out ID3v1, APEv2 and Lyrics3v2 blocks at the end of the file. */
async function trimTrailingTags(r: RandomReader, start: number, end: number): Promise<number> {
  for (let i = 0; i < 4 && end - start > 0; i++) {
    const tail = await r.read(Math.max(start, end - 128), Math.min(128, end - start))
    if (tail.length === 128 && tail.toString('latin1', 0, 3) === 'TAG') {
      end -= 128
      continue
    }
    const ape = await r.read(Math.max(start, end - 32), Math.min(32, end - start))
    if (ape.length === 32 && ape.toString('latin1', 0, 8) === 'APETAGEX') {
      const size = ape.readUInt32LE(12) // footer + items
      const hasHeader = (ape.readUInt32LE(20) & 0x80000000) !== 0
      const total = size + (hasHeader ? 32 : 0)
      if (total > end - start) throw new PayloadError('ERR_CORRUPT', 'APEv2 tag size is larger than the file')
      end -= total
      continue
    }
    const lyr = await r.read(Math.max(start, end - 15), Math.min(15, end - start))
    if (lyr.length === 15 && lyr.toString('latin1', 6) === 'LYRICS200') {
      const size = Number.parseInt(lyr.toString('latin1', 0, 6), 10)
      if (!Number.isFinite(size) || size + 15 > end - start) throw new PayloadError('ERR_CORRUPT', 'bad Lyrics3 tag')
      end -= size + 15
      continue
    }
    break
  }
  return end
}

// MPEG audio frame header tables (ISO 11172-3 / 13818-3).
const BITRATES: Record<string, number[]> = {
  'V1L1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'V1L2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'V1L3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'V2L1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'V2L2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  'V2L3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
const SAMPLE_RATES = [
  [11025, 12000, 8000], // 2.5
  [0, 0, 0],
  [22050, 24000, 16000], // 2
  [44100, 48000, 32000], // 1
]

interface MpegFrame {
  length: number
  version: number // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
  mono: boolean
}

function parseMpegHeader(b: Buffer, at: number): MpegFrame | null {
  if (at + 4 > b.length) return null
  const b1 = b[at + 1]!
  const b2 = b[at + 2]!
  if (b[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return null
  const version = (b1 >> 3) & 3
  const layer = (b1 >> 1) & 3
  const bitrateIndex = b2 >> 4
  const rateIndex = (b2 >> 2) & 3
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null
  const layerNo = 4 - layer
  const table = BITRATES[`${version === 3 ? 'V1' : 'V2'}L${layerNo}`]!
  const bitrate = table[bitrateIndex]! * 1000
  const sampleRate = SAMPLE_RATES[version]![rateIndex]!
  const padding = (b2 >> 1) & 1
  let length: number
  if (layerNo === 1) length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
  else if (layerNo === 3 && version !== 3) length = Math.floor((72 * bitrate) / sampleRate) + padding
  else length = Math.floor((144 * bitrate) / sampleRate) + padding
  return { length, version, mono: (b[at + 3]! >> 6) === 3 }
}

async function planMp3(r: RandomReader): Promise<PayloadPlan> {
  const start = await skipId3v2(r, 0)
  // Find the first frame whose successor is also a frame: a lone 0xFFE
  // pattern in junk or tag padding is not enough.
  const window = await r.read(start, 64 * 1024)
  let first = -1
  let frame: MpegFrame | null = null
  for (let i = 0; i + 4 <= window.length; i++) {
    const f = parseMpegHeader(window, i)
    if (!f) continue
    const nextAt = i + f.length
    if (nextAt + 4 <= window.length ? parseMpegHeader(window, nextAt) : start + nextAt >= r.size - 256) {
      first = i
      frame = f
      break
    }
  }
  if (first < 0 || !frame) throw notAudio('mp3', 'no MPEG audio frames found')
  const audioStart = start + first
  const end = await trimTrailingTags(r, audioStart, r.size)

  // A Xing/Info or VBRI header in the first frame states the stream's length
  // in bytes; a file holding less than that was cut short.
  const sideInfo = frame.version === 3 ? (frame.mono ? 17 : 32) : frame.mono ? 9 : 17
  let declared = 0
  const xingAt = first + 4 + sideInfo
  const tag = window.toString('latin1', xingAt, xingAt + 4)
  if ((tag === 'Xing' || tag === 'Info') && xingAt + 16 <= window.length) {
    const flags = window.readUInt32BE(xingAt + 4)
    if (flags & 2) declared = window.readUInt32BE(xingAt + 8 + (flags & 1 ? 4 : 0))
  } else if (window.toString('latin1', first + 36, first + 40) === 'VBRI' && first + 50 <= window.length) {
    declared = window.readUInt32BE(first + 46)
  }
  const actual = end - audioStart
  if (declared > 0 && actual + frame.length < declared) {
    throw truncated(`the MP3 header declares ${declared} bytes of audio, the file has ${actual}`)
  }
  return { kind: 'ranges', ranges: [[audioStart, end]] }
}

async function planFlac(r: RandomReader): Promise<PayloadPlan> {
  let offset = await skipId3v2(r, 0)
  const magic = await r.read(offset, 4)
  if (magic.toString('latin1') !== 'fLaC') throw notAudio('FLAC', 'missing the "fLaC" marker')
  offset += 4
  let streamInfo: Buffer | undefined
  for (let i = 0; ; i++) {
    if (i >= MAX_CHUNKS) throw new PayloadError('ERR_CORRUPT', 'too many FLAC metadata blocks')
    const h = await r.read(offset, 4)
    if (h.length < 4) throw truncated('the file ends inside the FLAC metadata')
    const last = (h[0]! & 0x80) !== 0
    const type = h[0]! & 0x7f
    const length = h.readUIntBE(1, 3)
    if (i === 0 && (type !== 0 || length !== 34)) throw new PayloadError('ERR_CORRUPT', 'FLAC STREAMINFO block is missing')
    if (type === 127) throw new PayloadError('ERR_CORRUPT', 'invalid FLAC metadata block type')
    if (i === 0) streamInfo = await r.read(offset + 4, 34)
    offset += 4 + length
    if (offset > r.size) throw truncated('a FLAC metadata block runs past the end of the file')
    if (last) break
  }
  const sync = await r.read(offset, 2)
  if (sync.length < 2) throw truncated('the FLAC file has no audio frames')
  if (sync[0] !== 0xff || (sync[1]! & 0xfe) !== 0xf8) throw new PayloadError('ERR_CORRUPT', 'no FLAC frame after the metadata')
  const end = await trimTrailingTags(r, offset, r.size)
  await checkFlacLength(r, streamInfo!, offset, end)
  return { kind: 'ranges', ranges: [[offset, end]] }
}

// CRC-8 (poly 0x07) guarding FLAC frame headers.
const CRC8 = (() => {
  const t = new Uint8Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let j = 0; j < 8; j++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff
    t[i] = c
  }
  return t
})()

// CRC-16 (poly 0x8005) over a whole FLAC frame; 0 when the frame is intact.
const CRC16 = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i << 8
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff
    t[i] = c
  }
  return t
})()

function crc16(b: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < b.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[(crc >> 8) ^ b[i]!]!
  return crc
}

/**
 * STREAMINFO states the total number of samples. The last frame of an intact
 * file runs to the end of the audio and its CRC-16 checks out; searching back
 * from the end for a header (CRC-8) whose frame passes that check finds it,
 * even when audio bytes happen to look like a header. Its position in the
 * stream must then reach the stated total. A file cut inside a frame has no
 * such frame at all.
 */
async function checkFlacLength(r: RandomReader, info: Buffer, audioStart: number, end: number): Promise<void> {
  if (info.length < 18) throw truncated('the FLAC STREAMINFO block is cut short')
  const maxBlock = info.readUInt16BE(2)
  const maxFrame = info.readUIntBE(7, 3) // 0 = unknown
  const total = (info[13]! & 0x0f) * 2 ** 32 + info.readUInt32BE(14)
  if (total === 0) return // unknown length: nothing to check against
  const window = Math.min(4 * 1024 * 1024, Math.max(256 * 1024, 2 * maxFrame))
  const tailStart = Math.max(audioStart, end - window)
  const tail = await r.read(tailStart, end - tailStart)
  for (let i = tail.length - 6; i >= 0; i--) {
    if (tail[i] !== 0xff || (tail[i + 1]! & 0xfe) !== 0xf8) continue
    const frame = parseFlacFrameHeader(tail, i)
    if (!frame || crc16(tail.subarray(i)) !== 0) continue
    const first = frame.variable ? frame.number : frame.number * maxBlock
    if (first + frame.blockSize < total) {
      throw truncated(`the FLAC stream declares ${total} samples, the file ends after ${first + frame.blockSize}`)
    }
    return
  }
  throw truncated('the last FLAC frame is cut short')
}

function parseFlacFrameHeader(b: Buffer, at: number): { variable: boolean; number: number; blockSize: number } | null {
  const variable = (b[at + 1]! & 1) === 1
  const bsCode = b[at + 2]! >> 4
  const srCode = b[at + 2]! & 0x0f
  if (bsCode === 0 || srCode === 15 || (b[at + 3]! >> 4) > 10 || (b[at + 3]! & 1)) return null
  // UTF-8-style coded frame or sample number.
  let p = at + 4
  const lead = b[p]
  if (lead === undefined) return null
  let n = 0
  let extra = 0
  if (lead < 0x80) n = lead
  else if (lead >= 0xc0 && lead < 0xfe) {
    extra = lead >= 0xfc ? 5 : lead >= 0xf8 ? 4 : lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1
    n = lead & (0x3f >> extra)
  } else return null
  for (let k = 1; k <= extra; k++) {
    const c = b[p + k]
    if (c === undefined || (c & 0xc0) !== 0x80) return null
    n = n * 64 + (c & 0x3f)
  }
  p += 1 + extra
  let blockSize: number
  if (bsCode === 1) blockSize = 192
  else if (bsCode <= 5) blockSize = 576 * 2 ** (bsCode - 2)
  else if (bsCode === 6) {
    if (p >= b.length) return null
    blockSize = b[p]! + 1
    p += 1
  } else if (bsCode === 7) {
    if (p + 1 >= b.length) return null
    blockSize = b.readUInt16BE(p) + 1
    p += 2
  } else blockSize = 256 * 2 ** (bsCode - 8)
  if (srCode === 12) p += 1
  else if (srCode === 13 || srCode === 14) p += 2
  if (p >= b.length) return null
  let crc = 0
  for (let k = at; k < p; k++) crc = CRC8[crc ^ b[k]!]!
  if (crc !== b[p]) return null
  return { variable, number: n, blockSize }
}

/** Walks IFF-style chunks (RIFF little-endian, AIFF big-endian) collecting the named payloads. */
async function walkChunks(
  r: RandomReader,
  startAt: number,
  littleEndian: boolean,
  wanted: string[],
  format: string,
): Promise<Map<string, [number, number]>> {
  const found = new Map<string, [number, number]>()
  let offset = startAt
  for (let i = 0; offset + 8 <= r.size; i++) {
    if (i >= MAX_CHUNKS) throw new PayloadError('ERR_CORRUPT', `too many ${format} chunks`)
    const h = await r.read(offset, 8)
    const id = h.toString('latin1', 0, 4)
    const size = littleEndian ? h.readUInt32LE(4) : h.readUInt32BE(4)
    const payload = offset + 8
    if (littleEndian && id === 'data' && (size === 0xffffffff || size === 0)) {
      // Written to a pipe: the length was never filled in; the data runs to the end.
      found.set(id, [payload, r.size])
      break
    }
    if (payload + size > r.size) {
      if (wanted.includes(id)) throw truncated(`the ${format} "${id.trim()}" chunk claims ${size} bytes, the file holds ${r.size - payload}`)
      break // trailing junk after the audio is harmless
    }
    if (wanted.includes(id) && !found.has(id)) found.set(id, [payload, payload + size])
    offset = payload + size + (size & 1)
  }
  for (const id of wanted) {
    if (!found.has(id)) throw new PayloadError('ERR_CORRUPT', `the ${format} file has no "${id.trim()}" chunk`)
  }
  return found
}

async function planRiff(r: RandomReader): Promise<PayloadPlan> {
  const h = await r.read(0, 12)
  if (h.length < 12 || h.toString('latin1', 0, 4) !== 'RIFF' || h.toString('latin1', 8, 12) !== 'WAVE') {
    throw notAudio('WAV', 'missing the RIFF/WAVE header')
  }
  const c = await walkChunks(r, 12, true, ['fmt ', 'data'], 'WAV')
  return { kind: 'ranges', ranges: [c.get('fmt ')!, c.get('data')!].sort((a, b) => a[0] - b[0]) }
}

async function planAiff(r: RandomReader): Promise<PayloadPlan> {
  const h = await r.read(0, 12)
  const form = h.toString('latin1', 8, 12)
  if (h.length < 12 || h.toString('latin1', 0, 4) !== 'FORM' || (form !== 'AIFF' && form !== 'AIFC')) {
    throw notAudio('AIFF', 'missing the FORM/AIFF header')
  }
  const c = await walkChunks(r, 12, false, ['COMM', 'SSND'], 'AIFF')
  return { kind: 'ranges', ranges: [c.get('COMM')!, c.get('SSND')!].sort((a, b) => a[0] - b[0]) }
}

async function planMp4(r: RandomReader): Promise<PayloadPlan> {
  const ranges: Array<[number, number]> = []
  let offset = 0
  let sawMoov = false
  for (let i = 0; offset < r.size; i++) {
    if (i >= MAX_CHUNKS) throw new PayloadError('ERR_CORRUPT', 'too many MP4 atoms')
    const h = await r.read(offset, 16)
    if (h.length < 8) throw truncated('the file ends inside an MP4 atom header')
    const type = h.toString('latin1', 4, 8)
    if (i === 0 && type !== 'ftyp') throw notAudio('M4A', 'it does not start with an "ftyp" atom')
    let size = h.readUInt32BE(0)
    let header = 8
    if (size === 1) {
      if (h.length < 16) throw truncated('the file ends inside an MP4 atom header')
      size = Number(h.readBigUInt64BE(8))
      header = 16
    } else if (size === 0) {
      size = r.size - offset
    }
    if (size < header) throw new PayloadError('ERR_CORRUPT', `MP4 atom "${type}" has an impossible size`)
    if (offset + size > r.size) throw truncated(`the MP4 "${type}" atom claims ${size} bytes, the file holds ${r.size - offset}`)
    if (type === 'moov') sawMoov = true
    if (type === 'mdat') ranges.push([offset + header, offset + size])
    offset += size
  }
  if (!sawMoov) throw new PayloadError('ERR_CORRUPT', 'the M4A file has no "moov" atom (it was never finished)')
  if (ranges.length === 0) throw new PayloadError('ERR_CORRUPT', 'the M4A file has no audio data ("mdat")')
  return { kind: 'ranges', ranges }
}

async function planOgg(r: RandomReader): Promise<PayloadPlan> {
  const h = await r.read(0, 27 + 255 + 8)
  if (h.length < 28 || h.toString('latin1', 0, 4) !== 'OggS') throw notAudio('Ogg', 'missing the "OggS" page marker')
  const segments = h[26]!
  const body = 27 + segments
  const id = h.toString('latin1', body, body + 8)
  if (id.startsWith('\x01vorbis')) return { kind: 'ogg', headerPackets: 3 }
  if (id === 'OpusHead') return { kind: 'ogg', headerPackets: 2 }
  if (id.startsWith('\x7fFLAC')) throw notAudio('Ogg', 'Ogg FLAC is not supported; use native FLAC')
  throw notAudio('Ogg', 'the stream is neither Vorbis nor Opus')
}
