export type DjFormatErrorCode =
  | 'ERR_NOT_XML' // not well-formed XML (or not UTF-8)
  | 'ERR_TRUNCATED' // the document ends before its root element closes
  | 'ERR_WRONG_ROOT' // well-formed, but not a DJ_PLAYLISTS (or NML) document
  | 'ERR_BAD_VALUE' // an attribute the model needs does not hold what its format says (a number, a range)
  | 'ERR_DUPLICATE' // two collection entries with one id, so playlists could not say which
  | 'ERR_TOO_DEEP' // playlist folders nested deeper than MAX_PLAYLIST_DEPTH
  | 'ERR_BAD_MODEL' // a writer was given a library it cannot write (checked before the first byte)

/** A refusal with a stable code and a one-line message saying what and where (line numbers are the file's, from 1). */
export class DjFormatError extends Error {
  override name = 'DjFormatError'
  constructor(
    readonly code: DjFormatErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(message)
  }
}
