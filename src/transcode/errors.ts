export class TranscodeError extends Error {
  override name = 'TranscodeError'
  constructor(
    readonly code: 'ERR_NO_ENCODER' | 'ERR_BAD_FORMAT' | 'ERR_TRANSCODE',
    message: string,
  ) {
    super(message)
  }
}
