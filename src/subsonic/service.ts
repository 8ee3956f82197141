// The Subsonic API as one part of the node: made from the node's parts, it
// gives the /rest routes. Transcoding is the node's (ffmpeg on PATH); without
// an encoder, stream answers formats other than raw with an error saying so.
import type { ManifestBook, Publication, UnionEntry } from '../manifest/index.ts'
import type { Route, TrackSource } from '../player/index.ts'
import type { FfmpegEncoder, Renditions } from '../transcode/index.ts'
import { Annotations } from './annotations.ts'
import { AppRegistry } from './apps.ts'
import { CatalogCache } from './catalog.ts'
import { MemoryPlayLog, type PlayLog } from './play-log.ts'
import { subsonicRoutes } from './routes.ts'

export interface SubsonicOptions {
  home: string
  union: () => Promise<ReadonlyMap<string, UnionEntry>>
  book: ManifestBook
  publishPlaylist: (p: Publication) => Promise<unknown>
  tracks: TrackSource
  /** The node's /stream route over a source. */
  stream: (tracks: TrackSource) => Route
  /** Where plays go and counts come from (default: in memory, until the play-history module replaces it). */
  plays?: PlayLog
  /** The node's transcoder (it serves /stream?format= too). */
  renditions: Renditions
  /** The encoder behind it; also resizes cover art. */
  ffmpeg: FfmpegEncoder
  log?: (message: string, fields: Record<string, unknown>) => void
}

export class SubsonicService {
  readonly plays: PlayLog

  constructor(private readonly opts: SubsonicOptions) {
    this.plays = opts.plays ?? new MemoryPlayLog()
  }

  routes(): Route[] {
    const o = this.opts
    return subsonicRoutes({
      apps: new AppRegistry(o.home),
      deps: {
        catalog: new CatalogCache(o.union),
        union: o.union,
        annotations: new Annotations(o.home),
        plays: this.plays,
        book: o.book,
        publishPlaylist: o.publishPlaylist,
        tracks: o.tracks,
        stream: o.stream,
        renditions: o.renditions,
        ffmpeg: o.ffmpeg,
        covers: new Map(),
      },
      ...(o.log ? { log: o.log } : {}),
    })
  }
}
