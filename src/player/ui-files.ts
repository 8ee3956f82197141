// The web UI's static files (dist/ui, built by Vite): GET /, /index.html and
// /assets/<file>. The folder is listed once, when the server starts, into a
// map of URL path -> bytes in memory; a request path is only ever a key into
// that map, never joined onto a filesystem path, so nothing outside the
// listing can be reached. index.html gets the API token as a <meta> for pages
// loaded on this machine (loopback Host and loopback peer); remote browsers
// trade the token for a session cookie instead (session.ts). Two built files
// live at the root: manifest.webmanifest (installing the app) and sw.js, the
// service worker, which must sit at / to control the whole UI.
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { ApiError } from './errors.ts'
import { isLoopbackAddress } from './guard.ts'
import { COMMON_HEADERS } from './http-io.ts'
import { queryParams } from './params.ts'
import type { Route } from './router.ts'

export const UI_CSP =
  "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'"
/** Files other than the page: nothing of their own may run if one is opened directly (an SVG). */
const ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
/** The service worker's own policy (a worker script's CSP governs the worker): it only fetches from this node. */
export const SW_CSP = "default-src 'none'; connect-src 'self'"
/** Built files served at the root, not under /assets/ (both unhashed: revalidated on every use). */
const ROOT_FILES: Readonly<Record<string, string>> = { '/sw.js': SW_CSP, '/manifest.webmanifest': ASSET_CSP }
export const MAX_UI_FILES = 4096
export const MAX_UI_BYTES = 64 * 1024 * 1024
/** Vite names built assets name-HASH.ext (8 base64url-ish characters): their bytes never change. */
const HASHED = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json)|image\/svg)/

interface UiFile {
  body: Buffer
  gzip?: Buffer
  type: string
  etag: string
  immutable: boolean
}

/** The candidates for dist/ui: next to the bundle (dist/djcloud.js), or <repo>/dist/ui from the sources. */
export function defaultUiDirs(): string[] {
  return [fileURLToPath(new URL('./ui/', import.meta.url)), fileURLToPath(new URL('../../dist/ui/', import.meta.url))]
}

export class UiFiles {
  private files: ReadonlyMap<string, UiFile> | null = null
  private page: string | null = null
  private missing = 'the web UI is not built: run "npm run build"'

  /** `dirs`: the first holding index.html is served. */
  constructor(private readonly dirs: readonly string[]) {}

  /** Lists and reads the folder; a missing or broken build leaves `/` answering 503. */
  async load(): Promise<void> {
    for (const dir of this.dirs) {
      const index = await stat(join(dir, 'index.html')).catch(() => null)
      if (!index?.isFile()) continue
      try {
        const files = new Map<string, UiFile>()
        await collect(dir, '', files, { bytes: 0 })
        const page = files.get('/index.html')
        if (!page) continue
        this.page = page.body.toString('utf8')
        files.delete('/index.html')
        this.files = files
        return
      } catch (err) {
        this.missing = `the web UI in ${dir} could not be read (${(err as Error).message}): run "npm run build"`
        return
      }
    }
  }

  /** `token`: put in the page for browsers on this machine; null: never (a machine other people use). */
  routes(token: string | null): Route[] {
    // The page's query (?test=1, the end-to-end tests' hook) is the page's own business.
    const page = async ({ req, res }: { req: IncomingMessage; res: ServerResponse }) => {
      if (this.page === null) throw new ApiError(503, 'ERR_UI_UNAVAILABLE', this.missing)
      const html = token !== null && servedToThisMachine(req) ? withToken(this.page, token) : this.page
      send(req, res, Buffer.from(html, 'utf8'), {
        'Content-Type': TYPES['.html']!,
        'Cache-Control': 'no-store', // may hold the token; and always names the current asset hashes
        'Content-Security-Policy': UI_CSP,
      })
    }
    return [
      { methods: ['GET'], path: '/', public: true, handle: page },
      { methods: ['GET'], path: '/index.html', public: true, handle: page },
      {
        methods: ['GET'],
        path: '/assets/:file',
        public: true,
        handle: async ({ req, res, params, query }) => {
          queryParams(query, [])
          const file = this.files?.get(`/assets/${params.file}`)
          if (!file) throw new ApiError(404, 'ERR_NOT_FOUND', 'no such file')
          sendFile(req, res, file, ASSET_CSP)
        },
      },
      ...Object.entries(ROOT_FILES).map(([path, csp]): Route => ({
        methods: ['GET'],
        path,
        public: true,
        handle: async ({ req, res, query }) => {
          queryParams(query, [])
          const file = this.files?.get(path)
          if (!file) throw new ApiError(404, 'ERR_NOT_FOUND', 'no such file')
          sendFile(req, res, file, csp)
        },
      })),
    ]
  }
}

/** A listed file with its type and CSP, an ETag (304 when it matches) and gzip when the browser takes it. */
function sendFile(req: IncomingMessage, res: ServerResponse, file: UiFile, csp: string): void {
  const headers: Record<string, string> = {
    'Content-Type': file.type,
    'Content-Security-Policy': csp,
    ETag: file.etag,
    'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  }
  if (file.gzip) headers.Vary = 'Accept-Encoding'
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, { ...COMMON_HEADERS, ...headers })
    return void res.end()
  }
  const gzip = file.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
  send(req, res, gzip ? file.gzip! : file.body, gzip ? { ...headers, 'Content-Encoding': 'gzip' } : headers)
}

function send(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(200, { ...COMMON_HEADERS, ...headers, 'Content-Length': body.length })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** Regular files under `dir`, keyed by URL path; symlinks and other oddities are left out. */
async function collect(root: string, rel: string, out: Map<string, UiFile>, total: { bytes: number }): Promise<void> {
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name
    if (entry.isDirectory()) {
      await collect(root, relPath, out, total)
      continue
    }
    if (!entry.isFile()) continue
    if (out.size >= MAX_UI_FILES) throw new Error(`more than ${MAX_UI_FILES} files`)
    const body = await readFile(join(root, relPath))
    total.bytes += body.length
    if (total.bytes > MAX_UI_BYTES) throw new Error(`more than ${MAX_UI_BYTES} bytes`)
    const type = TYPES[extname(entry.name).toLowerCase()] ?? 'application/octet-stream'
    const gzip = COMPRESSIBLE.test(type) && body.length > 1024 ? gzipSync(body) : undefined
    out.set(`/${relPath}`, {
      body,
      ...(gzip && gzip.length < body.length ? { gzip } : {}),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: HASHED.test(entry.name),
    })
  }
}

/**
 * A page loaded on this machine: the Host names a loopback address (the
 * guard has already checked it is one of ours) and the peer is on loopback
 * too, so a LAN client sending `Host: 127.0.0.1:PORT` to a node with remote
 * access still gets no token.
 */
export function servedToThisMachine(req: IncomingMessage): boolean {
  const host = (req.headers.host ?? '').toLowerCase()
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return (name === 'localhost' || isLoopbackAddress(name)) && isLoopbackAddress(req.socket.remoteAddress ?? '')
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** index.html with <meta name="djcloud-token"> first in its head. */
export function withToken(html: string, token: string): string {
  const meta = `<meta name="djcloud-token" content="${escapeAttr(token)}">`
  const head = /<head(\s[^>]*)?>/i.exec(html)
  return head ? html.slice(0, head.index + head[0].length) + meta + html.slice(head.index + head[0].length) : meta + html
}
