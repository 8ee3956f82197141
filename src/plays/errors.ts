export type PlaysErrorCode = 'ERR_BAD_ENTRY' | 'ERR_BAD_INPUT' | 'ERR_LOG_FILE'

export class PlaysError extends Error {
  override name = 'PlaysError'
  constructor(
    readonly code: PlaysErrorCode,
    message: string,
  ) {
    super(message)
  }
}
