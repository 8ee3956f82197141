// Browser sessions for remote access. A browser cannot put a Bearer header on
// a page load or on <audio src>, so it trades the token once (POST
// /api/session) for two things:
//   - a cookie: 32 random bytes, HttpOnly (page scripts cannot read it),
//     SameSite=Strict (never sent on a request another site starts);
//   - in the JSON answer, the session's key (sent back as the
//     X-Djcloud-Session header) and stream key (the `sk` query parameter of
//     /stream URLs, the one request an <audio> element makes).
// A cookie alone is worth nothing: cookies are not isolated by port, so any
// other service on the same host name receives it. The keys live in the
// page's own storage, which is scoped to its origin, port included.
// Kept in memory only: a restarted node asks for the token again.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.ts'
import { SESSION_COOKIE, tokenMatches, type DeviceTokenCheck } from './guard.ts'
import { readJsonBody, sendJson } from './http-io.ts'
import { queryParams } from './params.ts'
import type { Route } from './router.ts'

export const SESSION_MAX_AGE = 30 * 24 * 3600 // s
export const MAX_SESSIONS = 1024 // oldest dropped beyond this
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/ // 32 bytes, base64url

/** What a new session gives the browser: the cookie's value and the two keys its page keeps. */
export interface NewSession {
  id: string
  key: string
  streamKey: string
}

/** Which secret proves the page holds the session: its key (any request) or its stream key (/stream only). */
export type SessionProof = 'key' | 'stream'

interface Entry {
  expires: number
  key: Buffer
  stream: Buffer
  /** The paired browser device (hex key) whose token opened it; the session lives only while that device may. */
  device?: string
}

export class SessionStore {
  /** SHA-256 of the id -> expiry (ms) and SHA-256 of both keys: a lookup's timing says nothing about the secrets. */
  private readonly sessions = new Map<string, Entry>()

  constructor(
    private readonly now: () => number = Date.now,
    /** Whether a paired device may still use what its token opened (not revoked). */
    private readonly deviceAllowed: (device: string) => boolean = () => false,
  ) {}

  /** A new session; `device` when a paired browser device's token opened it. */
  create(device?: string): NewSession {
    const secret = () => randomBytes(32).toString('base64url')
    const made = { id: secret(), key: secret(), streamKey: secret() }
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    this.sessions.set(digest(made.id).toString('base64'), {
      expires: this.now() + SESSION_MAX_AGE * 1000,
      key: digest(made.key),
      stream: digest(made.streamKey),
      ...(device === undefined ? {} : { device }),
    })
    return made
  }

  /** Whether `id` (the cookie) names a live session and `secret` is its key of the given kind. */
  check(id: string, secret: string, kind: SessionProof): boolean {
    if (!SECRET_SHAPE.test(id) || !SECRET_SHAPE.test(secret)) return false
    const name = digest(id).toString('base64')
    const entry = this.sessions.get(name)
    if (!entry) return false
    if (entry.expires <= this.now() || (entry.device !== undefined && !this.deviceAllowed(entry.device))) {
      this.sessions.delete(name)
      return false
    }
    return timingSafeEqual(digest(secret), kind === 'key' ? entry.key : entry.stream)
  }

  /** The paired device whose token opened the session `id`, if one did. */
  device(id: string): string | undefined {
    if (!SECRET_SHAPE.test(id)) return undefined
    return this.sessions.get(digest(id).toString('base64'))?.device
  }

  get size(): number {
    return this.sessions.size
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * POST /api/session {token}: public (the body carries the token), answers 200
 * {key, streamKey, maxAge} with the cookie. A paired browser device's token
 * opens a session too, which ends when the device is revoked.
 */
export function sessionRoute(sessions: SessionStore, token: string, deviceTokens?: DeviceTokenCheck, opts: { secure?: boolean } = {}): Route {
  // Secure on HTTPS: the browser then never sends the cookie over plain http (another service of the same host, a downgraded link).
  const attributes = `HttpOnly; ${opts.secure ? 'Secure; ' : ''}SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_AGE}`
  return {
    methods: ['POST'],
    path: '/api/session',
    public: true,
    async handle({ req, res, query }) {
      queryParams(query, [])
      const body = await readJsonBody(req)
      const given = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { token?: unknown }).token : undefined
      if (typeof given !== 'string' || given.length > 512) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body must be {"token": "..."}')
      const device = tokenMatches(given, token) ? undefined : (deviceTokens?.deviceOf(given) ?? null)
      if (device === null) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'that is not this node\'s API token')
      const s = sessions.create(device)
      sendJson(res, 200, { key: s.key, streamKey: s.streamKey, maxAge: SESSION_MAX_AGE }, {
        'Set-Cookie': `${SESSION_COOKIE}=${s.id}; ${attributes}`,
      })
    },
  }
}
