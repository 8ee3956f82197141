// Subsonic's numbered errors. A handler throws one; the route answers it as
// `status="failed"` with HTTP 200, as every Subsonic server does (clients
// read the code, not the HTTP status).
export const SUBSONIC_ERRORS = {
  generic: 0,
  missingParameter: 10,
  clientTooOld: 20,
  serverTooOld: 30,
  wrongCredentials: 40,
  tokenAuthUnsupported: 41,
  authMechanismUnsupported: 42,
  conflictingAuth: 43,
  invalidApiKey: 44,
  notAuthorized: 50,
  trialOver: 60,
  notFound: 70,
} as const

export class SubsonicError extends Error {
  override name = 'SubsonicError'
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export const missing = (name: string) => new SubsonicError(SUBSONIC_ERRORS.missingParameter, `required parameter "${name}" is missing`)
export const invalid = (name: string, why: string) => new SubsonicError(SUBSONIC_ERRORS.generic, `parameter "${name}": ${why}`)
export const notFound = (what: string) => new SubsonicError(SUBSONIC_ERRORS.notFound, `${what} not found`)
