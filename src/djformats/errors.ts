export type DjFormatErrorCode =
  | 'ERR_NOT_XML' // not well-formed XML (or not UTF-8)
  | 'ERR_TRUNCATED' // the document ends before its root element closes
  | 'ERR_WRONG_ROOT' // well-formed, but not a DJ_PLAYLISTS (or NML) document
  | 'ERR_BAD_VALUE' // an attribute the model needs does not hold what its format says (a number, a range)
  | 'ERR_DUPLICATE' // two collection entries with one id, so playlists could not say which
  | 'ERR_TOO_DEEP' // playlist folders nested deeper than MAX_PLAYLIST_DEPTH
  | 'ERR_BAD_MODEL' // a writer was given a library it cannot write (checked before the first byte)

/** Text kept on one line for a message: control characters written as \n, \u0001. */
export const oneLine = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))

/** A refusal with a stable code and a one-line message saying what and where (line numbers are the file's, from 1). */
export class DjFormatError extends Error {
  override name = 'DjFormatError'
  constructor(
    readonly code: DjFormatErrorCode,
    message: string,
    readonly line?: number,
  ) {
    // Messages quote values from the file; whatever they hold, one line.
    super(oneLine(message))
  }
}
