// The node's local HTTP API: /stream/<sha256> and the JSON API under /api/.
// Every request passes the guard (Host, Origin, token) before routing. The
// collaborators are injected; nothing listens until listen().
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import pkg from '../../package.json' with { type: 'json' }
import type { Library } from '../library/index.ts'
import { apiRoutes, type ApiRoutesOptions } from './api-routes.ts'
import type { Route } from './router.ts'
import { ApiError, PlayerError, TrackUnavailableError } from './errors.ts'
import { guardOrigin, guardToken, hostLiteral, hostPolicy, isLoopbackAddress, WILDCARD_ADDRESSES, type DeviceTokenCheck, type GuardPolicy } from './guard.ts'
import { announcesBody, COMMON_HEADERS, sendError } from './http-io.ts'
import { parseTarget, Router } from './router.ts'
import { streamRoute, type StreamRouteOptions } from './stream.ts'
import { SessionStore, sessionRoute } from './session.ts'
import { defaultUiDirs, UiFiles } from './ui-files.ts'
import { apiTls, type ApiTls, type ApiTlsInput } from './tls.ts'
import type { TrackSource } from './track-source.ts'

// Server limits (node:http options).
export const MAX_HEADER_BYTES = 16 * 1024
export const HEADERS_TIMEOUT = 10_000 // ms to receive a request's headers
export const REQUEST_TIMEOUT = 30_000 // ms to receive a whole request (not to answer it)
export const KEEP_ALIVE_TIMEOUT = 5_000 // ms an idle keep-alive connection stays open
export const IDLE_SOCKET_TIMEOUT = 120_000 // ms without a byte either way (a long-paused player reconnects with Range)
export const MAX_CONNECTIONS = 256

export type ApiLog = (level: 'warn' | 'error', message: string, fields: Record<string, unknown>) => void

export interface ApiServerOptions {
  library: Library
  tracks: TrackSource
  /** Needed for state-changing requests, and for all with allowRemote. See loadOrCreateApiToken. */
  token: string
  /** Remote access (djcloud serve --listen ADDR): may bind a non-loopback address; every request needs the token. */
  allowRemote?: boolean
  /** Extra names accepted as Host with remote access (e.g. "dj-laptop.local"). */
  hostNames?: readonly string[]
  /** Reported by /api/health; default: the package version. */
  version?: string
  /** Bytes from a read's start the TrackSource is asked to prefetch. */
  prefetchBytes?: number
  /** A stream read that yields nothing for this long is cancelled (ms). */
  stallTimeoutMs?: number
  log?: ApiLog
  /** /stream/<sha256>?format=...: see StreamRouteOptions.transcode. */
  transcode?: StreamRouteOptions['transcode']
  /** More routes (the node's: devices, fetch); same guard, same error shape. */
  routes?: readonly Route[]
  /** Where GET /api/library?view=compact lists from (the node's union entries); default library.list. */
  libraryEntries?: ApiRoutesOptions['entries']
  /** See ApiRoutesOptions.cached. */
  cachedTrack?: ApiRoutesOptions['cached']
  /** See ApiRoutesOptions.usage. */
  usage?: ApiRoutesOptions['usage']
  /** The built web UI (index.html, assets/); default dist/ui of this package; null serves no UI. */
  uiDir?: string | null
  /**
   * Put the token in the page served to a browser on this machine (default
   * true). false: every browser, local ones too, types the token once and
   * gets a session, so other users of a shared machine cannot read it there.
   */
  pageToken?: boolean
  /** Paired browser devices' tokens, taken in place of the token (except on ownerOnly routes). */
  deviceTokens?: DeviceTokenCheck
  /**
   * WebSocket endpoints (the node's /api/signal): an upgrade to one of these
   * paths that passes the Host and Origin checks is handed over; the handler
   * authenticates it itself (a browser's WebSocket sends no Authorization
   * header). Any other upgrade is refused.
   */
  upgrades?: readonly UpgradeRoute[]
  /**
   * Speak HTTPS with this certificate and key (PEM) instead of HTTP, on the
   * same port with the same limits: a phone's browser then treats the UI as a
   * secure context (service worker, OPFS, WebCrypto). Checked by apiTls
   * (PlayerError ERR_BAD_TLS). The server answers to the certificate's names
   * too, accepts only https:// origins, and marks the session cookie Secure.
   */
  tls?: ApiTlsInput
}

