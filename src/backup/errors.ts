export type BackupErrorCode =
  /** Not a djcloud backup, a header field out of range, truncated, or bytes after the end. */
  | 'ERR_MALFORMED'
  /** A format version this djcloud does not read. */
  | 'ERR_UNSUPPORTED_VERSION'
  /** Over a cap: the file, the decompressed content, or a count inside it. */
  | 'ERR_TOO_LARGE'
  /** Made by another owner than the one expected (another owner's backup, or the wrong phrase). */
  | 'ERR_OTHER_OWNER'
  /** The owner's signature over header and ciphertext does not verify: the copy was altered. */
  | 'ERR_BAD_SIGNATURE'
  /** Signed by the owner but does not decrypt under this backup key. */
  | 'ERR_DECRYPT'
  /** A seq at or below one already known: an old copy offered again. */
  | 'ERR_REPLAY'
  /** Decrypted content that is not a well-formed backup. */
  | 'ERR_CONTENT'
  /** The recovery phrase is not a valid BIP-39 phrase. */
  | 'ERR_BAD_PHRASE'
  /** Making a backup (or restoring onto a home) needs an admin device: one holding the owner and backup keys. */
  | 'ERR_NOT_ADMIN'
  /** The target home cannot take this backup (e.g. its device key was revoked by the backed-up roster). */
  | 'ERR_CONFLICT'
  /** Over the network: no backup pointer for the owner on the DHT, or no holder served a valid copy in time. */
  | 'ERR_NOT_FOUND'
  /** Over the network: a newer backup is known (an owner-signed pointer names it) than any holder served; an older one is not restored. */
  | 'ERR_STALE'

/** Every refusal of a backup; `code` is stable, the message is one line. */
export class BackupError extends Error {
  override name = 'BackupError'
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message.replace(/\s+/g, ' ').trim())
  }
}
