// Talking to the node: JSON in and out, the token on every state change, and
// errors turned into ApiError with the node's code and message.
import { cachedAt, fromPageUrl } from '../logic/index.ts'
import { pagePlays } from './page-streams.ts'

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** The token the node put in the page (loopback only); remote pages use a session. */
export function pageToken(): string | null {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="djcloud-token"]')
  const v = meta?.content.trim()
  return v ? v : null
}

/**
 * A browser session's keys (POST /api/session). The cookie alone opens
 * nothing: cookies go to every port of a host, so the node also wants the
 * session's key in a header, or its stream key in a /stream URL. The keys are
 * kept in localStorage, which is this page's origin's alone (scheme, host and
 * port): a service on another port of the same host cannot read them.
 */
export interface SessionKeys {
  key: string
  streamKey: string
}

const SESSION_KEYS = 'djcloud.session'
const KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/

export function sessionKeys(): SessionKeys | null {
  try {
    const v = JSON.parse(localStorage.getItem(SESSION_KEYS) ?? 'null') as Partial<SessionKeys> | null
    return v && KEY_SHAPE.test(v.key ?? '') && KEY_SHAPE.test(v.streamKey ?? '') ? { key: v.key!, streamKey: v.streamKey! } : null
  } catch {
    return null
  }
}

let token: string | null | undefined

export function authHeaders(): Record<string, string> {
  if (token === undefined) token = pageToken()
  if (token) return { Authorization: `Bearer ${token}` }
  const keys = sessionKeys()
  return keys ? { 'X-Djcloud-Session': keys.key } : {}
}

/**
 * The URL an <audio> element plays (it cannot send a header): with the
 * session's stream key when there is one, and from=page on a browser device
 * (its service worker then answers from the page's swarm, else the node).
 */
export function streamUrl(sha256: string): string {
  const keys = sessionKeys()
  const url = keys ? `/stream/${sha256}?sk=${encodeURIComponent(keys.streamKey)}` : `/stream/${sha256}`
  return pagePlays() ? fromPageUrl(url) : url
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`
  let message = res.statusText || `HTTP ${res.status}`
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } }
    if (body.error?.code) code = body.error.code
    if (body.error?.message) message = body.error.message
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(res.status, code, message)
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  signal?: AbortSignal
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  return (await apiKept<T>(path, opts)).body
}

/**
 * As api(), and whether the answer is the service worker's kept copy (the
 * node did not answer): `cachedAt` is when that copy was fetched, null for a
 * live answer (src/ui/logic/offline.ts).
 */
export async function apiKept<T>(path: string, { method = 'GET', body, signal }: RequestOptions = {}): Promise<{ body: T; cachedAt: number | null }> {
  // The token goes on reads too: with remote access (--listen) the node wants it on every request.
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, credentials: 'same-origin' })
  } catch (err) {
    if (signal?.aborted) throw err
    throw new ApiError(0, 'ERR_OFFLINE', 'the djcloud node does not answer (is `djcloud serve` running?)')
  }
  if (!res.ok) throw await errorOf(res)
  if (res.status === 204) return { body: undefined as T, cachedAt: null }
  return { body: (await res.json()) as T, cachedAt: cachedAt(res.headers) }
}

/** Sends a file's bytes as the body (an import's upload); the answer is JSON. */
export async function upload<T>(path: string, file: Blob): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/xml', ...authHeaders() }, body: file, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'ERR_OFFLINE', 'the djcloud node does not answer (is `djcloud serve` running?)')
  }
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as T
}

/** Fetches a file the node makes (an export) with the page's credentials: its bytes and the name it suggests. */
export async function download(path: string): Promise<{ blob: Blob; disposition: string | null }> {
  let res: Response
  try {
    res = await fetch(path, { headers: authHeaders(), credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'ERR_OFFLINE', 'the djcloud node does not answer (is `djcloud serve` running?)')
  }
  if (!res.ok) throw await errorOf(res)
  return { blob: await res.blob(), disposition: res.headers.get('content-disposition') }
}

/** Why a stream cannot play, asked of the node after the audio element failed. */
export async function streamProblem(sha256: string): Promise<ApiError | null> {
  try {
    const res = await fetch(`/stream/${sha256}`, { headers: { Range: 'bytes=0-0', ...authHeaders() }, credentials: 'same-origin' })
    if (res.ok) {
      await res.body?.cancel()
      return null
    }
    return await errorOf(res)
  } catch {
    return new ApiError(0, 'ERR_OFFLINE', 'the djcloud node does not answer')
  }
}

/** Exchanges the token for a session: the cookie, and the keys kept in this origin's storage. */
export async function startSession(t: string): Promise<void> {
  const res = await fetch('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${t}` },
    body: JSON.stringify({ token: t }),
    credentials: 'same-origin',
  })
  if (!res.ok) throw await errorOf(res)
  const { key, streamKey } = (await res.json()) as SessionKeys
  localStorage.setItem(SESSION_KEYS, JSON.stringify({ key, streamKey }))
}

/**
 * An <audio> element cannot send the Bearer header: when the node wants the
 * token on reads too (remote access is on), the page's token is exchanged for
 * a session, whose stream key /stream URLs carry.
 */
export async function ensureStreamSession(): Promise<void> {
  const t = pageToken()
  if (!t) return
  const keys = sessionKeys()
  const res = await fetch('/api/health', { headers: keys ? { 'X-Djcloud-Session': keys.key } : {}, credentials: 'same-origin' })
  if (res.status === 401) await startSession(t)
}

/** A person's reading of an error. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'ERR_TRACK_UNAVAILABLE':
        return `Track unavailable: no device holding it is online or it could not be read (${err.message})`
      case 'ERR_TRACK_NOT_FOUND':
        return 'Track not found on any of your devices'
      case 'ERR_UNAUTHORIZED':
        return 'The node refused the token: reload the page, or enter the token again'
      default:
        return err.message
    }
  }
  return err instanceof Error ? err.message : String(err)
}
