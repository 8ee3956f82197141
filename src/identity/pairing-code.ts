// The one-time pairing code an admin device shows: where to connect, which
// device key must answer there, and a random secret. One copyable string,
//
//   djpair1:<base32 of bencode({h, p, k, s, x}) ‖ first 4 bytes of SHA-256>
//
// The checksum is over the version prefix and the payload, so a typo or a
// truncated paste is reported before anything is sent on the network.
import { createHash, randomBytes } from 'node:crypto'
import { asBytes, asDict, asInt, asString, base32Decode, base32Encode, decode, encode } from '../codec/index.ts'
import { PairingError } from './pairing-errors.ts'

export const PAIRING_CODE_PREFIX = 'djpair1:'
/** 128 bits: far beyond offline guessing, and attempts online are capped. */
export const PAIRING_SECRET_BYTES = 16
const CHECKSUM_BYTES = 4
const MAX_HOST_BYTES = 253 // longest DNS name
const MAX_CODE_BYTES = 512

export interface PairingCode {
  /** Address the joiner connects to (IPv4, IPv6 or a host name). */
  host: string
  port: number
  /** The admin device's Ed25519 public key; it must sign the handshake. */
  deviceKey: Uint8Array
  /** At least 128 random bits, proven (never sent) by the joiner. */
  secret: Uint8Array
  /** ms since the epoch, by the admin device's clock (whole seconds in the code). */
  expires: number
}

export function newPairingSecret(): Uint8Array {
  return Uint8Array.from(randomBytes(PAIRING_SECRET_BYTES))
}

function checksum(payload: Uint8Array): Buffer {
  return createHash('sha256').update(PAIRING_CODE_PREFIX).update(payload).digest().subarray(0, CHECKSUM_BYTES)
}

export function encodePairingCode(c: PairingCode): string {
  if (c.deviceKey.length !== 32) throw new RangeError('a pairing code carries a 32-byte device key')
  if (c.secret.length < PAIRING_SECRET_BYTES) throw new RangeError(`a pairing secret has at least ${PAIRING_SECRET_BYTES} bytes`)
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw new RangeError(`bad port ${c.port}`)
  if (!c.host || Buffer.byteLength(c.host) > MAX_HOST_BYTES) throw new RangeError('bad host')
  const payload = encode({ h: c.host, p: c.port, k: c.deviceKey, s: c.secret, x: Math.ceil(c.expires / 1000) })
  return PAIRING_CODE_PREFIX + base32Encode(Buffer.concat([payload, checksum(payload)]))
}

/** Parses a code as pasted or scanned: spaces, line breaks and dashes are ignored, case too. */
export function decodePairingCode(text: string): PairingCode {
  const bad = (why: string): never => {
    throw new PairingError('ERR_PAIRING_BAD_CODE', `not a valid pairing code: ${why}`)
  }
  const compact = text.replace(/[\s-]/g, '')
  if (compact.slice(0, PAIRING_CODE_PREFIX.length).toLowerCase() !== PAIRING_CODE_PREFIX) {
    bad(`it should start with "${PAIRING_CODE_PREFIX}" (copy it whole from "djcloud pair")`)
  }
  const body = compact.slice(PAIRING_CODE_PREFIX.length)
  if (body.length > (MAX_CODE_BYTES * 8) / 5) bad('it is too long')
  const bytes = base32Decode(body)
  if (!bytes) return bad('it has characters outside A-Z and 2-7')
  if (bytes.length <= CHECKSUM_BYTES) bad('it is too short (was it cut off?)')
  const payload = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!checksum(payload).equals(bytes.subarray(bytes.length - CHECKSUM_BYTES))) {
    bad('the checksum does not match (a character is mistyped or missing)')
  }
  try {
    const d = asDict(decode(payload, { maxBytes: MAX_CODE_BYTES, maxDepth: 1, maxItems: 8, maxStringBytes: MAX_HOST_BYTES }), 'code')
    const port = asInt(d.p, 'port')
    if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range`)
    const secret = asBytes(d.s, 'secret')
    if (secret.length < PAIRING_SECRET_BYTES) throw new Error('the secret is too short')
    const host = asString(d.h, 'host', MAX_HOST_BYTES)
    if (!host) throw new Error('the host is empty')
    return {
      host,
      port,
      deviceKey: Uint8Array.from(asBytes(d.k, 'device key', 32)),
      secret: Uint8Array.from(secret),
      expires: asInt(d.x, 'expiry') * 1000,
    }
  } catch (err) {
    return bad((err as Error).message)
  }
}
