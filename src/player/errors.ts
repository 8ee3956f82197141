// Errors of the local API. ApiError is what a client sees: an HTTP status and
// a stable code, sent as {error: {code, message}}. PlayerError is for the
// program that builds the server (bad options, misuse). TrackUnavailableError
// is what a TrackSource throws when it knows a track but cannot get its bytes.

export type ApiErrorCode =
  | 'ERR_FORBIDDEN_HOST' // 403: Host is not one of this server's names (DNS rebinding)
  | 'ERR_FORBIDDEN_ORIGIN' // 403: a web page of another origin sent the request
  | 'ERR_UNAUTHORIZED' // 401: the token is needed and missing or wrong
  | 'ERR_BAD_REQUEST' // 400: malformed headers, path or query
  | 'ERR_BAD_PATH' // 400: a path segment that is not a plain name ('..', '/', NUL, bad escapes)
  | 'ERR_BAD_ID' // 400: not 64 lowercase hex digits
  | 'ERR_BAD_PARAM' // 400: a query or body field out of range
  | 'ERR_BAD_JSON' // 400: the body is not JSON
  | 'ERR_BAD_ROOT' // 400: a scan root that is not a folder
  | 'ERR_NOT_FOUND' // 404: no such endpoint
  | 'ERR_TRACK_NOT_FOUND' // 404: no such track here
  | 'ERR_PLAYLIST_NOT_FOUND' // 404: no such playlist on any own device
  | 'ERR_METHOD_NOT_ALLOWED' // 405 (with Allow)
  | 'ERR_CONFLICT' // 409: e.g. a scan is already running
  | 'ERR_PAYLOAD_TOO_LARGE' // 413
  | 'ERR_UNSUPPORTED_MEDIA_TYPE' // 415: a body that is not application/json
  | 'ERR_RANGE_NOT_SATISFIABLE' // 416 (with Content-Range: bytes */SIZE)
  | 'ERR_INTERNAL' // 500
  | 'ERR_TRACK_UNAVAILABLE' // 503: known, but its bytes cannot be had now
  | 'ERR_UI_UNAVAILABLE' // 503: the web UI is not built
  | 'ERR_FORBIDDEN' // 403: this device may not do that (pairing on a member device)
  | 'ERR_CACHE_BUDGET' // 409: a cache budget below the pinned tracks (and downloads in flight)
  | 'ERR_CACHE_FULL' // 507: no room in the cache budget (pinned tracks fill it)
  | 'ERR_REFUSED' // 403: another own device refused the request (gig pull), with its reason
  | 'ERR_DEVICE_NOT_FOUND' // 404: not an own device on the roster
  | 'ERR_DEVICE_OFFLINE' // 503: an own device that is not linked now
  | 'ERR_NO_ENCODER' // 501: a transcoded stream asked of a node with no encoder
  | 'ERR_PAIRING_CODE' // 403: not a pairing code this node gave (a browser pairing link)
  | 'ERR_PAIRING_USED' // 410: a pairing code already used (single use)
  | 'ERR_PAIRING_EXPIRED' // 410: a pairing code past its time
  | 'ERR_RATE_LIMITED' // 429: too many wrong pairing codes from this address; wait

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** Extra response headers (Allow, Content-Range, WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }
}

export type PlayerErrorCode =
  | 'ERR_BAD_OPTION' // createApiServer/listen got an unusable option
  | 'ERR_REMOTE_DISABLED' // a non-loopback address without allowRemote
  | 'ERR_NOT_LISTENING' // url asked before listen
  | 'ERR_ALREADY_LISTENING'
  | 'ERR_CLOSED' // listen after close
  | 'ERR_BAD_TOKEN_FILE' // <home>/api-token holds something that is not a token
  | 'ERR_BAD_TLS' // the TLS certificate or key cannot serve HTTPS (not PEM, not a pair, a CA's, expired, no names)

export class PlayerError extends Error {
  override name = 'PlayerError'
  constructor(
    readonly code: PlayerErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Thrown (or used to reject) by a TrackSource read when the track is known
 * but its bytes cannot be delivered: the file changed, no peer holds the
 * range, a deadline passed. Before any byte is sent the client gets 503;
 * after, the connection is cut (the Content-Length cannot be honoured).
 */
export class TrackUnavailableError extends Error {
  override name = 'TrackUnavailableError'
  readonly code = 'ERR_TRACK_UNAVAILABLE'
}
