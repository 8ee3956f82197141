import { oneLine } from '../djformats/index.ts'

export type SeratoErrorCode =
  | 'ERR_BAD_TAG' // a Serato tag whose bytes are not what its format says (truncated, bad base64, a length past the end)
  | 'ERR_TOO_LARGE' // a tag or crate past the caps a real one stays far below
  | 'ERR_NOT_CRATE' // a .crate file that does not start with a crate's version field
  | 'ERR_CANNOT_WRITE' // writing tags into a file of a format (or state) this module does not write

/** A refusal with a stable code and a one-line message saying what is wrong and where. */
export class SeratoError extends Error {
  override name = 'SeratoError'
  constructor(
    readonly code: SeratoErrorCode,
    message: string,
  ) {
    super(oneLine(message))
  }
}
