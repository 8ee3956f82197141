// Embedded pictures and lyrics, read from a track's own tags. The bytes come
// through the same sources as streams (this device's file, or an own device
// through the swarm), so a track held only elsewhere has its cover too. The
// head of the file is read first (the whole ID3v2 tag of an MP3, else 2 MiB:
// FLAC, Ogg and most MP4 keep their tags there), so an album grid does not
// fetch whole tracks over the swarm; only when the head has neither is the
// whole file read.
import type { IAudioMetadata } from 'music-metadata'
import type { TrackHandle, TrackSource } from '../player/index.ts'

export interface Embedded {
  picture?: { data: Uint8Array; format: string }
  lyrics?: { lang?: string; text: string; synced: Array<{ ms: number; text: string }> }
}

const MAX_PICTURE = 16 * 1024 * 1024 // bytes kept from a tag
const HEAD_BYTES = 2 * 1024 * 1024 // read first when the file does not start with an ID3v2 tag
const MAX_ID3_HEAD = 32 * 1024 * 1024 // an ID3v2 tag larger than this is not read whole
/** Larger files are not read whole for their tags (a 2-hour WAV mix). */
export const MAX_TAGGED_FILE = 256 * 1024 * 1024

let parser: Promise<typeof import('music-metadata')> | undefined
const musicMetadata = () => (parser ??= import('music-metadata'))

/** What a caller needs: the cover, or the lyrics. */
export type Want = 'picture' | 'lyrics'

/** The track's embedded cover and lyrics, or null when no source has the track. */
export async function readEmbedded(tracks: TrackSource, sha256: string, mimeType: string | undefined, want: Want, signal: AbortSignal): Promise<Embedded | null> {
  const handle = await tracks.resolve(sha256, signal, 0)
  if (!handle) return null
  try {
    if (handle.size === 0) return {}
    const first = await readBytes(handle, 0, Math.min(handle.size, 64 * 1024), signal)
    const headLength = Math.min(handle.size, id3Length(first) ?? HEAD_BYTES)
    const head = headLength <= first.length ? first.subarray(0, headLength) : Buffer.concat([first, await readBytes(handle, first.length, headLength, signal)])
    const fromHead = await parse(head, mimeType).catch(() => ({}) as Embedded)
    if (fromHead[want] || head.length === handle.size || handle.size > MAX_TAGGED_FILE) return fromHead
    const rest = await readBytes(handle, head.length, handle.size, signal)
    return await parse(Buffer.concat([head, rest]), mimeType)
  } finally {
    Promise.resolve().then(() => handle.close?.()).catch(() => {})
  }
}

/** Bytes [start, end) of the track. */
async function readBytes(handle: TrackHandle, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0)
  const chunks: Uint8Array[] = []
  for await (const c of handle.read(start, end - 1, signal) as AsyncIterable<Uint8Array>) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Bytes of a leading ID3v2 tag (header, frames, footer) plus a little audio, or null when there is none. */
function id3Length(b: Buffer): number | null {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'ID3') return null
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f)
  const footer = b[5]! & 0x10 ? 10 : 0
  return Math.min(MAX_ID3_HEAD, 10 + size + footer + 4096)
}

async function parse(bytes: Buffer, mimeType: string | undefined): Promise<Embedded> {
  const mm = await musicMetadata()
  const meta: IAudioMetadata = await mm.parseBuffer(bytes, { size: bytes.length, ...(mimeType ? { mimeType } : {}) }, { duration: false, skipCovers: false, skipPostHeaders: true })
  const out: Embedded = {}
  const pic = meta.common.picture?.find((p) => /front/i.test(p.type ?? '')) ?? meta.common.picture?.[0]
  if (pic && pic.data.length <= MAX_PICTURE) out.picture = { data: pic.data, format: pic.format.includes('/') ? pic.format : `image/${pic.format}` }
  const lyr = meta.common.lyrics?.[0]
  if (lyr) {
    const synced = (lyr.syncText ?? []).map((l) => ({ ms: Math.max(0, Math.round(l.timestamp ?? 0)), text: l.text }))
    const text = lyr.text ?? synced.map((l) => l.text).join('\n')
    if (text || synced.length) out.lyrics = { ...(lyr.language ? { lang: lyr.language } : {}), text, synced }
  }
  return out
}
