// What the service worker (src/ui/sw) does with each request, and the page's
// side of its offline copies: pure, so test/ui-components checks the policy
// without a browser. docs/decisions/pwa-offline.md says why each rule.

/** Shell caches are named per build (`djcloud-shell-<version>`); a new worker deletes the others. */
export const SHELL_CACHE_PREFIX = 'djcloud-shell-'
/** The last answers of the API reads the library view needs; kept across builds. */
export const API_CACHE = 'djcloud-api-v1'
/** Set on an API answer the worker kept, to when it was fetched (ms since 1970): its presence says "offline copy". */
export const CACHED_AT_HEADER = 'X-Djcloud-Cached-At'
/** The key under which the worker keeps the page (without its token) for offline loads. */
export const SHELL_PAGE = '/'
/** Where the built worker and manifest are served; the worker's scope is the whole UI. */
export const SERVICE_WORKER_URL = '/sw.js'
export const MANIFEST_URL = '/manifest.webmanifest'
/** Messages the page posts to a waiting worker. */
export const SKIP_WAITING = 'djcloud:skip-waiting'

/**
 * page: a navigation to the UI (network first, the kept shell when the node
 * does not answer); shell: a built file (cache first); api: a read whose last
 * answer is kept (network first); stream: /stream/, answered by the page
 * that is a browser device when marked from=page, else the network
 * (src/ui/sw/stream.ts); network:
 * everything else, never cached.
 */
export type RequestKind = 'page' | 'shell' | 'api' | 'stream' | 'network'

export interface RequestFacts {
  method: string
  url: string
  /** The worker's own origin (self.location.origin). */
  origin: string
  /** Request.mode: 'navigate' for page loads. */
  mode: string
  /** Whether the request has a Range header. */
  range: boolean
}

/**
 * The API reads the offline library view needs, and only those: they hold
 * what the page shows anyway (tracks, holders' names, playlists, play
 * counts), never a token, session key, pairing code or roster.
 */
const KEPT_API = [/^\/api\/library$/, /^\/api\/plays\/counts$/, /^\/api\/playlists$/, /^\/api\/playlists\/[^/]+$/]

export function requestKind(r: RequestFacts): RequestKind {
  let url: URL
  try {
    url = new URL(r.url)
  } catch {
    return 'network'
  }
  if (url.origin !== r.origin) return 'network'
  if (url.pathname.startsWith('/stream/')) return 'stream'
  if (r.method !== 'GET' || r.range) return 'network'
  if (r.mode === 'navigate') return url.pathname === '/' || url.pathname === '/index.html' ? 'page' : 'network'
  if (url.pathname.startsWith('/assets/') || url.pathname === MANIFEST_URL) return 'shell'
  if (KEPT_API.some((re) => re.test(url.pathname))) return 'api'
  return 'network'
}

/** A loopback page's <meta name="djcloud-token"> (src/player/ui-files.ts withToken) removed: the kept shell never holds the token. */
export function withoutToken(html: string): string {
  return html.replace(/<meta name="djcloud-token" content="[^"]*">/gi, '')
}

/** When an answer was kept by the worker (ms), or null for a live answer from the node. */
export function cachedAt(headers: { get(name: string): string | null }): number | null {
  const v = headers.get(CACHED_AT_HEADER)
  if (v === null || !/^\d{1,15}$/.test(v)) return null
  return Number(v)
}

/** The banner over an offline copy of the library. */
export function offlineBanner(at: number, locale?: string): string {
  return `offline: showing the library as of ${new Date(at).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' })}`
}
