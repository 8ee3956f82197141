// Decoding to float PCM, in pure JS/WASM (audio-decode: mp3, flac, wav, aiff,
// m4a/aac/alac, ogg vorbis, opus and more), loaded on first use.
//
// Files are decoded as a stream, a megabyte of the file at a time, and each
// piece of PCM is handed on as it comes: the analyser never holds a whole
// track of float samples (a 6-minute stereo track is 127 MB of them). Only
// MP4 (m4a), whose index usually sits at the end, comes out in one piece.
//
// Decoders are lenient: a file cut in half decodes to its first half, and
// some corrupt files decode to nothing at all without an error. So the
// container is checked first with the integrity checks the library's scan
// uses too (src/audio-file: declared lengths, last-frame CRCs, Ogg's end of
// stream), and a damaged file is refused with a one-line reason rather than
// analysed as something it is not.
import { open, type FileHandle } from 'node:fs/promises'
import { fileReader, OggPayloadParser, PayloadError, planPayload, type AudioFormat, type RandomReader } from '../audio-file/index.ts'
import { AnalysisError, oneLine } from './errors.ts'

export interface DecodedAudio {
  channels: Float32Array[]
  sampleRate: number
}

/** Receives decoded audio piece by piece: each piece's channels and the sample rate. */
export type PcmSink = (channels: Float32Array[], sampleRate: number) => void

/** Bytes of the file fed to the decoder at a time. */
const CHUNK = 1 << 20

/** The container a file's first bytes announce (null: none the integrity checks know). */
export async function sniffFormat(r: RandomReader): Promise<AudioFormat | null> {
  const head = await r.read(0, 64)
  const ascii = (b: Buffer, at: number, len: number) => b.toString('latin1', Math.min(at, b.length), Math.min(at + len, b.length))
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WAVE') return 'wav'
  if (ascii(head, 0, 4) === 'FORM' && (ascii(head, 8, 4) === 'AIFF' || ascii(head, 8, 4) === 'AIFC')) return 'aiff'
  if (ascii(head, 4, 4) === 'ftyp') return 'm4a'
  if (ascii(head, 0, 4) === 'OggS') return ascii(head, 28, 8) === 'OpusHead' ? 'opus' : 'ogg'
  // ID3v2 tags (there may be several) precede mp3 and sometimes flac.
  let at = 0
  let b = head
  for (let i = 0; i < 16 && ascii(b, 0, 3) === 'ID3' && b.length >= 10; i++) {
    at += 10 + ((b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!) + (b[5]! & 0x10 ? 10 : 0)
    b = await r.read(at, 16)
  }
  if (ascii(b, 0, 4) === 'fLaC') return 'flac'
  if (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0) return 'mp3'
  if (at > 0) return 'mp3' // a tag and then no frame where one should be: the check says why
  return null
}

/** audio-decode's name for each container's streaming decoder. */
const CODEC: Record<AudioFormat, string> = { mp3: 'mp3', flac: 'flac', wav: 'wav', aiff: 'aiff', m4a: 'm4a', ogg: 'oga', opus: 'opus' }

interface DecodeResult {
  channelData: Float32Array[]
  sampleRate: number
}
interface StreamDecoder {
  (chunk?: Uint8Array): Promise<DecodeResult>
  free(): void
}
interface AudioDecode {
  (bytes: Uint8Array): Promise<DecodeResult>
  [codec: string]: unknown
}
let library: Promise<AudioDecode> | undefined
const audioDecode = () => (library ??= import('audio-decode').then((m) => m.default as unknown as AudioDecode))

function decodeError(err: unknown): AnalysisError {
  if (err instanceof AnalysisError) return err
  const reason = oneLine(err)
  if (/unknown audio format/i.test(reason)) return new AnalysisError('ERR_DECODE', 'not a recognised audio format')
  if (/no decoder for/i.test(reason)) return new AnalysisError('ERR_UNSUPPORTED', reason)
  return new AnalysisError('ERR_DECODE', `cannot decode: ${reason}`)
}

/**
 * Checks the container, then decodes `r` piece by piece into `sink`.
 * AnalysisError('ERR_DECODE') for damaged or undecodable audio.
 */
export async function streamAudio(r: RandomReader, sink: PcmSink): Promise<void> {
  if (r.size === 0) throw new AnalysisError('ERR_DECODE', 'empty file')
  const format = await sniffFormat(r)
  let ogg: OggPayloadParser | undefined
  if (format) {
    try {
      const plan = await planPayload(format, r)
      if (plan.kind === 'ogg') ogg = new OggPayloadParser(plan.headerPackets, () => {})
    } catch (err) {
      throw new AnalysisError('ERR_DECODE', oneLine(err))
    }
  }
  const decode = await audioDecode()
  let rate = 0
  let samples = 0
  const deliver = ({ channelData, sampleRate }: DecodeResult) => {
    const length = channelData[0]?.length ?? 0
    if (length === 0) return
    if (rate && sampleRate !== rate) throw new AnalysisError('ERR_DECODE', `the sample rate changes mid-stream (${rate} to ${sampleRate} Hz)`)
    rate = sampleRate
    samples += length
    sink(channelData, sampleRate)
  }
  if (!format) {
    // A format the checks do not know (CAF, WebM, WMA, raw AAC...): audio-decode finds it in one piece.
    let result: DecodeResult
    try {
      const bytes = await r.read(0, r.size)
      result = await decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
    } catch (err) {
      throw decodeError(err)
    }
    deliver(result)
  } else {
    let stream: StreamDecoder
    try {
      stream = await (decode[CODEC[format]] as () => Promise<StreamDecoder>)()
    } catch (err) {
      throw decodeError(err)
    }
    let flushed = false
    try {
      // The decoder's and the container's errors are the file's; the sink's are its own.
      const step = async (bytes?: Buffer): Promise<DecodeResult> => {
        try {
          if (bytes) ogg?.push(bytes)
          else ogg?.end()
          const out = await stream(bytes ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : undefined)
          if (!bytes) flushed = true
          return out
        } catch (err) {
          throw err instanceof AnalysisError ? err : err instanceof PayloadError ? new AnalysisError('ERR_DECODE', oneLine(err)) : decodeError(err)
        }
      }
      for (let at = 0; at < r.size; at += CHUNK) deliver(await step(await r.read(at, CHUNK)))
      deliver(await step())
    } finally {
      if (!flushed) stream.free()
    }
  }
  if (samples === 0 || !(rate > 0)) throw new AnalysisError('ERR_DECODE', 'no audio could be decoded (corrupt or truncated)')
}

function memoryReader(bytes: Buffer): RandomReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  }
}

