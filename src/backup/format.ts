// The sealed backup file: a fixed 88-byte header, the ciphertext, and the
// owner's Ed25519 signature over both.
//
//   offset  bytes  field
//        0      8  magic "DJCBAKUP"
//        8      2  format version (1), big-endian
//       10      2  flags (0)
//       12     32  owner public key
//       44      8  seq (1 .. 2^53-1)
//       52      8  created, ms since the epoch
//       60     24  nonce (random)
//       84      4  ciphertext length (content + 16-byte Poly1305 tag)
//       88      n  ciphertext: XChaCha20-Poly1305(backup key, nonce, aad = header)
//     88+n     64  Ed25519(owner key, "djcloud-backup/v1 sig\0" ‖ header ‖ ciphertext)
//
// Anyone with the owner public key (a friend holding the copy) can check the
// signature and so reject an altered copy without being able to read it;
// only the backup key (from the recovery phrase) decrypts. The whole header is
// the AEAD's associated data, so even a holder of the owner key cannot move a
// ciphertext to another owner, seq or time without the decryption failing.
// Pure functions, no I/O.
import { randomBytes } from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { signBytes, verifyBytes, type KeyPair } from '../identity/index.ts'
import { BackupError } from './errors.ts'

export const BACKUP_MAGIC = Buffer.from('DJCBAKUP', 'latin1')
export const BACKUP_VERSION = 1
export const HEADER_BYTES = 88
export const NONCE_BYTES = 24
export const TAG_BYTES = 16
export const SIGNATURE_BYTES = 64
const SIG_CONTEXT = Buffer.from('djcloud-backup/v1 sig\0', 'latin1')

/** The most ciphertext a backup may carry (compressed content + tag): 256 MiB, the content cap (content.ts) plus room. */
export const MAX_CIPHERTEXT_BYTES = 256 * 1024 * 1024 + 1024
/** The largest backup file: header + ciphertext + signature. */
export const MAX_BACKUP_BYTES = HEADER_BYTES + MAX_CIPHERTEXT_BYTES + SIGNATURE_BYTES
/** Nothing djcloud made predates 2020-01-01. */
const EARLIEST_CREATED = Date.UTC(2020, 0, 1)
/** How far ahead of our clock a backup may be dated (clocks drift). */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000

export interface BackupHeader {
  version: number
  owner: Uint8Array
  seq: number
  /** ms since the epoch */
  created: number
  nonce: Uint8Array
  ciphertextLength: number
}

export interface SealOptions {
  owner: KeyPair
  backupKey: Uint8Array
  seq: number
  created: number
  /** For tests only: a fixed nonce. */
  nonce?: Uint8Array
}

export interface VerifyOptions {
  /** The last seq known for this owner: a backup at or below it is refused as a replay. */
  knownSeq?: number
  /** Our clock, ms since the epoch (default Date.now()). */
  now?: number
}

const fail = (code: ConstructorParameters<typeof BackupError>[0], message: string): never => {
  throw new BackupError(code, message)
}
const short = (key: Uint8Array) => Buffer.from(key).toString('hex').slice(0, 12)

export function encodeHeader(h: BackupHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES)
  BACKUP_MAGIC.copy(b, 0)
  b.writeUInt16BE(h.version, 8)
  b.writeUInt16BE(0, 10)
  Buffer.from(h.owner).copy(b, 12)
  b.writeBigUInt64BE(BigInt(h.seq), 44)
  b.writeBigUInt64BE(BigInt(h.created), 52)
  Buffer.from(h.nonce).copy(b, 60)
  b.writeUInt32BE(h.ciphertextLength, 84)
  return b
}

/** Reads the header's fields and checks their ranges; nothing here is authenticated yet. */
export function parseHeader(bytes: Uint8Array, now = Date.now()): BackupHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (b.length < BACKUP_MAGIC.length || !b.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) {
    return fail('ERR_MALFORMED', 'not a djcloud backup (bad magic)')
  }
  if (b.length < HEADER_BYTES) return fail('ERR_MALFORMED', `a backup is truncated: ${b.length} bytes, less than its ${HEADER_BYTES}-byte header`)
  const version = b.readUInt16BE(8)
  if (version !== BACKUP_VERSION) fail('ERR_UNSUPPORTED_VERSION', `backup format version ${version} is not supported (this djcloud reads ${BACKUP_VERSION})`)
  if (b.readUInt16BE(10) !== 0) fail('ERR_MALFORMED', 'backup header flags must be 0')
  const seq = b.readBigUInt64BE(44)
  const created = b.readBigUInt64BE(52)
  if (seq < 1n || seq > BigInt(Number.MAX_SAFE_INTEGER)) fail('ERR_MALFORMED', `backup seq ${seq} is out of range`)
  if (created < BigInt(EARLIEST_CREATED) || created > BigInt(now + MAX_CLOCK_SKEW_MS)) fail('ERR_MALFORMED', `backup created time ${created} is not a sane time`)
  const ciphertextLength = b.readUInt32BE(84)
  if (ciphertextLength < TAG_BYTES) fail('ERR_MALFORMED', `a ciphertext of ${ciphertextLength} bytes is shorter than its tag`)
  if (ciphertextLength > MAX_CIPHERTEXT_BYTES) fail('ERR_TOO_LARGE', `a ciphertext of ${ciphertextLength} bytes is over the ${MAX_CIPHERTEXT_BYTES}-byte cap`)
  const expected = HEADER_BYTES + ciphertextLength + SIGNATURE_BYTES
  if (b.length < expected) fail('ERR_MALFORMED', `a backup is truncated: ${b.length} of ${expected} bytes`)
  if (b.length > expected) fail('ERR_MALFORMED', `${b.length - expected} bytes after the end of the backup`)
  return {
    version,
    owner: Uint8Array.from(b.subarray(12, 44)),
    seq: Number(seq),
    created: Number(created),
    nonce: Uint8Array.from(b.subarray(60, 84)),
    ciphertextLength,
  }
}

