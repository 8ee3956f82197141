// Who may talk to the local API. Checked on every request, before routing:
//   1. Host must be one of this server's own names (127.0.0.1:PORT,
//      localhost:PORT, [::1]:PORT, with remote access the bound address and
//      configured names, and over HTTPS the certificate's names). A web page
//      that rebinds its DNS name to 127.0.0.1 still sends its own name as
//      Host, so it is refused.
//   2. Origin, when present, must be this server's own origin, and a browser's
//      Sec-Fetch-Site, when present, must say same-origin or none (typed or
//      bookmarked): a page of another site cannot use the API, nor embed a
//      stream to learn which tracks exist.
//   3. The token (Authorization: Bearer TOKEN, or a browser session: the
//      djcloud_session cookie POST /api/session gave for it AND that
//      session's key in X-Djcloud-Session, or on /stream its stream key in
//      `sk`) for anything that is not GET/HEAD/OPTIONS, and for every request
//      when remote access is on. A cookie alone is refused: other services
//      on the same host (any port) receive it too. Routes marked public (the
//      UI's static files, POST /api/session itself) skip this step only.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { isIPv6 } from 'node:net'
import { ApiError } from './errors.ts'

/** Methods that change nothing; the only ones allowed without the token on loopback. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'] as const

export interface GuardPolicy {
  /** Accepted Host values, lowercase `name:port`. */
  hosts: ReadonlySet<string>
  /** Accepted Origin values, lowercase `http://name:port` (`https://` when the server speaks TLS). */
  origins: ReadonlySet<string>
  token: string
  /** Remote access: the token is needed for every request. */
  allowRemote: boolean
  /** Browser sessions: a valid djcloud_session cookie with its key (or stream key) stands in for the token. */
  sessions?: { check(id: string, secret: string, kind: 'key' | 'stream'): boolean; device?(id: string): string | undefined }
  /** Tokens of paired browser devices (docs/identity.md, "Browser devices"): each stands in for the token while its device is on the roster. */
  deviceTokens?: DeviceTokenCheck
}

/** Which paired device a token belongs to, and whether that device may still use it. */
export interface DeviceTokenCheck {
  /** The device (hex key) whose token this is and who may use it now, else null. Constant time in the token. */
  deviceOf(token: string): string | null
  /** Whether the device (hex key) may still use its token and the sessions opened with it (not revoked). */
  allowed(device: string): boolean
}

/**
 * What let a request through step 3: nothing was needed (a read on
 * loopback), the node's own token (or a session opened with it), or a paired
 * browser device's token (or a session opened with it).
 */
export type Credential = { kind: 'none' } | { kind: 'token' } | { kind: 'device'; device: string }

export interface HostPolicyInput {
  port: number
  /** The address the server is bound to. */
  address: string
  allowRemote: boolean
  /** Extra names this server answers to with remote access (e.g. "dj-laptop.local"). */
  hostNames?: readonly string[]
  /** This machine's addresses, used when bound to a wildcard address; defaults to none. */
  interfaceAddresses?: readonly string[]
  /** The server speaks TLS: origins are `https://` (default false: `http://`). */
  tls?: boolean
  /**
   * The names the server's certificate is valid for, accepted with or without
   * remote access: a page of another site cannot hold a certificate for them,
   * and a browser only reaches an https name it trusts (ApiTls.names).
   */
  certificateNames?: readonly string[]
}

export const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(['0.0.0.0', '::'])

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1, and IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase()
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || /^::ffff:127\./.test(a) || a === '::1' || a === '0:0:0:0:0:0:0:1'
}

/** `name` as it appears in a Host header: IPv6 literals in brackets. */
export function hostLiteral(name: string): string {
  return isIPv6(name) ? `[${name}]` : name
}

/** The Host and Origin values a server on `address:port` accepts. */
export function hostPolicy(input: HostPolicyInput): { hosts: Set<string>; origins: Set<string> } {
  const names = new Set<string>(LOOPBACK_NAMES)
  if (!WILDCARD_ADDRESSES.has(input.address)) names.add(input.address) // e.g. 127.0.0.2, or a LAN address with remote access
  if (input.allowRemote) {
    if (WILDCARD_ADDRESSES.has(input.address)) for (const a of input.interfaceAddresses ?? []) names.add(a)
    for (const n of input.hostNames ?? []) names.add(n)
  }
  for (const n of input.certificateNames ?? []) names.add(n)
  const scheme = input.tls ? 'https' : 'http'
  const hosts = new Set<string>()
  const origins = new Set<string>()
  for (const name of names) {
    const literal = hostLiteral(name).toLowerCase()
    const withPort = `${literal}:${input.port}`
    hosts.add(withPort)
    origins.add(`${scheme}://${withPort}`)
    if (input.port === (input.tls ? 443 : 80)) {
      // The scheme's default port: browsers leave it out of Host and Origin.
      hosts.add(literal)
      origins.add(`${scheme}://${literal}`)
    }
  }
  return { hosts, origins }
}

