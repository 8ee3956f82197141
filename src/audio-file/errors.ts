export type PayloadErrorCode =
  | 'ERR_NOT_AUDIO' // content does not match the extension
  | 'ERR_TRUNCATED'
  | 'ERR_CORRUPT'

/** A file whose container is not what its format says, or is cut short; the message is one line. */
export class PayloadError extends Error {
  override name = 'PayloadError'
  constructor(
    readonly code: PayloadErrorCode,
    message: string,
  ) {
    super(message)
  }
}
