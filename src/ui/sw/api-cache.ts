// The last answers of the API reads the library view needs (see
// requestKind): network first, so the page always sees the node's current
// library when it answers; the kept answer, marked with when it was fetched,
// only when the node cannot be reached. A refusal (401/403) drops every kept
// answer: a browser the node no longer admits keeps no copy to show.
import { API_CACHE, CACHED_AT_HEADER } from '../logic/offline.ts'

export async function serveApi(request: Request, now: () => number = Date.now): Promise<Response> {
  let res: Response
  try {
    res = await fetch(request)
  } catch (err) {
    const kept = await (await caches.open(API_CACHE)).match(request.url, { ignoreVary: true })
    if (kept) return kept
    throw err
  }
  if (res.status === 401 || res.status === 403) {
    await caches.delete(API_CACHE)
  } else if (res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
    await keep(request.url, res.clone(), now()).catch(() => undefined)
  }
  return res
}

async function keep(url: string, res: Response, at: number): Promise<void> {
  const headers = new Headers(res.headers)
  headers.set(CACHED_AT_HEADER, String(at))
  headers.delete('content-length')
  headers.delete('content-encoding')
  const body = await res.arrayBuffer()
  await (await caches.open(API_CACHE)).put(url, new Response(body, { status: 200, headers }))
}
