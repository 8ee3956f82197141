// Decoding to float PCM, in pure JS/WASM (audio-decode: mp3, flac, wav, aiff,
// m4a/aac/alac, ogg vorbis, opus and more), loaded on first use.
//
// Decoders are lenient: a file cut in half decodes to its first half, and
// some corrupt files decode to nothing at all without an error. Before
// decoding, the container is checked with the library scanner's own
// integrity checks (declared lengths, last-frame CRCs, Ogg end of stream),
// so a damaged file is refused with a one-line reason rather than analysed
// as something it is not.
import { readFile } from 'node:fs/promises'
import { planPayload, type RandomReader } from '../library/audio-payload.ts'
import { OggPayloadParser } from '../library/ogg-payload.ts'
import type { AudioFormat } from '../library/formats.ts'
import { AnalysisError, oneLine } from './errors.ts'

export interface DecodedAudio {
  channels: Float32Array[]
  sampleRate: number
}

/** The container a file's first bytes announce (null: none the integrity checks know). */
export function sniffFormat(bytes: Uint8Array): AudioFormat | null {
  const ascii = (at: number, len: number) => Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.max(0, Math.min(len, bytes.length - at))).toString('latin1')
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WAVE') return 'wav'
  if (ascii(0, 4) === 'FORM' && (ascii(8, 4) === 'AIFF' || ascii(8, 4) === 'AIFC')) return 'aiff'
  if (ascii(4, 4) === 'ftyp') return 'm4a'
  if (ascii(0, 4) === 'OggS') return ascii(28, 8) === 'OpusHead' ? 'opus' : 'ogg'
  let at = 0
  // ID3v2 tags may precede mp3 and flac
  while (ascii(at, 3) === 'ID3' && at + 10 <= bytes.length) {
    const size = (bytes[at + 6]! << 21) | (bytes[at + 7]! << 14) | (bytes[at + 8]! << 7) | bytes[at + 9]!
    at += 10 + size + (bytes[at + 5]! & 0x10 ? 10 : 0)
  }
  if (ascii(at, 4) === 'fLaC') return 'flac'
  if (bytes[at] === 0xff && (bytes[at + 1]! & 0xe0) === 0xe0 && (bytes[at + 1]! & 0x06) !== 0) return 'mp3'
  if (at > 0 && at >= bytes.length) return 'mp3' // a tag and nothing else: let the check say so
  return null
}

function memoryReader(bytes: Buffer): RandomReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  }
}

/** Throws AnalysisError('ERR_DECODE') when the container is cut short or damaged. */
export async function checkIntegrity(bytes: Buffer, format: AudioFormat): Promise<void> {
  try {
    const plan = await planPayload(format, memoryReader(bytes))
    if (plan.kind === 'ogg') {
      const parser = new OggPayloadParser(plan.headerPackets, () => {})
      parser.push(bytes)
      parser.end()
    }
  } catch (err) {
    throw new AnalysisError('ERR_DECODE', oneLine(err))
  }
}

type Decode = (bytes: Uint8Array) => Promise<{ channelData: Float32Array[]; sampleRate: number }>
let decoder: Promise<Decode> | undefined
const loadDecoder = () => (decoder ??= import('audio-decode').then((m) => m.default as Decode))

export async function decodeBytes(bytes: Buffer): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new AnalysisError('ERR_DECODE', 'empty file')
  const format = sniffFormat(bytes)
  if (format) await checkIntegrity(bytes, format)
  const decode = await loadDecoder()
  let result: Awaited<ReturnType<Decode>>
  try {
    result = await decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
  } catch (err) {
    const reason = oneLine(err)
    if (/unknown audio format/i.test(reason)) throw new AnalysisError('ERR_DECODE', 'not a recognised audio format')
    if (/no decoder for/i.test(reason)) throw new AnalysisError('ERR_UNSUPPORTED', reason)
    throw new AnalysisError('ERR_DECODE', `cannot decode: ${reason}`)
  }
  const channels = result.channelData
  if (!channels.length || !channels[0]?.length || !(result.sampleRate > 0)) {
    throw new AnalysisError('ERR_DECODE', 'no audio could be decoded (corrupt or truncated)')
  }
  return { channels, sampleRate: result.sampleRate }
}

/** Reads and decodes an audio file; AnalysisError('ERR_DECODE') for corrupt or undecodable input. */
export async function decodeFile(path: string): Promise<DecodedAudio> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new AnalysisError('ERR_READ', `cannot read the file${code ? ` (${code})` : ''}: ${oneLine(err)}`)
  }
  return decodeBytes(bytes)
}
