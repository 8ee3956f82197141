// The bytes of the pairing protocol: length-prefixed frames over TCP, and the
// session crypto (X25519, HKDF, HMAC confirmations, AES-256-GCM). Knows
// nothing of rosters or certificates; pairing.ts drives it.
import {
  createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync,
  hkdfSync, timingSafeEqual, type KeyObject,
} from 'node:crypto'
import type { Socket } from 'node:net'
import { asDict, asString, decode, encode, type BDict, type BInput } from '../codec/index.ts'
import { PairingError } from './pairing-errors.ts'

/** Frame header: 4-byte big-endian payload length. */
const HEADER_BYTES = 4
/** Every frame before the welcome is small: hellos, proofs, the join request, errors. */
export const SMALL_FRAME_BYTES = 4 * 1024
/** The welcome carries the signed roster (at most 256 KiB) plus certificate, secret and GCM tag. */
export const WELCOME_FRAME_BYTES = 256 * 1024 + 4 * 1024

const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
const HKDF_INFO = 'djcloud-pair/v1 '
const GCM_TAG_BYTES = 16
const AAD = Buffer.from('djcloud-pair/v1')

const protocolError = (msg: string) => new PairingError('ERR_PAIRING_PROTOCOL', msg)

/**
 * Reads whole frames from a socket. A frame longer than the cap the reader
 * asks for, or more unread bytes than `maxBuffered`, fails the stream: the
 * peer controls what arrives, so what we hold for it is bounded.
 */
export class FrameStream {
  private chunks: Buffer[] = []
  private buffered = 0
  private failure: Error | undefined
  private waiter: { cap: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined

  constructor(
    readonly socket: Socket,
    private readonly maxBuffered: number,
  ) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d)
      this.buffered += d.length
      if (this.buffered > this.maxBuffered) return this.fail(protocolError('the peer sent more than the protocol allows'))
      this.pump()
    })
    socket.on('error', (err) => this.fail(err))
    socket.on('close', () => this.fail(protocolError('the connection closed')))
  }

  /** Fails pending and future reads with err (the first error wins) and destroys the socket. */
  fail(err: Error): void {
    if (!this.failure) this.failure = err
    const w = this.waiter
    this.waiter = undefined
    w?.reject(this.failure)
    this.socket.destroy()
  }

  read(cap: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('FrameStream: one read at a time'))
    return new Promise((resolve, reject) => {
      this.waiter = { cap, resolve, reject }
      this.pump()
    })
  }

  write(payload: Uint8Array): void {
    const header = Buffer.alloc(HEADER_BYTES)
    header.writeUInt32BE(payload.length)
    this.socket.write(Buffer.concat([header, payload]))
  }

  /** Sends a last frame and half-closes; the socket is destroyed when the peer closes. */
  end(payload: Uint8Array): void {
    const header = Buffer.alloc(HEADER_BYTES)
    header.writeUInt32BE(payload.length)
    this.socket.end(Buffer.concat([header, payload]))
  }

  private pump(): void {
    const w = this.waiter
    if (!w) return
    // A frame that was complete before the failure is still delivered.
    if (this.buffered >= HEADER_BYTES) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
      this.chunks = [all]
      const length = all.readUInt32BE(0)
      if (length > w.cap) return this.fail(protocolError(`a frame of ${length} bytes is over the ${w.cap}-byte limit`))
      if (all.length >= HEADER_BYTES + length) {
        const frame = all.subarray(HEADER_BYTES, HEADER_BYTES + length)
        const rest = all.subarray(HEADER_BYTES + length)
        this.chunks = rest.length ? [rest] : []
        this.buffered = rest.length
        this.waiter = undefined
        w.resolve(Buffer.from(frame))
        return
      }
    }
    if (this.failure) {
      this.waiter = undefined
      w.reject(this.failure)
    }
  }
}

/** A message: a bencoded dict with a type `t`. */
export interface Message {
  t: string
  d: BDict
}

export function encodeMessage(t: string, fields: Record<string, BInput>): Uint8Array {
  return encode({ ...fields, t })
}