/** A WebSocket endpoint of the API. */
export interface UpgradeRoute {
  path: string
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

export interface ApiServer {
  /** Binds `host` (default 127.0.0.1; "localhost" means 127.0.0.1) on `port` (0: any free port). */
  listen(port: number, host?: string): Promise<{ port: number; host: string }>
  /** Stops listening, aborts running requests (streams, scans) and waits for them; idempotent. */
  close(): Promise<void>
  /** http://HOST:PORT (https:// with TLS) of the bound server (a loopback URL when bound to a wildcard address). */
  readonly url: string
  /** The checked certificate when the server speaks HTTPS, else null. */
  readonly tls: ApiTls | null
}

const TOKEN_SHAPE = /^[\x21-\x7e]{16,512}$/

/** Methods whose requests carry no body here. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE'])

export function createApiServer(opts: ApiServerOptions): ApiServer {
  if (!TOKEN_SHAPE.test(opts.token)) throw new PlayerError('ERR_BAD_OPTION', 'the API token must be 16 to 512 visible ASCII characters')
  const allowRemote = opts.allowRemote === true
  const log: ApiLog = opts.log ?? (() => {})
  const tls = opts.tls ? apiTls(opts.tls) : null
  const sessions = new SessionStore(Date.now, (device) => opts.deviceTokens?.allowed(device) ?? false)
  const ui = opts.uiDir === null ? null : new UiFiles(opts.uiDir === undefined ? defaultUiDirs() : [opts.uiDir])
  const router = new Router([
    streamRoute({
      tracks: opts.tracks,
      prefetchBytes: opts.prefetchBytes,
      stallTimeoutMs: opts.stallTimeoutMs,
      warn: (message, fields) => log('warn', message, fields),
      ...(opts.transcode ? { transcode: opts.transcode } : {}),
    }),
    ...apiRoutes({ library: opts.library, version: opts.version ?? pkg.version, ...(opts.libraryEntries ? { entries: opts.libraryEntries } : {}), ...(opts.cachedTrack ? { cached: opts.cachedTrack } : {}), ...(opts.usage ? { usage: opts.usage } : {}) }),
    ...(opts.routes ?? []),
    sessionRoute(sessions, opts.token, opts.deviceTokens, { secure: tls !== null }),
    ...(ui ? ui.routes(opts.pageToken === false ? null : opts.token) : []),
  ])

  const limits: ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT,
    requestTimeout: REQUEST_TIMEOUT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
  }
  // With TLS, a client that does not finish its handshake within the headers'
  // time is dropped (node:tls would wait 120 s). A plain-HTTP request to this
  // port fails the handshake: the connection is closed, nothing is answered.
  const server = tls ? createHttpsServer({ ...limits, cert: tls.cert, key: tls.key, handshakeTimeout: HEADERS_TIMEOUT }) : createServer(limits)
  server.timeout = IDLE_SOCKET_TIMEOUT
  server.maxConnections = MAX_CONNECTIONS

  let state: 'new' | 'starting' | 'listening' | 'closed' = 'new'
  let policy: GuardPolicy | undefined
  let url: string | undefined
  let closing: Promise<void> | undefined
  const running = new Map<Promise<void>, AbortController>()

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    try {
      if (!policy) throw new ApiError(503, 'ERR_INTERNAL', 'the server is not ready')
      guardOrigin(req, policy)
      const method = req.method ?? ''
      // The route is looked up first only to know whether it is public (the
      // UI's files, POST /api/session); the token is still checked before a
      // bad path or an unknown route is reported.
      let matched: ({ target: ReturnType<typeof parseTarget> } & ReturnType<Router['match']>) | undefined
      let unmatched: unknown
      try {
        const target = parseTarget(req.url)
        matched = { target, ...router.match(method, target.segments) }
      } catch (err) {
        unmatched = err
      }
      const credential = matched?.route.public ? null : guardToken(req, policy)
      if (matched?.route.ownerOnly && credential?.kind === 'device') {
        throw new ApiError(403, 'ERR_FORBIDDEN', 'a browser device\'s token cannot do this: use the node\'s own token')
      }
      if (BODYLESS.has(method) && announcesBody(req)) throw new ApiError(400, 'ERR_BAD_REQUEST', `a ${method} request has no body`)
      if (!matched) throw unmatched
      const { target, route, params, allow } = matched
      if (method === 'OPTIONS') {
        res.writeHead(204, { ...COMMON_HEADERS, Allow: allow.join(', ') })
        res.end()
        return
      }
      if (route.longRunning) req.socket.setTimeout(0)
      await route.handle({ req, res, params, query: target.query, signal })
    } catch (err) {
      if (signal.aborted) {
        // The client went away or the server is closing: nobody to answer.
        if (!res.writableEnded) res.destroy()
        return
      }
      const apiError = toApiError(err)
      if (!apiError || apiError.status >= 500) {
        log(apiError ? 'warn' : 'error', res.headersSent ? 'response failed after its headers' : 'request failed', {
          method: req.method,
          url: req.url,
          error: err,
        })
      }
      try {
        sendError(req, res, apiError ?? new ApiError(500, 'ERR_INTERNAL', 'internal error'))
      } catch (sendErr) {
        log('error', 'could not send an error response', { method: req.method, url: req.url, error: sendErr })
        res.destroy()
      }
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ac = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) ac.abort()
    })
    const done = handle(req, res, ac.signal)
    running.set(done, ac)
    void done.finally(() => running.delete(done))
  })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    const refuse = (status: number, text: string) => socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    if (!policy || state !== 'listening') return refuse(503, 'Service Unavailable')
    try {
      guardOrigin(req, policy)
    } catch {
      return refuse(403, 'Forbidden')
    }
    const path = (req.url ?? '').split('?')[0]
    const route = opts.upgrades?.find((u) => u.path === path)
    if (!route) return refuse(404, 'Not Found')
    route.handle(req, socket, head)
  })

  return {
    async listen(port, host = '127.0.0.1') {
      if (state === 'closed') throw new PlayerError('ERR_CLOSED', 'the server was closed')
      if (state !== 'new') throw new PlayerError('ERR_ALREADY_LISTENING', 'the server is already listening')
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new PlayerError('ERR_BAD_OPTION', `bad port: ${port}`)
      const address = host === 'localhost' ? '127.0.0.1' : host
      if (!isIP(address)) throw new PlayerError('ERR_BAD_OPTION', `the listen address must be an IP address, not ${JSON.stringify(host)}`)
      if (!allowRemote && !isLoopbackAddress(address)) {
        throw new PlayerError('ERR_REMOTE_DISABLED', `${address} is not a loopback address; remote access must be enabled to listen on it`)
      }
      state = 'starting'
      await ui?.load()
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(port, address, () => {
            server.off('error', reject)
            resolve()
          })
        })
      } catch (err) {
        state = 'new'
        throw err
      }
      if (state !== 'starting') {
        // close() ran while binding
        server.close()
        throw new PlayerError('ERR_CLOSED', 'the server was closed')
      }
      const bound = server.address() as AddressInfo
      const wildcard = WILDCARD_ADDRESSES.has(bound.address)
      policy = {
        ...hostPolicy({
          port: bound.port,
          address: bound.address,
          allowRemote,
          hostNames: opts.hostNames,
          interfaceAddresses: wildcard ? localAddresses() : [],
          tls: tls !== null,
          ...(tls ? { certificateNames: tls.names } : {}),
        }),
        token: opts.token,
        allowRemote,
        sessions,
        ...(opts.deviceTokens ? { deviceTokens: opts.deviceTokens } : {}),
      }
      const urlHost = bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address
      url = `${tls ? 'https' : 'http'}://${hostLiteral(urlHost)}:${bound.port}`
      state = 'listening'
      return { port: bound.port, host: bound.address }
    },

    close() {
      closing ??= (async () => {
        state = 'closed'
        const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
        for (const ac of running.values()) ac.abort(new PlayerError('ERR_CLOSED', 'the server is closing'))
        server.closeAllConnections()
        await Promise.allSettled([stopped, ...running.keys()])
      })()
      return closing
    },

    get url() {
      if (!url) throw new PlayerError('ERR_NOT_LISTENING', 'the server is not listening yet')
      return url
    },

    tls,
  }
}

function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err
  if (err instanceof TrackUnavailableError) return new ApiError(503, 'ERR_TRACK_UNAVAILABLE', err.message)
  return undefined
}

/** This machine's addresses without zone ids, for a server bound to a wildcard address. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !(a.family === 'IPv6' && a.scopeid))
    .map((a) => a.address)
}
