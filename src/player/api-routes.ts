// The JSON API under /api/. Handlers are thin: check the input (params.ts),
// call the Library, shape the answer (views.ts).
import { LibraryError, type Library, type ListOptions } from '../library/index.ts'
import { ApiError } from './errors.ts'
import { readJsonBody, sendJson, sendJsonText } from './http-io.ts'
import { libraryListOptions, queryParams, scanRequest } from './params.ts'
import type { RequestContext, Route } from './router.ts'
import { SHA256_HEX } from './track-source.ts'
import { trackView } from './views.ts'
import { compactLibrary, type LibraryEntry } from './compact.ts'

/** `view` (full, the default, or compact) taken out of /api/library's query. */
function libraryView(query: URLSearchParams): { view: 'full' | 'compact'; rest: URLSearchParams } {
  const views = query.getAll('view')
  if (views.length > 1) throw new ApiError(400, 'ERR_BAD_PARAM', 'parameter "view" given twice')
  const view = views[0] ?? 'full'
  if (view !== 'full' && view !== 'compact') throw new ApiError(400, 'ERR_BAD_PARAM', 'view must be full or compact')
  const rest = new URLSearchParams(query)
  rest.delete('view')
  return { view, rest }
}

export interface ApiRoutesOptions {
  library: Library
  version: string
  /** The compact view's source: listed entries without copies (the node's union); default library.list. */
  entries?: (opts: ListOptions) => Promise<Iterable<LibraryEntry>>
  /** Whether this device has a track whole in its cache of fetched tracks (the compact view's `cached`). */
  cached?: (sha256: string) => boolean
  /** More of GET /api/stats: the node's local usage figures (docs/plays.md, "Local stats"), under `usage`. */
  usage?: () => Promise<unknown>
}

/** A GET/POST route whose handler returns the JSON body of a 200. */
const json = (methods: string[], path: string, fn: (ctx: RequestContext) => Promise<unknown>, extra: Partial<Route> = {}): Route => ({
  ...extra,
  methods,
  path,
  async handle(ctx) {
    sendJson(ctx.res, 200, await fn(ctx))
  },
})

export function apiRoutes({ library, version, entries, cached, usage }: ApiRoutesOptions): Route[] {
  let scanning = false
  const compactJson = new WeakMap<Iterable<LibraryEntry>, string>()
  return [
    json(['GET'], '/api/health', async ({ query }) => {
      queryParams(query, [])
      return { ok: true, version }
    }),

    {
      methods: ['GET'],
      path: '/api/library',
      async handle({ res, query }) {
        const { view, rest } = libraryView(query)
        const opts = libraryListOptions(rest)
        if (view !== 'compact') return sendJson(res, 200, { tracks: (await library.list(opts)).map(trackView) })
        if (!entries) {
          const tracks = await library.list(opts)
          return sendJson(res, 200, compactLibrary(tracks.map((t) => ({ track: t, holders: (t as { holders?: LibraryEntry['holders'] }).holders }))))
        }
        // The node hands out the same listing until the union changes: its JSON is made once.
        const listed = await entries(opts)
        let text = compactJson.get(listed)
        if (text === undefined) compactJson.set(listed, (text = JSON.stringify(compactLibrary(listed, cached))))
        sendJsonText(res, 200, text)
      },
    },

    json(['GET'], '/api/stats', async ({ query }) => {
      queryParams(query, [])
      return { stats: await library.stats(), ...(usage ? { usage: await usage() } : {}) }
    }),

    json(['GET'], '/api/tracks/:sha256', async ({ params, query }) => {
      queryParams(query, [])
      const id = params.sha256 ?? ''
      if (!SHA256_HEX.test(id)) throw new ApiError(400, 'ERR_BAD_ID', 'a track id is its SHA-256: 64 lowercase hex digits')
      const track = await library.track(id)
      if (!track) throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', 'no such track in the library')
      return { track: trackView(track) }
    }),

    // The scan stops when the client disconnects (Ctrl-C of a CLI going through the node) or the server closes.
    json(['POST'], '/api/scan', async ({ req, query, signal }) => {
      queryParams(query, [])
      const request = scanRequest(await readJsonBody(req))
      if (scanning) throw new ApiError(409, 'ERR_CONFLICT', 'a scan is already running')
      scanning = true
      try {
        const roots = request.roots ?? (await library.stats()).roots
        if (roots.length === 0) throw new ApiError(400, 'ERR_BAD_PARAM', 'no roots given and none scanned before')
        const summary = await library.scan(roots, { signal })
        return { summary }
      } catch (err) {
        if (err instanceof LibraryError && err.code === 'ERR_BAD_ROOT') throw new ApiError(400, 'ERR_BAD_ROOT', err.message)
        throw err
      } finally {
        scanning = false
      }
    }, { longRunning: true }),
  ]
}
