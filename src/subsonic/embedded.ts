// Embedded pictures and lyrics, read from a track's own tags. The bytes come
// through the same sources as streams (this device's file, or an own device
// through the swarm), so a track held only elsewhere has its cover too.
// Results are kept by the caller (covers) so a file is read once.
import type { TrackHandle, TrackSource } from '../player/index.ts'

export interface Embedded {
  picture?: { data: Uint8Array; format: string }
  lyrics?: { lang?: string; text: string; synced: Array<{ ms: number; text: string }> }
}

const MAX_PICTURE = 16 * 1024 * 1024 // bytes kept from a tag
/** Larger files are not read for their tags (a 2-hour WAV mix): their covers and lyrics are not served. */
export const MAX_TAGGED_FILE = 256 * 1024 * 1024

let parser: Promise<typeof import('music-metadata')> | undefined
const musicMetadata = () => (parser ??= import('music-metadata'))

/** The track's embedded cover and lyrics, or null when no source has the track. */
export async function readEmbedded(tracks: TrackSource, sha256: string, mimeType: string | undefined, signal: AbortSignal): Promise<Embedded | null> {
  const handle = await tracks.resolve(sha256, signal, 0)
  if (!handle) return null
  try {
    return await parse(handle, mimeType, signal)
  } finally {
    Promise.resolve().then(() => handle.close?.()).catch(() => {})
  }
}

async function parse(handle: TrackHandle, mimeType: string | undefined, signal: AbortSignal): Promise<Embedded> {
  const mm = await musicMetadata()
  const read = new AbortController()
  const stop = () => read.abort()
  signal.addEventListener('abort', stop, { once: true })
  if (handle.size > MAX_TAGGED_FILE) return {}
  try {
    // Whole, then parsed from memory: tags may sit at either end, and the
    // parser's stream reader does not take the chunks a swarm read gives.
    const chunks: Uint8Array[] = []
    if (handle.size) for await (const c of handle.read(0, handle.size - 1, read.signal) as AsyncIterable<Uint8Array>) chunks.push(c)
    const whole = Buffer.concat(chunks)
    const meta = await mm.parseBuffer(whole, { size: whole.length, ...(mimeType ? { mimeType } : {}) }, { duration: false, skipCovers: false })
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
  } finally {
    signal.removeEventListener('abort', stop)
    read.abort()
  }
}
