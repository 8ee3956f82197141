// The last answers of the API reads the library view needs (see
// requestKind): network first, so the page always sees the node's current
// library when it answers; the kept answer, marked with when it was fetched,
// only when the node cannot be reached. A refusal (401/403) drops every kept
// answer: a browser the node no longer admits keeps no copy to show.
// Its few needs are passed in (the worker's fetch and CacheStorage), so
// test/ui-components runs it on Node's Request and Response.
import { API_CACHE, CACHED_AT_HEADER } from '../logic/offline.ts'

export interface CacheLike {
  match(url: string, options?: { ignoreVary?: boolean }): Promise<Response | undefined>
  put(url: string, response: Response): Promise<void>
}

export interface CachesLike {
  open(name: string): Promise<CacheLike>
  delete(name: string): Promise<boolean>
}

export interface ApiCacheDeps {
  fetch: (request: Request) => Promise<Response>
  caches: CachesLike
  /** ms since 1970: when a kept answer was fetched. */
  now: () => number
}

export async function serveApi(request: Request, deps: ApiCacheDeps): Promise<Response> {
  let res: Response
  try {
    res = await deps.fetch(request)
  } catch (err) {
    const kept = await (await deps.caches.open(API_CACHE)).match(request.url, { ignoreVary: true })
    if (kept) return kept
    throw err
  }
  if (res.status === 401 || res.status === 403) {
    await deps.caches.delete(API_CACHE)
  } else if (res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
    await keep(deps, request.url, res.clone()).catch(() => undefined)
  }
  return res
}

async function keep(deps: ApiCacheDeps, url: string, res: Response): Promise<void> {
  const headers = new Headers(res.headers)
  headers.set(CACHED_AT_HEADER, String(deps.now()))
  headers.delete('content-length')
  headers.delete('content-encoding')
  const body = await res.arrayBuffer()
  await (await deps.caches.open(API_CACHE)).put(url, new Response(body, { status: 200, headers }))
}
