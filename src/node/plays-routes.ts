// The play history over the local API (docs/plays.md): the web UI player's
// reports, the plays and counts, removal of a time range, the ListenBrainz
// export, imports (Traktor history, by `djcloud plays import`), and the
// "most played at gigs" counts.
import type { UnionEntry } from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import { countsAsPlay, listenBrainzLines, entryId, type PlayEntry } from '../plays/index.ts'
import type { NodePlays } from './plays.ts'

const MAX_IMPORT = 100_000 // plays in one import request

const bad = (why: string) => new ApiError(400, 'ERR_BAD_PARAM', why)
const isTime = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  if (!/^\d{1,15}$/.test(v)) throw bad(`${name} is ms since the epoch`)
  return Number(v)
}

function playView(p: PlayEntry, union: Map<string, UnionEntry>) {
  const t = union.get(p.sha256)?.track.tags
  return {
    id: entryId(p), sha256: p.sha256, at: p.at, source: p.source, device: p.device,
    ...(p.listened === undefined ? {} : { listened: p.listened }),
    ...(t?.title ? { title: t.title } : {}), ...(t?.artist ? { artist: t.artist } : {}),
  }
}

export function playsRoutes(o: { plays: NodePlays; union: () => Promise<Map<string, UnionEntry>> }): Route[] {
  const { book, gigs } = o.plays
  const inRange = (q: URLSearchParams) => {
    const from = timeParam(q, 'from') ?? 0
    const to = timeParam(q, 'to') ?? Number.MAX_SAFE_INTEGER
    return book.plays().filter((p) => p.at >= from && p.at <= to)
  }
  return [
    {
      methods: ['GET'],
      path: '/api/plays',
      handle: async ({ res, query }) => {
        const union = await o.union()
        const plays = inRange(query)
        const tracks = [...book.stats()].map(([sha256, s]) => ({ sha256, count: s.count, last: s.last }))
        sendJson(res, 200, { plays: plays.map((p) => playView(p, union)), tracks })
      },
    },
    {
      // The library's columns: counts and last plays only.
      methods: ['GET'],
      path: '/api/plays/counts',
      handle: async ({ res }) => sendJson(res, 200, { tracks: [...book.stats()].map(([sha256, s]) => ({ sha256, count: s.count, last: s.last })) }),
    },
    {
      // The web UI player: a play counts at half the track or four minutes (countsAsPlay); less is not recorded.
      methods: ['POST'],
      path: '/api/plays',
      handle: async ({ req, res }) => {
        const b = (await readJsonBody(req)) as { sha256?: unknown; listened?: unknown; duration?: unknown } | null
        if (typeof b?.sha256 !== 'string' || !SHA256_HEX.test(b.sha256)) throw bad('the body is {"sha256", "listened": seconds, "duration"?: seconds}')
        if (typeof b.listened !== 'number' || !Number.isFinite(b.listened) || b.listened < 0 || b.listened > 1e6) throw bad('listened is seconds (0-1000000)')
        if (b.duration !== undefined && (typeof b.duration !== 'number' || !Number.isFinite(b.duration) || b.duration <= 0)) throw bad('duration is seconds')
        const entry = (await o.union()).get(b.sha256)
        if (!entry) throw new ApiError(404, 'ERR_NOT_FOUND', 'no own device holds this track')
        const duration = entry.track.tags.duration ?? (b.duration as number | undefined)
        if (!countsAsPlay(b.listened, duration)) return sendJson(res, 200, { counted: false })
        const e = await book.record({ sha256: b.sha256, at: Date.now(), source: 'web', listened: Math.round(b.listened) })
        sendJson(res, 200, { counted: true, id: entryId(e) })
      },
    },
    {
      methods: ['POST'],
      path: '/api/plays/remove',
      handle: async ({ req, res }) => {
        const b = (await readJsonBody(req)) as { from?: unknown; to?: unknown } | null
        if (!isTime(b?.from) || !isTime(b?.to) || b.from > b.to) throw bad('the body is {"from", "to"}: ms since the epoch, from <= to')
        const removed = book.plays().filter((p) => p.at >= (b.from as number) && p.at <= (b.to as number)).length
        const e = await book.remove(b.from, b.to)
        sendJson(res, 200, { removed, id: entryId(e) })
      },
    },
    {
      // Idempotent: a play of the same track at the same time from the same source is added once.
      methods: ['POST'],
      path: '/api/plays/import',
      handle: async ({ req, res }) => {
        const b = (await readJsonBody(req, 16 * 1024 * 1024)) as { plays?: unknown } | null
        const list = b?.plays
        if (!Array.isArray(list) || list.length > MAX_IMPORT) throw bad(`the body is {"plays": [{sha256, at, source, listened?}]} (at most ${MAX_IMPORT})`)
        const ok = list.every((p: { sha256?: unknown; at?: unknown; source?: unknown; listened?: unknown }) =>
          typeof p?.sha256 === 'string' && SHA256_HEX.test(p.sha256) && isTime(p.at) && typeof p.source === 'string' && p.source.length > 0 && p.source.length <= 64 &&
          (p.listened === undefined || (typeof p.listened === 'number' && p.listened >= 0 && p.listened < 1e7)))
        if (!ok) throw bad('each play is {sha256: 64 hex, at: ms, source: 1-64 characters, listened?: seconds}')
        let added = 0
        let already = 0
        for (const p of list as Array<{ sha256: string; at: number; source: string; listened?: number }>) {
          if (book.holdsPlay(p.sha256, p.at, p.source)) {
            already++
            continue
          }
          await book.record(p.listened === undefined ? { sha256: p.sha256, at: p.at, source: p.source } : p)
          added++
        }
        sendJson(res, 200, { added, already })
      },
    },
    {
      methods: ['GET'],
      path: '/api/plays/export',
      handle: async ({ res, query }) => {
        const format = query.get('format') ?? 'listenbrainz'
        if (format !== 'listenbrainz') throw bad('format is listenbrainz')
        const union = await o.union()
        const text = listenBrainzLines(inRange(query), (sha) => {
          const t = union.get(sha)?.track.tags
          return t && { ...(t.artist ? { artist: t.artist } : {}), ...(t.title ? { title: t.title } : {}), ...(t.album ? { album: t.album } : {}), ...(t.duration ? { duration: t.duration } : {}) }
        })
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
        res.end(text)
      },
    },
    {
      methods: ['GET'],
      path: '/api/plays/gigs',
      handle: async ({ res }) => {
        const union = await o.union()
        const windows = gigs.windows()
        const tracks = book.countIn(windows).map((c) => {
          const t = union.get(c.sha256)?.track.tags
          return { ...c, ...(t?.title ? { title: t.title } : {}), ...(t?.artist ? { artist: t.artist } : {}) }
        })
        sendJson(res, 200, { gigs: windows, tracks })
      },
    },
  ]
}
