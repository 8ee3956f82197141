// The service worker's kept API answers (src/ui/sw/api-cache.ts) on Node's
// fetch types, with an in-memory stand-in for CacheStorage: network first,
// the kept copy (marked with when it was fetched) only when the node cannot
// be reached, and nothing kept once the node refuses the browser.
import test from 'ava'
import { serveApi, type CacheLike, type CachesLike } from '../../src/ui/sw/api-cache.ts'
import { API_CACHE, cachedAt } from '../../src/ui/logic/index.ts'

class MemoryCaches implements CachesLike {
  readonly stores = new Map<string, Map<string, Response>>()
  async open(name: string): Promise<CacheLike> {
    const store = this.stores.get(name) ?? new Map<string, Response>()
    this.stores.set(name, store)
    return {
      match: async (url) => store.get(url)?.clone(),
      put: async (url, res) => void store.set(url, res),
    }
  }
  async delete(name: string): Promise<boolean> {
    return this.stores.delete(name)
  }
}

const URL_ = 'http://127.0.0.1:7465/api/library?view=compact'
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } })
const down = async (): Promise<Response> => {
  throw new TypeError('fetch failed')
}

test('a live answer is passed on as it is and kept, marked with when; with the node away the kept one answers', async (t) => {
  const caches = new MemoryCaches()
  const live = await serveApi(new Request(URL_), { fetch: async () => json({ rows: [1, 2] }), caches, now: () => 1_765_000_000_000 })
  t.is(cachedAt(live.headers), null, 'the live answer is not marked')
  t.deepEqual(await live.json(), { rows: [1, 2] })
  const kept = await serveApi(new Request(URL_, { headers: { authorization: 'Bearer x' } }), { fetch: down, caches, now: () => 0 })
  t.is(kept.status, 200)
  t.is(cachedAt(kept.headers), 1_765_000_000_000)
  t.deepEqual(await kept.json(), { rows: [1, 2] })
  // Nothing kept for another URL: the network's failure stands.
  await t.throwsAsync(serveApi(new Request('http://127.0.0.1:7465/api/playlists'), { fetch: down, caches, now: () => 0 }), { message: 'fetch failed' })
})

test('errors and non-JSON answers are passed on, never kept; a refusal drops every kept answer', async (t) => {
  const caches = new MemoryCaches()
  const deps = (res: () => Response) => ({ fetch: async () => res(), caches, now: () => 5 })
  await serveApi(new Request(URL_), deps(() => json({ rows: [] })))
  t.is((await serveApi(new Request(URL_), deps(() => json({ error: { code: 'ERR_INTERNAL' } }, 500)))).status, 500)
  t.is((await serveApi(new Request(URL_), deps(() => new Response('<html>', { headers: { 'content-type': 'text/html' } })))).status, 200)
  t.deepEqual(await (await serveApi(new Request(URL_), { fetch: down, caches, now: () => 0 })).json(), { rows: [] }, 'still the last good answer')
  t.is((await serveApi(new Request(URL_), deps(() => json({ error: { code: 'ERR_UNAUTHORIZED' } }, 401)))).status, 401)
  t.false(caches.stores.has(API_CACHE), 'refused: nothing kept')
  await t.throwsAsync(serveApi(new Request(URL_), { fetch: down, caches, now: () => 0 }))
  await serveApi(new Request(URL_), deps(() => json({ rows: [3] })))
  t.is((await serveApi(new Request(URL_), deps(() => json({}, 403)))).status, 403)
  t.false(caches.stores.has(API_CACHE))
})
