// /rest/<name> and /rest/<name>.view, GET or form POST: parse, authenticate,
// call the endpoint's handler, answer in the envelope. The routes are public
// to the API's token guard (apps prove themselves with their own
// credentials; Host and Origin are still checked), and every failure a
// client can cause is a Subsonic error, never a crash.
import type { IncomingMessage } from 'node:http'
import { ApiError, type Route } from '../player/index.ts'
import * as annotate from './annotate.ts'
import type { AppRegistry } from './apps.ts'
import { authenticate } from './auth.ts'
import * as browse from './browse.ts'
import type { Handler, HandlerContext, SubsonicDeps } from './context.ts'
import { missing, SUBSONIC_ERRORS, SubsonicError } from './errors.ts'
import * as media from './media.ts'
import { Params } from './params.ts'
import * as playlists from './playlists.ts'
import { formatOf, sendSubsonic, sendSubsonicError } from './response.ts'
import type { Annotated } from './shapes.ts'

export const FORM_BODY_LIMIT = 64 * 1024 // bytes of a form POST

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ping: browse.ping,
  getLicense: browse.getLicense,
  getOpenSubsonicExtensions: browse.getOpenSubsonicExtensions,
  getMusicFolders: browse.getMusicFolders,
  getIndexes: browse.getIndexes,
  getArtists: browse.getArtists,
  getArtist: browse.getArtist,
  getAlbum: browse.getAlbum,
  getSong: browse.getSong,
  getAlbumList2: browse.getAlbumList2,
  getRandomSongs: browse.getRandomSongs,
  search3: browse.search3,
  getGenres: browse.getGenres,
  getPlaylists: playlists.getPlaylists,
  getPlaylist: playlists.getPlaylist,
  createPlaylist: playlists.createPlaylist,
  updatePlaylist: playlists.updatePlaylist,
  deletePlaylist: playlists.deletePlaylist,
  stream: media.stream,
  download: media.download,
  getCoverArt: media.getCoverArt,
  getLyricsBySongId: media.getLyricsBySongId,
  scrobble: annotate.scrobble,
  star: annotate.star,
  unstar: annotate.unstar,
  getStarred2: annotate.getStarred2,
  setRating: annotate.setRating,
}

/** Endpoints that work without credentials (OpenSubsonic: the extensions list). */
const OPEN = new Set(['getOpenSubsonicExtensions'])

export interface SubsonicRoutesOptions {
  deps: SubsonicDeps
  apps: AppRegistry
  log?: (message: string, fields: Record<string, unknown>) => void
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > FORM_BODY_LIMIT) throw new SubsonicError(SUBSONIC_ERRORS.generic, `a form body is at most ${FORM_BODY_LIMIT} bytes`)
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > FORM_BODY_LIMIT) throw new SubsonicError(SUBSONIC_ERRORS.generic, `a form body is at most ${FORM_BODY_LIMIT} bytes`)
    chunks.push(chunk)
  }
  if (!total) return new URLSearchParams()
  if (type !== 'application/x-www-form-urlencoded') throw new SubsonicError(SUBSONIC_ERRORS.generic, 'a POST body must be application/x-www-form-urlencoded')
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

export function subsonicRoutes({ deps, apps, log = () => {} }: SubsonicRoutesOptions): Route[] {
  const route: Route = {
    methods: ['GET', 'POST'],
    path: '/rest/:name',
    public: true,
    longRunning: true, // a stream to a paused player stays open
    async handle({ req, res, params: path, query, signal }) {
      const params = new URLSearchParams(query)
      let format = formatOf(params.get('f'))
      try {
        if (req.method === 'POST') for (const [k, v] of await formBody(req)) params.append(k, v)
        format = formatOf(params.get('f'))
        const name = (path.name ?? '').replace(/\.view$/, '')
        const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name]! : undefined
        const p = new Params(params)
        const known = await apps.apps()
        const app = OPEN.has(name) && !params.has('u') && !params.has('apiKey') ? { name: '', password: '', apiKey: '', created: 0 } : authenticate(params, known)
        if (!handler) {
          const err = new SubsonicError(SUBSONIC_ERRORS.generic, `"${name.slice(0, 64)}" is not implemented by this server`)
          return sendSubsonicError(res, format, err, 501)
        }
        if (params.get('v') === null) throw missing('v')
        if (params.get('c') === null) throw missing('c')
        let annotated: Promise<Annotated> | undefined
        const ctx: HandlerContext = {
          params: p, app, req, res, signal, format, deps,
          annotated: () =>
            (annotated ??= (async () => ({
              plays: await deps.plays.stats(),
              starred: await deps.annotations.starred(),
              ratings: await deps.annotations.ratings(),
            }))()),
        }
        const body = await handler(ctx)
        if (body) sendSubsonic(res, format, body)
      } catch (err) {
        if (signal.aborted || res.headersSent) throw err
        if (err instanceof ApiError) throw err
        if (err instanceof SubsonicError) return sendSubsonicError(res, format, err)
        log('subsonic request failed', { url: req.url?.replace(/([?&](?:p|t|s|apiKey)=)[^&]*/g, '$1…'), error: err })
        sendSubsonicError(res, format, new SubsonicError(SUBSONIC_ERRORS.generic, 'internal error'))
      }
    },
  }
  return [route]
}
