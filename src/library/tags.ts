// Tags and stream facts via music-metadata. Only headers are read; covers
// are loaded by the parser (it offers no way to learn that one exists
// without reading it) but only their presence is kept.
import type { IAudioMetadata } from 'music-metadata'

// Loaded on first use: commands that never read tags do not pay for the parser.
let parser: Promise<typeof import('music-metadata')> | undefined
const musicMetadata = () => (parser ??= import('music-metadata'))
import { ScanError } from './errors.ts'

export interface Tags {
  title?: string
  artist?: string
  album?: string
  albumArtist?: string
  genre?: string
  year?: number
  trackNo?: number
  /** seconds */
  duration?: number
  /** bits per second */
  bitrate?: number
  sampleRate?: number
  codec?: string
  channels?: number
  /** BPM as tagged in the file (TBPM, BPM); analysis results live elsewhere. */
  bpm?: number
  /** Key as tagged in the file (TKEY, INITIALKEY). */
  key?: string
  hasCover: boolean
  comment?: string
}

const MAX_TEXT = 1024 // characters kept per tag: a library index, not an archive

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const t = v.replace(/\0+$/g, '').trim()
  return t ? t.slice(0, MAX_TEXT) : undefined
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number.parseFloat(v) : v
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined
}

const KEY_TAGS = /^(TKEY|INITIALKEY|KEY|TXXX:INITIALKEY|----:com\.apple\.iTunes:initialkey)$/i
const BPM_TAGS = /^(TBPM|BPM|TMPO|TXXX:BPM|----:com\.apple\.iTunes:BPM)$/i
const COMMENT_TAGS = /^(COMM.*|COMMENT|DESCRIPTION|TXXX:comment|©cmt)$/i

function fromNative(meta: IAudioMetadata, pattern: RegExp): unknown {
  for (const tags of Object.values(meta.native)) {
    for (const tag of tags) {
      if (!pattern.test(tag.id)) continue
      const v = tag.value as unknown
      if (typeof v === 'string' || typeof v === 'number') return v
      if (v && typeof v === 'object' && 'text' in v) return (v as { text: unknown }).text
    }
  }
  return undefined
}

const PARSE_OPTIONS = { duration: false, skipCovers: false }

/**
 * Reads tags from the file, or from `whole` when the caller already holds the
 * whole file in memory (small files: no second read).
 */
export async function readTags(path: string, whole?: Uint8Array): Promise<Tags> {
  let meta: IAudioMetadata
  try {
    meta = whole
      ? await (await musicMetadata()).parseBuffer(whole, { path, size: whole.length }, PARSE_OPTIONS)
      : await (await musicMetadata()).parseFile(path, PARSE_OPTIONS)
  } catch (err) {
    throw new ScanError('ERR_CORRUPT', `unreadable audio metadata: ${(err as Error).message.split('\n')[0]}`)
  }
  const { common, format } = meta
  if (format.hasAudio === false) throw new ScanError('ERR_NOT_AUDIO', 'the file holds no audio stream')
  const comment = common.comment?.[0] as unknown
  return {
    title: text(common.title),
    artist: text(common.artist),
    album: text(common.album),
    albumArtist: text(common.albumartist),
    genre: text(common.genre?.join('; ')),
    year: num(common.year),
    trackNo: num(common.track.no),
    duration: num(format.duration),
    bitrate: num(format.bitrate) && Math.round(format.bitrate!),
    sampleRate: num(format.sampleRate),
    codec: text(format.codec),
    channels: num(format.numberOfChannels),
    bpm: num(common.bpm) ?? num(fromNative(meta, BPM_TAGS)),
    key: text(common.key) ?? text(fromNative(meta, KEY_TAGS)),
    hasCover: (common.picture?.length ?? 0) > 0,
    comment:
      text(typeof comment === 'string' ? comment : (comment as { text?: unknown } | undefined)?.text) ??
      text(fromNative(meta, COMMENT_TAGS)),
  }
}