/** Compares two tokens in time that depends on neither's content (nor on the given one's length). */
export function tokenMatches(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** The token of an `Authorization: Bearer TOKEN` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header)
  return m?.[1]
}

/** One value of a header that must not repeat; undefined when absent. */
function single(req: IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name]
  if (!values) return undefined
  if (values.length !== 1) throw new ApiError(400, 'ERR_BAD_REQUEST', `more than one ${name} header`)
  return values[0]
}

export const SESSION_COOKIE = 'djcloud_session'
/** The header that carries a session's key beside its cookie (session.ts). */
export const SESSION_KEY_HEADER = 'x-djcloud-session'
/** The /stream query parameter that carries a session's stream key (an <audio> element sets no header). */
export const STREAM_KEY_PARAM = 'sk'

/** The stream key of a GET or HEAD /stream/... request, or undefined: it is good for nothing else. */
function streamKeyOf(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined
  const url = req.url ?? ''
  if (!url.startsWith('/stream/')) return undefined
  const q = url.indexOf('?')
  if (q < 0) return undefined
  const values = new URLSearchParams(url.slice(q + 1)).getAll(STREAM_KEY_PARAM)
  return values.length === 1 ? values[0] : undefined
}

/** The value of the djcloud_session cookie, or undefined (several Cookie headers are joined, as HTTP/2 splits them). */
export function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headersDistinct['cookie']
  if (!header) return undefined
  for (const pair of header.join('; ').split(';')) {
    const eq = pair.indexOf('=')
    if (eq > 0 && pair.slice(0, eq).trim() === SESSION_COOKIE) return pair.slice(eq + 1).trim()
  }
  return undefined
}

/** Throws the ApiError that refuses the request, or returns what let it through. */
export function guardRequest(req: IncomingMessage, policy: GuardPolicy): Credential {
  guardOrigin(req, policy)
  return guardToken(req, policy)
}

/** Steps 1 and 2: Host, Origin and fetch metadata. */
export function guardOrigin(req: IncomingMessage, policy: GuardPolicy): void {
  const host = single(req, 'host')
  if (host === undefined || !policy.hosts.has(host.toLowerCase())) {
    throw new ApiError(403, 'ERR_FORBIDDEN_HOST', 'this server does not answer to that Host')
  }
  const origin = single(req, 'origin')
  if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) {
    throw new ApiError(403, 'ERR_FORBIDDEN_ORIGIN', 'requests from other origins are refused')
  }
  const site = single(req, 'sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new ApiError(403, 'ERR_FORBIDDEN_ORIGIN', 'requests from other sites are refused')
  }
}

/** Step 3: the token (or a session cookie, or a paired browser's token) where it is needed. */
export function guardToken(req: IncomingMessage, policy: GuardPolicy): Credential {
  if (!policy.allowRemote && SAFE_METHODS.has(req.method ?? '')) return { kind: 'none' }
  const header = single(req, 'authorization')
  if (header === undefined && policy.sessions) {
    const session = sessionCookie(req)
    const key = single(req, SESSION_KEY_HEADER)
    if (session !== undefined) {
      const streamKey = key === undefined ? streamKeyOf(req) : undefined
      const ok = key !== undefined ? policy.sessions.check(session, key, 'key') : streamKey !== undefined && policy.sessions.check(session, streamKey, 'stream')
      if (ok) {
        const device = policy.sessions.device?.(session)
        return device === undefined ? { kind: 'token' } : { kind: 'device', device }
      }
    }
  }
  const given = bearerToken(header)
  if (given !== undefined) {
    if (tokenMatches(given, policy.token)) return { kind: 'token' }
    const device = policy.deviceTokens?.deviceOf(given)
    if (device) return { kind: 'device', device }
  }
  throw new ApiError(401, 'ERR_UNAUTHORIZED', 'this request needs the API token (Authorization: Bearer TOKEN)', {
    'WWW-Authenticate': 'Bearer realm="djcloud"',
  })
}
