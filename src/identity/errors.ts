export type IdentityErrorCode =
  | 'ERR_BAD_PHRASE'
  | 'ERR_BAD_ID'
  | 'ERR_BAD_CERTIFICATE'
  | 'ERR_BAD_ROSTER'
  | 'ERR_NO_IDENTITY'
  | 'ERR_IDENTITY_EXISTS'
  | 'ERR_NOT_ADMIN'
  | 'ERR_NOT_FOUND'
  | 'ERR_CONFLICT'

export class IdentityError extends Error {
  override name = 'IdentityError'
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message)
  }
}
