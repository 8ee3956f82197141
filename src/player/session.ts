// Browser sessions for remote access. A browser cannot put a Bearer header on
// a page load or on <audio src>, so it trades the token once (POST
// /api/session) for a cookie: 32 random bytes, HttpOnly (page scripts cannot
// read it), SameSite=Strict (never sent on a request another site starts).
// Kept in memory only: a restarted node asks for the token again.
import { createHash, randomBytes } from 'node:crypto'
import { ApiError } from './errors.ts'
import { SESSION_COOKIE, tokenMatches } from './guard.ts'
import { COMMON_HEADERS, readJsonBody } from './http-io.ts'
import { queryParams } from './params.ts'
import type { Route } from './router.ts'

export const SESSION_MAX_AGE = 30 * 24 * 3600 // s
export const MAX_SESSIONS = 1024 // oldest dropped beyond this
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/ // 32 bytes, base64url

export class SessionStore {
  /** SHA-256 of the id -> expiry (ms): a lookup's timing says nothing about the ids themselves. */
  private readonly sessions = new Map<string, number>()

  constructor(private readonly now: () => number = Date.now) {}

  create(): string {
    const id = randomBytes(32).toString('base64url')
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    this.sessions.set(digest(id), this.now() + SESSION_MAX_AGE * 1000)
    return id
  }

  has(id: string): boolean {
    if (!SESSION_SHAPE.test(id)) return false
    const key = digest(id)
    const expires = this.sessions.get(key)
    if (expires === undefined) return false
    if (expires > this.now()) return true
    this.sessions.delete(key)
    return false
  }

  get size(): number {
    return this.sessions.size
  }
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64')

/** POST /api/session {token}: public (the body carries the token), answers 204 with the cookie. */
export function sessionRoute(sessions: SessionStore, token: string): Route {
  return {
    methods: ['POST'],
    path: '/api/session',
    public: true,
    async handle({ req, res, query }) {
      queryParams(query, [])
      const body = await readJsonBody(req)
      const given = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { token?: unknown }).token : undefined
      if (typeof given !== 'string' || given.length > 512) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body must be {"token": "..."}')
      if (!tokenMatches(given, token)) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'that is not this node\'s API token')
      const id = sessions.create()
      res.writeHead(204, {
        ...COMMON_HEADERS,
        'Cache-Control': 'no-store',
        'Set-Cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_AGE}`,
      })
      res.end()
    },
  }
}
