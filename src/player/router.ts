// Request targets and the route table. A target is split into path segments,
// each percent-decoded once; a segment that decodes to '.', '..' or contains
// '/', '\' or NUL is refused outright, so no handler ever sees a path that
// could climb out of anything. Patterns match whole segments ("/api/tracks/:id").
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from './errors.ts'

/** Longest request target accepted (bytes); headers are bounded by the server too. */
export const MAX_TARGET_LENGTH = 8 * 1024

export interface RequestTarget {
  segments: string[]
  query: URLSearchParams
}

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  /** Decoded values of the pattern's `:name` segments. */
  params: Readonly<Record<string, string>>
  query: URLSearchParams
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal
}

export interface Route {
  /** GET implies HEAD; every route answers OPTIONS. */
  methods: readonly string[]
  /** e.g. "/stream/:sha256" */
  path: string
  /** Work that may send nothing for minutes (a scan): the idle-socket timeout is lifted. */
  longRunning?: boolean
  /**
   * No token needed, even with remote access (Host and Origin are still
   * checked): the UI's static files, and POST /api/session, which checks the
   * token in its body itself.
   */
  public?: boolean
  /**
   * Only with the node's own token (or a session opened with it), never a
   * paired browser device's: what would let a device widen the circle
   * or narrow it (pairing codes, revoking devices).
   */
  ownerOnly?: boolean
  handle(ctx: RequestContext): Promise<void>
}

const badPath = (why: string) => new ApiError(400, 'ERR_BAD_PATH', `bad request path: ${why}`)

/** Splits an origin-form request target (`/a/b?q`) into decoded segments and the query. */
export function parseTarget(url: string | undefined): RequestTarget {
  if (!url || !url.startsWith('/')) throw badPath('it must start with "/"')
  if (url.length > MAX_TARGET_LENGTH) throw badPath('too long')
  if (url.includes('#')) throw badPath('a fragment is not part of a request')
  const q = url.indexOf('?')
  const rawPath = q < 0 ? url : url.slice(0, q)
  const segments = rawPath
    .slice(1)
    .split('/')
    .map((raw) => {
      let seg: string
      try {
        seg = decodeURIComponent(raw)
      } catch {
        throw badPath('bad percent-encoding')
      }
      if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) throw badPath('a segment is not a plain name')
      return seg
    })
  return { segments, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) }
}

/** The methods a route answers, as an Allow header lists them. */
export function allowedMethods(route: Route): string[] {
  const out = new Set(route.methods)
  if (out.has('GET')) out.add('HEAD')
  out.add('OPTIONS')
  return [...out]
}

export class Router {
  private readonly compiled: Array<{ route: Route; parts: string[] }>

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, parts: route.path.slice(1).split('/') }))
  }

  /**
   * The route for this method and path with its params. 404 when no route has
   * the path, 405 (with Allow) when routes have it but not for this method.
   * OPTIONS matches any route with the path.
   */
  match(method: string, segments: readonly string[]): { route: Route; params: Record<string, string>; allow: string[] } {
    const byPath: Array<{ route: Route; params: Record<string, string> }> = []
    for (const { route, parts } of this.compiled) {
      const params = matchParts(parts, segments)
      if (params) byPath.push({ route, params })
    }
    if (byPath.length === 0) throw new ApiError(404, 'ERR_NOT_FOUND', 'no such endpoint')
    const allow = [...new Set(byPath.flatMap((m) => allowedMethods(m.route)))]
    const hit = byPath.find((m) => method === 'OPTIONS' || allowedMethods(m.route).includes(method))
    if (!hit) throw new ApiError(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed here`, { Allow: allow.join(', ') })
    return { ...hit, allow }
  }
}

function matchParts(parts: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (parts.length !== segments.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const seg = segments[i]!
    if (part.startsWith(':')) params[part.slice(1)] = seg
    else if (part !== seg) return null
  }
  return params
}
