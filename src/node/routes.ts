// The node's own API routes, beside the library's: devices online, and
// fetching a whole track into the cache (what `djcloud get` asks a running node).
import { ApiError, readJsonBody, SHA256_HEX, type Route } from '../player/index.ts'
import { SwarmError, type Swarm } from '../swarm/index.ts'
import { sendJson } from '../player/index.ts'

export function nodeRoutes(swarm: Swarm): Route[] {
  return [
    {
      methods: ['GET'],
      path: '/api/devices',
      async handle({ res }) {
        sendJson(res, 200, {
          devices: swarm.devices.online().map((l) => ({ name: l.name, device: l.device, host: l.host, peerPort: l.peerPort, path: l.path })),
        })
      },
    },
    {
      methods: ['POST'],
      path: '/api/fetch',
      longRunning: true,
      async handle({ req, res, signal }) {
        const body = (await readJsonBody(req)) as { sha256?: unknown } | null
        const sha256 = typeof body?.sha256 === 'string' ? body.sha256 : ''
        if (!SHA256_HEX.test(sha256)) throw new ApiError(400, 'ERR_BAD_ID', 'a track id is its SHA-256: 64 lowercase hex digits')
        try {
          sendJson(res, 200, await swarm.fetch(sha256, { signal }))
        } catch (err) {
          if (err instanceof SwarmError && err.code === 'ERR_NO_HOLDER') throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', err.message)
          if (err instanceof SwarmError && err.code === 'ERR_CACHE_FULL') throw new ApiError(507, 'ERR_CACHE_FULL', err.message)
          throw err
        }
      },
    },
  ]
}
