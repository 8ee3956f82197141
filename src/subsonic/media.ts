// The bytes: stream (raw with Range, or a rendition), download (always the
// original), cover art (embedded, resized on request) and lyrics.
import { spawn } from 'node:child_process'
import type { TrackRecord } from '../library/index.ts'
import { ApiError, mimeTypeOf, TrackUnavailableError, type TrackSource } from '../player/index.ts'
import { isTargetFormat, TranscodeError, type TargetFormat } from '../transcode/index.ts'
import type { Song } from './catalog.ts'
import type { Handler, HandlerContext } from './context.ts'
import { readEmbedded, type Embedded, type Want } from './embedded.ts'
import { invalid, notFound, SubsonicError, SUBSONIC_ERRORS } from './errors.ts'
import { ALBUM_ID, ARTIST_ID, SONG_ID } from './ids.ts'
import { songIn } from './browse.ts'

export const MAX_COVER_SIZE = 2048 // px
export const COVER_CACHE = 64 // covers kept in memory (per node)
const MAX_OFFSET_S = 24 * 3600

/** What stream and download send: a track some own device holds, looked up in the union (never the catalog). */
interface Held {
  id: string
  track: TrackRecord
}

/**
 * The track an id names, when some own device holds it. Straight from the
 * union: a stream needs the SHA-256, the format and the holders, and must not
 * wait for the catalog of a union that just changed (a track streamed into the
 * cache changes it).
 */
async function heldTrack(ctx: HandlerContext): Promise<Held> {
  const id = ctx.params.need('id')
  const u = SONG_ID.test(id) ? (await ctx.deps.union()).get(id) : undefined
  if (!u || u.holders.length === 0) throw notFound('song')
  return { id, track: u.track }
}

/** A source whose handles carry the track's Content-Type: swarm and cache handles have none. */
function typedSource(tracks: TrackSource, mimeType: string): TrackSource {
  return {
    async resolve(sha256, signal, from) {
      const h = await tracks.resolve(sha256, signal, from)
      if (!h || h.mimeType) return h
      return {
        size: h.size,
        mimeType,
        read: (start, end, sig) => h.read(start, end, sig),
        ...(h.prefetch ? { prefetch: (start: number, end: number) => h.prefetch!(start, end) } : {}),
        ...(h.close ? { close: () => h.close!() } : {}),
      }
    },
  }
}

/** The /stream route's answer for this track: raw bytes with Range; its errors become Subsonic errors before any byte. */
async function raw(ctx: HandlerContext, held: Held): Promise<undefined> {
  try {
    const route = ctx.deps.stream(typedSource(ctx.deps.tracks, mimeTypeOf(held.track.format)))
    await route.handle({ req: ctx.req, res: ctx.res, params: { sha256: held.id }, query: new URLSearchParams(), signal: ctx.signal })
  } catch (err) {
    if (ctx.res.headersSent) throw err
    if (err instanceof ApiError && err.status === 404) throw notFound('song (no own device online holds it)')
    if (err instanceof ApiError && err.status === 416) throw err // a range error stays HTTP: players retry without Range
    if (err instanceof TrackUnavailableError) throw new SubsonicError(SUBSONIC_ERRORS.generic, `the track is unavailable: ${err.message}`)
    throw err
  }
  return undefined
}

/** What to send for stream: raw, or a rendition in a format and bitrate. */
function wanted(ctx: HandlerContext, track: TrackRecord): { format: TargetFormat; maxKbps: number } | null {
  const format = ctx.params.str('format')
  const maxKbps = ctx.params.int('maxBitRate', 0, 0, 100_000)
  if (format === 'raw') return null
  const kbps = (track.tags.bitrate ?? 0) / 1000
  const withinCap = maxKbps === 0 || (kbps > 0 && kbps <= maxKbps)
  if (format !== undefined && format !== '') {
    if (!isTargetFormat(format)) throw invalid('format', 'raw, opus, mp3 or aac')
    // Already in that format and within the cap: re-encoding would only lose quality.
    if (format === track.format && withinCap) return null
    return { format, maxKbps }
  }
  // No format: the original, unless it is above the client's cap (then the default rendition, MP3).
  return withinCap ? null : { format: 'mp3', maxKbps }
}

