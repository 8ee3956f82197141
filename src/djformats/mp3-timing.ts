// Where position 0 is in an MP3 differs between DJ programs by one MPEG frame
// (1152 samples: 26.1 ms at 44.1 kHz, 24 ms at 48 kHz), depending on the
// file's first frame: a Xing/Info frame carries no audio, and programs
// disagree about whether to play it. The cases (dj-data-converter issue 3,
// pestrela's research on real files; rekordbox 1.5.4's release notes):
//   A  no Xing/Info frame                        all programs agree
//   B  Xing/Info without a LAME tag, or a Lavc/Lavf one  Traktor plays the Info frame as audio
//   C  a LAME tag whose CRC is wrong (often zero)        Traktor plays it too
//   D  a LAME tag with a valid CRC                       all skip it
// djcloud's positions are on the timeline where rekordbox and Traktor agree
// (the Info frame skipped, the encoder delay kept): rekordbox's. Serato's
// positions sit one frame later on every MP3 (Mixxx's SeratoTags
// guessTimingOffsetMillis: -26 ms at 44.1 kHz, -24 ms at 48 kHz, for all
// cases, against an FFmpeg decode). docs/decisions/mp3-timing-offsets.md.
import { closeSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'

export type Mp3HeaderCase = 'A' | 'B' | 'C' | 'D'

export interface Mp3TimingInfo {
  case: Mp3HeaderCase
  sampleRate: number
  /** Samples per MPEG frame: 1152 (MPEG-1 layer III) or 576 (MPEG-2/2.5). */
  samplesPerFrame: number
  /** The first frame's info tag, if any. */
  infoTag?: 'Xing' | 'Info' | 'VBRI'
  /** The LAME tag's encoder string ("LAME3.100", "Lavc60.31"), when there is one. */
  encoder?: string
  /** The LAME tag's encoder delay and end padding in samples. */
  encoderDelay?: number
  encoderPadding?: number
  lameCrcValid?: boolean
}

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
const RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] }

interface FrameHeader {
  version: 3 | 2 | 0 // MPEG-1, 2, 2.5 (the header's bits)
  sampleRate: number
  length: number
  mono: boolean
  crc: boolean
}

/** A layer III frame header at `at`, or undefined. */
function frameAt(b: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined
  const version = (b[at + 1]! >> 3) & 3
  const layer = (b[at + 1]! >> 1) & 3
  const bi = b[at + 2]! >> 4
  const si = (b[at + 2]! >> 2) & 3
  if (version === 1 || layer !== 1 || bi === 0 || bi === 15 || si === 3) return undefined
  const sampleRate = RATES[version]![si]!
  const kbps = (version === 3 ? BITRATES_V1 : BITRATES_V2)[bi]!
  const pad = (b[at + 2]! >> 1) & 1
  const length = Math.floor(((version === 3 ? 144 : 72) * kbps * 1000) / sampleRate) + pad
  return { version: version as 3 | 2 | 0, sampleRate, length, mono: b[at + 3]! >> 6 === 3, crc: (b[at + 1]! & 1) === 0 }
}

/** CRC-16/ARC (poly 0x8005 reflected, init 0): the LAME tag's own CRC. */
function crc16(b: Uint8Array, end: number): number {
  let crc = 0
  for (let i = 0; i < end; i++) {
    crc ^= b[i]!
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1
  }
  return crc
}

/** The size of an ID3v2 tag at the start (header, body and footer), or 0. */
export function id3v2Size(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f)
  return 10 + size + (b[5]! & 0x10 ? 10 : 0)
}

/**
 * The timing facts of an MP3 from the bytes of its start (after any ID3v2
 * tag: pass `audio` from the first byte past it). Undefined when no layer III
 * frame followed by another is found in them.
 */