async function openFile(path: string): Promise<{ fh: FileHandle; reader: RandomReader }> {
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'r')
    const { size } = await fh.stat()
    const head = Buffer.alloc(Math.min(size, 64 * 1024))
    await fh.read(head, 0, head.length, 0)
    return { fh, reader: fileReader(fh, size, head) }
  } catch (err) {
    await fh?.close()
    const code = (err as NodeJS.ErrnoException).code
    throw new AnalysisError('ERR_READ', `cannot read the file${code ? ` (${code})` : ''}: ${oneLine(err)}`)
  }
}

/** Decodes a file piece by piece into `sink`; see streamAudio. */
export async function streamFile(path: string, sink: PcmSink): Promise<void> {
  const { fh, reader } = await openFile(path)
  try {
    await streamAudio(
      {
        size: reader.size,
        read: async (offset, length) => {
          try {
            return await reader.read(offset, length)
          } catch (err) {
            throw new AnalysisError('ERR_READ', `cannot read the file: ${oneLine(err)}`)
          }
        },
      },
      sink,
    )
  } finally {
    await fh.close()
  }
}

/** Gathers streamed pieces into whole channels. */
async function collect(stream: (sink: PcmSink) => Promise<void>): Promise<DecodedAudio> {
  const pieces: Float32Array[][] = []
  let sampleRate = 0
  let channels = 0
  await stream((piece, rate) => {
    pieces.push(piece)
    sampleRate = rate
    channels = Math.max(channels, piece.length)
  })
  const length = pieces.reduce((n, p) => n + p[0]!.length, 0)
  const out = Array.from({ length: channels }, () => new Float32Array(length))
  let at = 0
  for (const piece of pieces) {
    // The mp3 and AAC decoders hand over a stream's identical channels as one until they differ.
    out.forEach((ch, c) => ch.set(piece[Math.min(c, piece.length - 1)]!, at))
    at += piece[0]!.length
  }
  return { channels: out, sampleRate }
}

/** Decodes audio held in memory; AnalysisError('ERR_DECODE') for corrupt or undecodable input. */
export function decodeBytes(bytes: Buffer): Promise<DecodedAudio> {
  return collect((sink) => streamAudio(memoryReader(bytes), sink))
}

/** Reads and decodes an audio file; AnalysisError('ERR_DECODE') for corrupt or undecodable input. */
export function decodeFile(path: string): Promise<DecodedAudio> {
  return collect((sink) => streamFile(path, sink))
}
