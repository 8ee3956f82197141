// The service worker (built to dist/ui/sw.js by the pwa plugin in
// src/ui-build, scope /). Registering its listeners is what a worker script
// is for: this file is the one place with side effects. The build defines
// this build's id and the list of its files. Policy: src/ui/logic/offline.ts;
// why: docs/decisions/pwa-offline.md.
import { requestKind, SKIP_WAITING } from '../logic/offline.ts'
import { serveApi, type ApiCacheDeps } from './api-cache.ts'
import { dropOtherShells, precache, serveShellFile, servePage, type ShellOptions } from './shell.ts'
import { STREAM_DEFAULTS, streamResponse, type StreamDeps } from './stream.ts'

declare const self: ServiceWorkerGlobalScope
declare const __DJCLOUD_SW_VERSION__: string
declare const __DJCLOUD_SW_PRECACHE__: readonly string[]

const PAGE_TIMEOUT = 5_000 // ms: then the kept page (a phone whose laptop left the LAN)
const opts: ShellOptions = { version: __DJCLOUD_SW_VERSION__, pageTimeoutMs: PAGE_TIMEOUT }
const apiDeps: ApiCacheDeps = { fetch: (r) => fetch(r), caches: self.caches, now: Date.now }

/** The pages this worker controls, the one asking first: the page holding the browser device answers /stream/. */
async function streamClients(first: string): Promise<readonly Client[]> {
  const all = await self.clients.matchAll({ type: 'window' })
  return [...all.filter((c) => c.id === first), ...all.filter((c) => c.id !== first)]
}

// No skipWaiting here: a new build waits until the page asks (its "reload
// for the new version"), so an open page never runs against a worker of
// another build.
self.addEventListener('install', (event) => event.waitUntil(precache(opts, __DJCLOUD_SW_PRECACHE__)))

self.addEventListener('activate', (event) => event.waitUntil(dropOtherShells(opts.version).then(() => self.clients.claim())))

self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === SKIP_WAITING) event.waitUntil(self.skipWaiting())
})

self.addEventListener('fetch', (event) => {
  const req = event.request
  const kind = requestKind({ method: req.method, url: req.url, origin: self.location.origin, mode: req.mode, range: req.headers.has('range') })
  switch (kind) {
    case 'page':
      return event.respondWith(servePage(req, opts))
    case 'shell':
      return event.respondWith(serveShellFile(req, opts.version))
    case 'api':
      return event.respondWith(serveApi(req, apiDeps))
    case 'stream': {
      const deps: StreamDeps = { ...STREAM_DEFAULTS, clients: () => streamClients(event.clientId), fetch: (r) => fetch(r) }
      const answer = streamResponse(req, deps)
      if (answer) event.respondWith(answer)
      return
    }
    case 'network':
      return // not answered here: the browser goes to the network as without a worker
  }
})
