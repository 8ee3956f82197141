export type ScanErrorCode =
  | 'ERR_EMPTY' // zero bytes
  | 'ERR_NOT_AUDIO' // content does not match the extension
  | 'ERR_TRUNCATED'
  | 'ERR_CORRUPT'
  | 'ERR_UNREADABLE' // permission or I/O error
  | 'ERR_BAD_NAME'
  | 'ERR_CHANGED' // the file changed while it was read

/** A per-file problem: the file is skipped with this one-line reason and the scan goes on. */
export class ScanError extends Error {
  override name = 'ScanError'
  constructor(
    readonly code: ScanErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export class LibraryError extends Error {
  override name = 'LibraryError'
  constructor(
    readonly code: 'ERR_STORE_LOCKED' | 'ERR_STORE_VERSION' | 'ERR_NOT_FOUND' | 'ERR_BAD_ROOT',
    message: string,
  ) {
    super(message)
  }
}