function signedMessage(bytes: Uint8Array, end: number): Buffer {
  return Buffer.concat([SIG_CONTEXT, bytes.subarray(0, end)])
}

/** Encrypts (already compressed) content under the backup key and signs it with the owner key. */
export function sealBackup(content: Uint8Array, opts: SealOptions): Uint8Array {
  const { owner, backupKey, seq, created } = opts
  if (backupKey.length !== 32) throw new RangeError('a backup key is 32 bytes')
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError('seq must be a positive integer')
  if (!Number.isSafeInteger(created) || created < EARLIEST_CREATED) throw new RangeError('created must be a time in ms since the epoch')
  const ciphertextLength = content.length + TAG_BYTES
  if (ciphertextLength > MAX_CIPHERTEXT_BYTES) fail('ERR_TOO_LARGE', `the compressed backup (${content.length} bytes) is over the ${MAX_CIPHERTEXT_BYTES}-byte cap`)
  const nonce = opts.nonce ?? randomBytes(NONCE_BYTES)
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`a nonce is ${NONCE_BYTES} bytes`)
  const header = encodeHeader({ version: BACKUP_VERSION, owner: owner.publicKey, seq, created, nonce, ciphertextLength })
  const ciphertext = xchacha20poly1305(backupKey, nonce, header).encrypt(content)
  const out = Buffer.alloc(HEADER_BYTES + ciphertextLength + SIGNATURE_BYTES)
  header.copy(out, 0)
  out.set(ciphertext, HEADER_BYTES)
  out.set(signBytes(owner.seed, signedMessage(out, HEADER_BYTES + ciphertextLength)), HEADER_BYTES + ciphertextLength)
  return out
}

/**
 * Checks a backup without decrypting it: structure, owner, signature, then
 * the replay rule (last, so a forgery is reported as a forgery). Needs only
 * the owner public key, so a friend holding a copy can run it.
 */
export function verifyBackup(bytes: Uint8Array, expectedOwner: Uint8Array, opts: VerifyOptions = {}): BackupHeader {
  if (bytes.length > MAX_BACKUP_BYTES) fail('ERR_TOO_LARGE', `a backup of ${bytes.length} bytes is over the ${MAX_BACKUP_BYTES}-byte cap`)
  const h = parseHeader(bytes, opts.now)
  if (!Buffer.from(h.owner).equals(expectedOwner)) {
    fail('ERR_OTHER_OWNER', `this backup belongs to owner ${short(h.owner)}, not ${short(expectedOwner)} (another owner's backup, or the wrong recovery phrase)`)
  }
  const end = HEADER_BYTES + h.ciphertextLength
  if (!verifyBytes(h.owner, signedMessage(bytes, end), bytes.subarray(end, end + SIGNATURE_BYTES))) {
    fail('ERR_BAD_SIGNATURE', 'the backup signature does not verify with the owner key: this copy was altered')
  }
  if (opts.knownSeq !== undefined && h.seq <= opts.knownSeq) {
    fail('ERR_REPLAY', `backup seq ${h.seq} is not above seq ${opts.knownSeq} already known (an old copy)`)
  }
  return h
}

/** Decrypts a verified backup; returns the (compressed) content. */
export function openBackup(bytes: Uint8Array, header: BackupHeader, backupKey: Uint8Array): Uint8Array {
  const aad = bytes.subarray(0, HEADER_BYTES)
  const ciphertext = bytes.subarray(HEADER_BYTES, HEADER_BYTES + header.ciphertextLength)
  try {
    return xchacha20poly1305(backupKey, header.nonce, aad).decrypt(ciphertext)
  } catch {
    return fail('ERR_DECRYPT', 'the backup does not decrypt with this backup key (wrong key, or its header was changed)')
  }
}
