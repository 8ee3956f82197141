export type TrackerErrorCode =
  | 'ERR_TRACKER_TOKEN' // operator token missing, too short or unreadable
  | 'ERR_TRACKER_ROSTER' // a roster of another owner, or older than the one served
  | 'ERR_TRACKER_KEY' // no 32-byte device seed to make the TLS certificate from
  | 'ERR_TRACKER_LISTEN' // could not bind
  | 'ERR_TRACKER_STATE' // listen() twice, or after close()

export class TrackerError extends Error {
  override name = 'TrackerError'
  constructor(
    readonly code: TrackerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