export function mp3TimingInfo(audio: Uint8Array): Mp3TimingInfo | undefined {
  let at = -1
  for (let i = 0; i + 4 <= audio.length; i++) {
    const f = frameAt(audio, i)
    // Two frames in a row: a sync pattern inside other data does not count.
    if (f && (i + f.length + 4 > audio.length || frameAt(audio, i + f.length))) {
      at = i
      break
    }
  }
  if (at < 0) return undefined
  const f = frameAt(audio, at)!
  const frame = audio.subarray(at, Math.min(audio.length, at + f.length))
  const out: Mp3TimingInfo = { case: 'A', sampleRate: f.sampleRate, samplesPerFrame: f.version === 3 ? 1152 : 576 }
  const side = f.version === 3 ? (f.mono ? 17 : 32) : f.mono ? 9 : 17
  const xingAt = 4 + (f.crc ? 2 : 0) + side
  const text = (s: number, n: number) => Buffer.from(frame.subarray(s, s + n)).toString('latin1')
  const tag = text(xingAt, 4)
  if (tag === 'Xing' || tag === 'Info') {
    out.infoTag = tag
    out.case = 'B'
    if (xingAt + 8 > frame.length) return out
    const flags = ((frame[xingAt + 4]! << 24) >>> 0) + (frame[xingAt + 5]! << 16) + (frame[xingAt + 6]! << 8) + frame[xingAt + 7]!
    const lameAt = xingAt + 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0)
    if (lameAt + 36 > frame.length) return out
    const encoder = text(lameAt, 9).replace(/\0+$/, '')
    if (!/^(LAME|L3\.99|Lavc|Lavf)/.test(encoder)) return out
    out.encoder = encoder
    out.encoderDelay = (frame[lameAt + 21]! << 4) | (frame[lameAt + 22]! >> 4)
    out.encoderPadding = ((frame[lameAt + 22]! & 0x0f) << 8) | frame[lameAt + 23]!
    const crcAt = lameAt + 34
    out.lameCrcValid = crc16(frame, crcAt) === ((frame[crcAt]! << 8) | frame[crcAt + 1]!)
    // FFmpeg's Lavc/Lavf tag is a "reduced" one Traktor does not take (case B);
    // a LAME tag counts when its CRC holds.
    if (!encoder.startsWith('Lav')) out.case = out.lameCrcValid ? 'D' : 'C'
  } else if (text(4 + 32, 4) === 'VBRI') {
    // Fraunhofer's VBRI frame: an info frame without a LAME tag.
    out.infoTag = 'VBRI'
    out.case = 'B'
  }
  return out
}

/** Bytes of audio read to find the first frames (a first frame is at most 2881 bytes; junk before it happens). */
const HEAD_BYTES = 64 * 1024
/** An ID3v2 tag larger than this is not skipped to (the file is then read as having no frames found). */
const MAX_ID3_SKIP = 64 * 1024 * 1024

/** mp3TimingInfo of a file on disk (reads its ID3v2 header and 64 KiB after it). */
export async function readMp3TimingInfo(path: string): Promise<Mp3TimingInfo | undefined> {
  const fh = await open(path, 'r')
  try {
    const head = Buffer.alloc(10)
    const { bytesRead } = await fh.read(head, 0, 10, 0)
    const skip = id3v2Size(head.subarray(0, bytesRead))
    if (skip > MAX_ID3_SKIP) return undefined
    const buf = Buffer.alloc(HEAD_BYTES)
    const r = await fh.read(buf, 0, HEAD_BYTES, skip)
    return mp3TimingInfo(buf.subarray(0, r.bytesRead))
  } finally {
    await fh.close()
  }
}

/** readMp3TimingInfo without awaiting (the import and export compute offsets inside synchronous maps). */
export function readMp3TimingInfoSync(path: string): Mp3TimingInfo | undefined {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(10)
    const n = readSync(fd, head, 0, 10, 0)
    const skip = id3v2Size(head.subarray(0, n))
    if (skip > MAX_ID3_SKIP) return undefined
    const buf = Buffer.alloc(HEAD_BYTES)
    const r = readSync(fd, buf, 0, HEAD_BYTES, skip)
    return mp3TimingInfo(buf.subarray(0, r))
  } finally {
    closeSync(fd)
  }
}

export type TimingSource = 'rekordbox' | 'traktor' | 'serato'

/**
 * Milliseconds to ADD to a position read from `source` to put it on
 * djcloud's timeline (and to SUBTRACT from djcloud's position when writing
 * for `source`): one MPEG frame to the whole ms, or 0. 0 for files that are
 * not MP3 (`info` undefined).
 */
export function timingOffsetMs(source: TimingSource, info: Mp3TimingInfo | undefined): number {
  if (!info) return 0
  // One frame, to the whole ms (26 at 44.1 kHz, 24 at 48 kHz, as rekordbox's notes, Mixxx and
  // dj-data-converter give it): cues are kept to the ms, so a whole-ms position comes back exactly.
  const frameMs = Math.round((info.samplesPerFrame * 1000) / info.sampleRate)
  switch (source) {
    case 'rekordbox':
      return 0
    case 'traktor':
      return info.case === 'B' || info.case === 'C' ? -frameMs : 0
    case 'serato':
      return -frameMs
  }
}
