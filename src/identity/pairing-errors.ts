// Errors of pairing (`djcloud pair` / `djcloud join`). Each failure a person
// can meet has its own stable code, so the CLI and the tests can tell a wrong
// code from a used, expired or burned one.

export type PairingErrorCode =
  /** The text is not a pairing code (mistyped, truncated, wrong checksum). */
  | 'ERR_PAIRING_BAD_CODE'
  /** The chosen device name is empty or too long. */
  | 'ERR_PAIRING_BAD_NAME'
  /** Nothing answers at the code's address: expired, used, or not reachable. */
  | 'ERR_PAIRING_UNREACHABLE'
  /** The code's time is up (host side), or the host said so. */
  | 'ERR_PAIRING_EXPIRED'
  /** The code was already used by another device. */
  | 'ERR_PAIRING_USED'
  /** The secret in the code is wrong. */
  | 'ERR_PAIRING_WRONG_SECRET'
  /** Too many wrong secrets: the code is burned. */
  | 'ERR_PAIRING_ATTEMPTS'
  /** The device answering is not the one whose key is in the code. */
  | 'ERR_PAIRING_HOST_MISMATCH'
  /** The host refused for another reason (e.g. a revoked device key). */
  | 'ERR_PAIRING_REFUSED'
  /** Malformed frames, bad MACs or signatures, early close. */
  | 'ERR_PAIRING_PROTOCOL'
  /** A handshake did not finish within its deadline. */
  | 'ERR_PAIRING_TIMEOUT'
  /** Stopped by close() or an AbortSignal. */
  | 'ERR_PAIRING_ABORTED'

export class PairingError extends Error {
  override name = 'PairingError'
  constructor(
    readonly code: PairingErrorCode,
    message: string,
  ) {
    super(message)
  }
}
