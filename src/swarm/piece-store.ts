// What Torrent needs of the place a track's bytes live, with no file system
// in it: PieceSource serves verified pieces; PartialStore is a track being
// fetched. Node implements them on files (piece-file.ts), a page on OPFS
// (src/browser/, docs/browser.md), so the same Torrent runs in both.
import type { Bitfield } from './bitfield.ts'

export class PieceFileError extends Error {
  override name = 'PieceFileError'
  constructor(
    /**
     * ERR_CHANGED: the file is not what it was; ERR_VERIFY: the whole file
     * failed its SHA-256; ERR_NOT_HELD: a read of a piece not verified here;
     * ERR_CLOSED: the file was closed (a shutdown) while this ran.
     */
    readonly code: 'ERR_CHANGED' | 'ERR_VERIFY' | 'ERR_NOT_HELD' | 'ERR_CLOSED',
    message: string,
  ) {
    super(message)
  }
}

export interface PieceSource {
  readonly have: Bitfield
  read(index: number, offset: number, length: number): Promise<Buffer>
  /** Bytes at an absolute position; only for pieces in `have`. */
  readAt(position: number, length: number): Promise<Buffer>
  close(): Promise<void>
}

/**
 * A track being fetched. Pieces reach it already SHA-1-checked (writePiece);
 * pieces an earlier run wrote are "unverified" until checked again, and are
 * neither served nor counted in `have` before that.
 */
export interface PartialStore extends PieceSource {
  readonly partial: true
  /** Told of each resumed piece once checked: kept (true) or dropped to be fetched again (false). */
  onVerified: ((index: number, ok: boolean) => void) | null
  /** Resumed pieces still to check. */
  readonly unverifiedCount: number
  isUnverified(index: number): boolean
  /** Checks one resumed piece now (a reader wants it); true when it is verified (now or before). */
  verifyPiece(index: number): Promise<boolean>
  /** Checks every resumed piece; memoised. */
  reverify(): Promise<void>
  writePiece(index: number, data: Uint8Array): Promise<void>
  /**
   * Checks the whole file's SHA-256 and makes it complete: where it now is
   * (a path, or a name in a page's store) and a source serving it. On a
   * mismatch, PieceFileError ERR_VERIFY and the store stays usable (recheck, discard).
   */
  complete(): Promise<{ path: string; source: PieceSource }>
  /** SHA-1-checks every held piece again; drops and returns those that fail (after a failed complete()). */
  recheck(): Promise<number[]>
  /** Gives the download up: its bytes are deleted. */
  discard(): Promise<void>
}

export const isPartial = (s: PieceSource): s is PartialStore => (s as Partial<PartialStore>).partial === true
