// The cache of fetched tracks over the local API: what is in it, pins, and
// the byte budget (src/swarm/track-cache.ts keeps them; `djcloud cache`).
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import { SwarmError, type Swarm } from '../swarm/index.ts'

function tracksOf(body: unknown): string[] {
  const list = (body as { tracks?: unknown } | null)?.tracks
  if (!Array.isArray(list) || list.length === 0 || list.length > 10_000 || !list.every((s) => typeof s === 'string' && SHA256_HEX.test(s))) {
    throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is {"tracks": [sha256, ...]} (1-10000 ids of 64 lowercase hex digits)')
  }
  return list as string[]
}

export function cacheRoutes(swarm: Swarm): Route[] {
  const view = () => ({ stats: swarm.cache.stats(), tracks: swarm.cache.list() })
  return [
    {
      methods: ['GET'],
      path: '/api/cache',
      handle: async ({ res }) => sendJson(res, 200, view()),
    },
    {
      methods: ['POST'],
      path: '/api/cache/pin',
      handle: async ({ req, res }) => {
        for (const sha of tracksOf(await readJsonBody(req))) await swarm.cache.pin(sha)
        sendJson(res, 200, view())
      },
    },
    {
      methods: ['POST'],
      path: '/api/cache/unpin',
      handle: async ({ req, res }) => {
        for (const sha of tracksOf(await readJsonBody(req))) await swarm.cache.unpin(sha)
        sendJson(res, 200, view())
      },
    },
    {
      methods: ['PUT'],
      path: '/api/cache/budget',
      handle: async ({ req, res }) => {
        const bytes = ((await readJsonBody(req)) as { bytes?: unknown } | null)?.bytes
        if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is {"bytes": a whole number >= 0}')
        try {
          await swarm.cache.setBudget(bytes)
        } catch (err) {
          // A budget below what cannot be evicted (pins, downloads in flight) is refused, as it says.
          if (err instanceof SwarmError && err.code === 'ERR_CACHE_BUDGET') throw new ApiError(409, 'ERR_CACHE_BUDGET', err.message)
          throw err
        }
        sendJson(res, 200, view())
      },
    },
  ]
}
