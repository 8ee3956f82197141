// What a Subsonic handler is given: the request's parameters and the app
// that made it, and the node's parts it may read or change.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ManifestBook, UnionEntry } from '../manifest/index.ts'
import type { Publication } from '../manifest/index.ts'
import type { Route, TrackSource } from '../player/index.ts'
import type { FfmpegEncoder, Renditions } from '../transcode/index.ts'
import type { Annotations } from './annotations.ts'
import type { AppCredential } from './apps.ts'
import type { CatalogCache } from './catalog.ts'
import type { Params } from './params.ts'
import type { PlayLog } from './play-log.ts'
import type { Format, Node } from './response.ts'
import type { Annotated } from './shapes.ts'

export interface SubsonicDeps {
  catalog: CatalogCache
  union: () => Promise<ReadonlyMap<string, UnionEntry>>
  annotations: Annotations
  plays: PlayLog
  book: ManifestBook
  /** Publishes a playlist edit (ManifestSync.publishPlaylist); not awaited by handlers. */
  publishPlaylist: (p: Publication) => Promise<unknown>
  /** Where stream, download and cover art read bytes: this device, own devices through the swarm. */
  tracks: TrackSource
  /** The node's /stream route over a source, reused for raw bytes with Range (the source gives the track's Content-Type). */
  stream: (tracks: TrackSource) => Route
  /** null: transcoding is not offered (error 0 for a format other than raw). */
  renditions: Renditions | null
  /** Covers as sent, by song id and size: the last COVER_CACHE. */
  covers: Map<string, { data: Buffer; type: string }>
  /** Resizes cover art too; null: covers go out at their own size. */
  ffmpeg: FfmpegEncoder | null
}

export interface HandlerContext {
  params: Params
  app: AppCredential
  req: IncomingMessage
  res: ServerResponse
  signal: AbortSignal
  format: Format
  deps: SubsonicDeps
  /** Plays, stars and ratings, read once per request. */
  annotated(): Promise<Annotated>
}

/** A body to wrap in the envelope, or undefined when the handler answered itself (bytes). */
export type Handler = (ctx: HandlerContext) => Promise<Node | undefined>
