// Transcoding on the node: one ffmpeg encoder and one rendition cache
// (<home>/renditions, its own budget), behind /stream/<sha256>?format= and the
// Subsonic stream endpoint alike.
import { join } from 'node:path'
import { ApiError, type StreamRouteOptions, type TrackSource } from '../player/index.ts'
import { FfmpegEncoder, isTargetFormat, RenditionCache, Renditions, TranscodeError } from '../transcode/index.ts'

export const RENDITIONS_DIR = 'renditions'

export interface NodeTranscoding {
  ffmpeg: FfmpegEncoder
  cache: RenditionCache
  renditions: Renditions
}

export function nodeTranscoding(home: string, opts: { ffmpegPath?: string; renditionBudget?: number; warn?: (m: string, f: Record<string, unknown>) => void } = {}): NodeTranscoding {
  const ffmpeg = new FfmpegEncoder(opts.ffmpegPath)
  const cache = new RenditionCache(join(home, RENDITIONS_DIR), opts.renditionBudget)
  return { ffmpeg, cache, renditions: new Renditions({ encoder: ffmpeg, cache, ...(opts.warn ? { warn: opts.warn } : {}) }) }
}

/** The /stream route's `?format=` answer. */
export function streamTranscode(renditions: Renditions, tracks: TrackSource): NonNullable<StreamRouteOptions['transcode']> {
  return async (ctx, sha256, q) => {
    if (!isTargetFormat(q.format)) throw new ApiError(400, 'ERR_BAD_PARAM', 'format is raw, opus, mp3 or aac')
    try {
      return await renditions.serve(ctx.req, ctx.res, ctx.signal, sha256, () => tracks.resolve(sha256, ctx.signal, 0), { format: q.format, maxKbps: q.maxKbps, offset: q.offset })
    } catch (err) {
      if (!ctx.res.headersSent && err instanceof TranscodeError) {
        if (err.code === 'ERR_NO_ENCODER') throw new ApiError(501, 'ERR_NO_ENCODER', err.message)
        throw new ApiError(503, 'ERR_TRACK_UNAVAILABLE', err.message)
      }
      throw err
    }
  }
}
