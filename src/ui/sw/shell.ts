// The app shell: the built files, cache first (their names carry content
// hashes, so a kept copy is never stale), and the page, network first (it
// names the current build's files and, on loopback, carries the API token),
// with the kept page as the fallback when the node does not answer.
import { SHELL_CACHE_PREFIX, SHELL_PAGE, withoutToken } from '../logic/offline.ts'

export interface ShellOptions {
  /** This build's id (from the build): names its cache. */
  version: string
  /** ms a page load waits for the node before the kept page is shown (an unreachable LAN host may not refuse, only time out). */
  pageTimeoutMs: number
}

export const shellCache = (version: string) => `${SHELL_CACHE_PREFIX}${version}`

/** Install: this build's files and its page, all or nothing (a failed install leaves the old worker in charge). */
export async function precache(opts: ShellOptions, files: readonly string[]): Promise<void> {
  const cache = await caches.open(shellCache(opts.version))
  await cache.addAll(files.map((f) => new Request(f, { cache: 'reload' })))
  const page = await fetch(SHELL_PAGE, { cache: 'no-store', credentials: 'same-origin' })
  if (!page.ok) throw new Error(`the page answered ${page.status}`)
  await keepPage(cache, page)
}

/** Activate: the shells of other builds go. The API answers stay (they do not depend on the build). */
export async function dropOtherShells(version: string): Promise<void> {
  const keep = shellCache(version)
  for (const name of await caches.keys()) if (name.startsWith(SHELL_CACHE_PREFIX) && name !== keep) await caches.delete(name)
}

/** A built file: the kept copy, else the network (and kept: the page may name a newer build's files than this worker precached). */
export async function serveShellFile(request: Request, version: string): Promise<Response> {
  const cache = await caches.open(shellCache(version))
  const kept = await cache.match(request, { ignoreSearch: true, ignoreVary: true })
  if (kept) return kept
  const res = await fetch(request)
  if (res.ok && res.status === 200) await cache.put(request.url, res.clone()).catch(() => undefined)
  return res
}

/** A page load: the node's page when it answers (kept, without the token, for next time), else the kept page. */
export async function servePage(request: Request, opts: ShellOptions): Promise<Response> {
  const cache = await caches.open(shellCache(opts.version))
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), opts.pageTimeoutMs)
  try {
    const res = await fetch(request, { signal: abort.signal })
    if (res.ok && (res.headers.get('content-type') ?? '').startsWith('text/html')) await keepPage(cache, res.clone()).catch(() => undefined)
    return res
  } catch (err) {
    const kept = await cache.match(SHELL_PAGE)
    if (kept) return kept
    throw err
  } finally {
    clearTimeout(timer)
  }
}

async function keepPage(cache: Cache, res: Response): Promise<void> {
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  headers.delete('content-encoding')
  await cache.put(SHELL_PAGE, new Response(withoutToken(await res.text()), { status: 200, headers }))
}