export const stream: Handler = async (ctx) => {
  const held = await heldTrack(ctx)
  const want = wanted(ctx, held.track)
  const offset = ctx.params.num('timeOffset', 0, 0, MAX_OFFSET_S)
  if (!want && offset === 0) return raw(ctx, held)
  const renditions = ctx.deps.renditions
  if (!renditions) throw new SubsonicError(SUBSONIC_ERRORS.generic, 'transcoding is off on this node: ask for format=raw')
  try {
    const ok = await renditions.serve(ctx.req, ctx.res, ctx.signal, held.id, () => ctx.deps.tracks.resolve(held.id, ctx.signal, 0), {
      format: want?.format ?? 'mp3',
      maxKbps: want?.maxKbps ?? 0,
      offset,
    })
    if (!ok) throw notFound('song (no own device online holds it)')
  } catch (err) {
    if (ctx.res.headersSent) throw err
    if (err instanceof TranscodeError) throw new SubsonicError(SUBSONIC_ERRORS.generic, err.message)
    throw err
  }
  return undefined
}

export const download: Handler = async (ctx) => raw(ctx, await heldTrack(ctx))

/** The song whose picture stands for an id: a song with art, an album's, an artist's first album's. */
async function coverSong(ctx: HandlerContext, id: string): Promise<Song> {
  const catalog = await ctx.deps.catalog.get()
  let song: Song | undefined
  if (SONG_ID.test(id)) song = catalog.songs.get(id)
  else if (ALBUM_ID.test(id)) song = catalog.albums.get(id)?.coverSong
  else if (ARTIST_ID.test(id)) song = catalog.artists.get(id)?.albums.find((a) => a.coverSong)?.coverSong
  if (!song?.track.tags.hasCover) throw notFound('cover art')
  return song
}

export const getCoverArt: Handler = async (ctx) => {
  const id = ctx.params.need('id')
  const size = ctx.params.optInt('size', 1, MAX_COVER_SIZE)
  const song = await coverSong(ctx, id)
  const key = `${song.id}:${size ?? 0}`
  const resized = ctx.deps.covers
  let out = resized.get(key)
  if (!out) {
    const e = await embedded(ctx, song, 'picture')
    if (!e?.picture) throw notFound('cover art')
    out = { data: Buffer.from(e.picture.data), type: e.picture.format }
    if (size && ctx.deps.ffmpeg && (await ctx.deps.ffmpeg.probe())) {
      const small = await scaleImage(ctx.deps.ffmpeg.path, out.data, size).catch(() => null)
      if (small?.length) out = { data: small, type: 'image/jpeg' }
    }
    if (resized.size >= COVER_CACHE) resized.delete(resized.keys().next().value!)
    resized.set(key, out)
  }
  ctx.res.writeHead(200, { 'Content-Type': out.type, 'Content-Length': out.data.length, 'Cache-Control': 'private, max-age=86400', 'X-Content-Type-Options': 'nosniff' })
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : out.data)
  return undefined
}

async function embedded(ctx: HandlerContext, song: Song, want: Want): Promise<Embedded | null> {
  try {
    return await readEmbedded(ctx.deps.tracks, song.id, mimeTypeOf(song.track.format), want, ctx.signal)
  } catch (err) {
    if (ctx.signal.aborted) throw err
    throw new SubsonicError(SUBSONIC_ERRORS.generic, `could not read the track's tags: ${(err as Error).message.split('\n')[0]}`)
  }
}

/** A JPEG no larger than size x size (aspect kept), by ffmpeg. */
function scaleImage(ffmpeg: string, image: Buffer, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-vf', `scale=${size}:${size}:force_original_aspect_ratio=decrease`, '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'])
    const chunks: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => chunks.push(d))
    child.stdin.on('error', () => {})
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exit ${code}`))))
    child.stdin.end(image)
  })
}

export const getLyricsBySongId: Handler = async (ctx) => {
  const { song } = await songIn(ctx)
  const lyrics = (await embedded(ctx, song, 'lyrics'))?.lyrics
  const structured = lyrics
    ? [{
        displayArtist: song.artist,
        displayTitle: song.title,
        lang: lyrics.lang ?? 'xxx',
        synced: lyrics.synced.length > 0,
        line: lyrics.synced.length ? lyrics.synced.map((l) => ({ start: l.ms, value: l.text })) : lyrics.text.split(/\r?\n/).map((value) => ({ value })),
      }]
    : []
  return { lyricsList: { structuredLyrics: structured } }
}