export function decodeMessage(bytes: Uint8Array, maxBytes = SMALL_FRAME_BYTES): Message {
  try {
    const d = asDict(decode(bytes, { maxBytes, maxDepth: 1, maxItems: 16, maxStringBytes: maxBytes }), 'message')
    return { t: asString(d.t, 'message type', 32), d }
  } catch (err) {
    throw protocolError(`malformed message: ${(err as Error).message}`)
  }
}

// --- session crypto ---

export interface Ephemeral {
  privateKey: KeyObject
  publicKey: Uint8Array
}

export function newEphemeral(): Ephemeral {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const der = publicKey.export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: Uint8Array.from(der.subarray(X25519_SPKI_PREFIX.length)) }
}

function x25519(own: Ephemeral, peer: Uint8Array): Buffer {
  if (peer.length !== 32) throw protocolError('an ephemeral key is 32 bytes')
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peer]), format: 'der', type: 'spki' })
    return diffieHellman({ privateKey: own.privateKey, publicKey })
  } catch {
    // OpenSSL refuses low-order points (an all-zero shared secret).
    throw protocolError('the peer sent an unusable ephemeral key')
  }
}

export interface SessionKeys {
  /** SHA-256 of the handshake transcript; both sides sign or MAC this. */
  transcript: Buffer
  joinerConfirm: Buffer
  hostConfirm: Buffer
  joinerToHost: Buffer
  hostToJoiner: Buffer
}

/**
 * Both sides compute the same keys from the X25519 shared secret AND the
 * pairing secret, salted with the transcript (the host's device key and both
 * ephemeral keys). Without the pairing secret the keys are unknowable even to
 * someone who ran the X25519 exchange (a man in the middle); without the
 * ephemeral private keys a recorded transcript gives nothing to test guesses
 * of the secret against.
 */
export function deriveSessionKeys(
  own: Ephemeral,
  peer: Uint8Array,
  roles: { joinerEphemeral: Uint8Array; hostEphemeral: Uint8Array; hostDevice: Uint8Array },
  pairingSecret: Uint8Array,
): SessionKeys {
  const shared = x25519(own, peer)
  const transcript = createHash('sha256')
    .update(encode({ type: 'djcloud-pair-transcript', v: 1, host: roles.hostDevice, je: roles.joinerEphemeral, he: roles.hostEphemeral }))
    .digest()
  const ikm = Buffer.concat([shared, pairingSecret])
  const expand = (label: string) => Buffer.from(hkdfSync('sha256', ikm, transcript, HKDF_INFO + label, 32))
  return {
    transcript,
    joinerConfirm: expand('joiner-confirm'),
    hostConfirm: expand('host-confirm'),
    joinerToHost: expand('joiner-to-host'),
    hostToJoiner: expand('host-to-joiner'),
  }
}

export function confirmation(key: Buffer, transcript: Buffer): Buffer {
  return createHmac('sha256', key).update(transcript).digest()
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * One direction of the encrypted channel: AES-256-GCM under a key used for
 * nothing else, nonce = a frame counter, so frames cannot be replayed,
 * reordered or reflected back to their sender.
 */
export class SealedDirection {
  private counter = 0n
  constructor(private readonly key: Buffer) {}

  private nonce(): Buffer {
    const n = Buffer.alloc(12)
    n.writeBigUInt64BE(this.counter++, 4)
    return n
  }

  seal(plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce())
    cipher.setAAD(AAD)
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  }

  open(frame: Uint8Array): Buffer {
    if (frame.length < GCM_TAG_BYTES) throw protocolError('an encrypted frame is too short')
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce())
    decipher.setAAD(AAD)
    decipher.setAuthTag(frame.subarray(frame.length - GCM_TAG_BYTES))
    try {
      return Buffer.concat([decipher.update(frame.subarray(0, frame.length - GCM_TAG_BYTES)), decipher.final()])
    } catch {
      throw protocolError('an encrypted frame does not authenticate')
    }
  }
}
