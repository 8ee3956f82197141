// Who is asking: an app issued by `djcloud apps add`, by one of the three
// ways Subsonic clients prove it (OpenSubsonic's rules):
//   u + t + s   t = md5(password + salt), the classic token
//   u + p       the password, plain or "enc:" + hex of its UTF-8
//   apiKey      the apiKeyAuthentication extension; with `u` it is error 43
// Every comparison is constant-time over equal-length digests.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AppCredential } from './apps.ts'
import { missing, SUBSONIC_ERRORS, SubsonicError } from './errors.ts'

const MAX_SECRET = 512 // characters of p, t, s or apiKey looked at

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest()
const same = (a: string, b: string) => timingSafeEqual(sha(a), sha(b))

function plainPassword(p: string): string {
  if (!p.startsWith('enc:')) return p
  const hex = p.slice(4)
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new SubsonicError(SUBSONIC_ERRORS.wrongCredentials, 'wrong username or password')
  return Buffer.from(hex, 'hex').toString('utf8')
}

/** The app the request's credentials name, or a SubsonicError (10, 40, 43, 44). */
export function authenticate(params: URLSearchParams, apps: readonly AppCredential[]): AppCredential {
  const apiKey = params.get('apiKey')
  const u = params.get('u')
  for (const v of [apiKey, u, params.get('p'), params.get('t'), params.get('s')]) {
    if (v !== null && v.length > MAX_SECRET) throw new SubsonicError(SUBSONIC_ERRORS.wrongCredentials, 'wrong username or password')
  }
  if (apiKey !== null) {
    if (u !== null) throw new SubsonicError(SUBSONIC_ERRORS.conflictingAuth, 'an API key is used without "u"')
    let found: AppCredential | undefined
    for (const a of apps) if (same(a.apiKey, apiKey)) found = a
    if (!found) throw new SubsonicError(SUBSONIC_ERRORS.invalidApiKey, 'invalid API key')
    return found
  }
  if (u === null) throw missing('u')
  const app = apps.find((a) => a.name === u)
  const t = params.get('t')
  const s = params.get('s')
  const p = params.get('p')
  if (t !== null) {
    if (s === null) throw missing('s')
    // Unknown names are checked against a throwaway secret: the time does not tell which names exist.
    const expected = createHash('md5').update((app?.password ?? '\0') + s, 'utf8').digest('hex')
    if (app && same(expected, t.toLowerCase())) return app
  } else if (p !== null) {
    if (app && same(app.password, plainPassword(p))) return app
  } else {
    throw missing('t')
  }
  throw new SubsonicError(SUBSONIC_ERRORS.wrongCredentials, 'wrong username or password')
}
