export type ManifestErrorCode =
  | 'ERR_MALFORMED'
  | 'ERR_TOO_LARGE'
  | 'ERR_BAD_SIGNATURE'
  | 'ERR_UNTRUSTED_SIGNER'
  | 'ERR_REVOKED'
  | 'ERR_REPLAY'
  | 'ERR_WRONG_KIND'
  | 'ERR_MISMATCH'
  | 'ERR_NOT_FOUND'
  | 'ERR_EXISTS'
  | 'ERR_UNAVAILABLE'
  | 'ERR_FORBIDDEN'

/** Every refusal of a manifest; `code` is stable, the message is one line. */
export class ManifestError extends Error {
  override name = 'ManifestError'
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
  ) {
    super(message.replace(/\s+/g, ' ').trim())
  }
}
