// dj_auth (BEP 10): each side proves it holds the device key of a certificate
// the other side trusts, bound to this connection: the signature covers the
// link's channel binding (a TLS exporter value, src/link/; a WebRTC data
// channel's, from its DTLS fingerprints), which differs on every session,
// so a proof seen by one peer cannot be replayed or relayed to another (a
// relay terminating TLS on each side sees two different values). The random
// per-connection peer ids and the infohash are covered too.
import { asBytes, asDict, asStrictDict, decode, encode, fieldList } from '../../codec/index.ts'
import { classifyCertificate, decodeCertificate, IdentityError, signBytes, verifyBytes, type DeviceCertificate, type FriendRevoked, type Roster } from '../../identity/browser.ts'

export const AUTH_EXTENSION = 'dj_auth'
const MAX_AUTH_BYTES = 1024
/** Every field of a dj_auth message: anything else is malformed. */
const AUTH_FIELDS = fieldList('cert', 'sig')

export type AuthFailure = 'malformed' | 'bad-certificate' | 'unknown-owner' | 'revoked' | 'bad-signature' | 'not-allowed' | 'banned'

export class AuthError extends Error {
  override name = 'AuthError'
  constructor(
    readonly reason: AuthFailure,
    /**
     * The device key that failed, only when its signature over this link
     * verified: a certificate alone proves nothing (anyone who was dialled
     * by a device has its certificate), so naming it would let a stranger
     * get that device banned.
     */
    readonly device?: Uint8Array,
  ) {
    super(`peer authentication failed: ${reason}`)
  }
}

export interface LocalCredentials {
  deviceSeed: Uint8Array
  /** This device's encoded certificate. */
  certificate: Uint8Array
}

/**
 * A device key that signs but is never handed over: a non-extractable
 * WebCrypto Ed25519 key in a browser signs asynchronously. Ed25519 is
 * deterministic, so its proofs are the very bytes a seed would give.
 */
export interface DeviceSigner {
  /** The device's 32-byte Ed25519 public key (its certificate's `device`). */
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Promise<Uint8Array>
}

export interface SignerCredentials {
  signer: DeviceSigner
  /** This device's encoded certificate. */
  certificate: Uint8Array
}

/** A device's certificate and key: a seed (signs at once) or an async signer. */
export type Credentials = LocalCredentials | SignerCredentials

/** v 2: bound to the link's channel binding (v 1 proofs, before encrypted links, had none). */
function transcript(infoHash: Uint8Array, from: Uint8Array, to: Uint8Array, binding: Uint8Array): Uint8Array {
  return encode({ type: 'djcloud-wire-auth', v: 2, infohash: infoHash, from, to, binding })
}

/** This device's proof: at once with a seed, a promise with an async signer (the same bytes either way). */
export function createAuthMessage(me: LocalCredentials, infoHash: Uint8Array, myPeerId: Uint8Array, theirPeerId: Uint8Array, binding: Uint8Array): Uint8Array
export function createAuthMessage(me: SignerCredentials, infoHash: Uint8Array, myPeerId: Uint8Array, theirPeerId: Uint8Array, binding: Uint8Array): Promise<Uint8Array>
export function createAuthMessage(me: Credentials, infoHash: Uint8Array, myPeerId: Uint8Array, theirPeerId: Uint8Array, binding: Uint8Array): Uint8Array | Promise<Uint8Array>
export function createAuthMessage(me: Credentials, infoHash: Uint8Array, myPeerId: Uint8Array, theirPeerId: Uint8Array, binding: Uint8Array): Uint8Array | Promise<Uint8Array> {
  const signed = transcript(infoHash, myPeerId, theirPeerId, binding)
  const proof = (sig: Uint8Array) => encode({ cert: me.certificate, sig })
  if ('deviceSeed' in me) return proof(signBytes(me.deviceSeed, signed))
  return me.signer.sign(signed).then((sig) => {
    if (sig.length !== 64) throw new RangeError(`the signer gave ${sig.length} bytes, not an Ed25519 signature`)
    return proof(sig)
  })
}

/**
 * The two dj_auth control messages besides a proof: `ask` (the dialler asks
 * the answering side to prove itself first) and `ok` (the answering side
 * accepted the dialler's proof that followed).
 */
export type AuthControl = 'ask' | 'ok'
export const encodeAuthControl = (c: AuthControl): Uint8Array => encode({ [c]: 1 })

/** 'ask' or 'ok' when the message is one of those, null when it is (or claims to be) a proof. */
export function authControlOf(bytes: Uint8Array): AuthControl | null {
  if (bytes.length > 16) return null
  try {
    const d = asDict(decode(bytes, { maxBytes: 16, maxDepth: 1, maxItems: 2 }), 'dj_auth')
    const keys = Object.keys(d)
    return keys.length === 1 && d[keys[0]!] === 1 && (keys[0] === 'ask' || keys[0] === 'ok') ? (keys[0] as AuthControl) : null
  } catch {
    return null
  }
}

export interface VerifiedPeer {
  /**
   * 'holder': a device of an owner this roster does not know, accepted only
   * where the caller asked for it (a restoring device fetching a backup from
   * whoever holds it: the backup is checked by the owner signature).
   */
  kind: 'own' | 'friend' | 'holder'
  certificate: DeviceCertificate
}

/** The device key of a certificate that is not admitted, if its signature over this link verifies (else undefined: nothing proved). */
function provenDevice(cert: Uint8Array, sig: Uint8Array, signed: Uint8Array): Uint8Array | undefined {
  try {
    const device = decodeCertificate(cert).device
    return verifyBytes(device, signed, sig) ? device : undefined
  } catch (err) {
    if (err instanceof IdentityError) return undefined
    throw err
  }
}

/**
 * Verifies the peer's dj_auth message. `allow` narrows who may use this
 * infohash (friends only reach what is shared with them).
 */
export function verifyAuthMessage(
  bytes: Uint8Array,
  ctx: {
    roster: Roster; friendRevoked?: FriendRevoked; infoHash: Uint8Array; theirPeerId: Uint8Array; myPeerId: Uint8Array; binding: Uint8Array; allow?: (p: VerifiedPeer) => boolean; trustAnyOwner?: boolean
    /** A device refused although its proof passed (the ban list); checked before `allow`. */
    banned?: (p: VerifiedPeer) => boolean
  },
): VerifiedPeer {
  let cert: Uint8Array
  let sig: Uint8Array
  try {
    if (bytes.length > MAX_AUTH_BYTES) throw new Error('too large')
    const d = asStrictDict(decode(bytes, { maxBytes: MAX_AUTH_BYTES, maxDepth: 2, maxItems: 8 }), AUTH_FIELDS, 'dj_auth')
    cert = asBytes(d.cert, 'cert')
    sig = asBytes(d.sig, 'sig', 64)
  } catch {
    throw new AuthError('malformed')
  }
  const decision = classifyCertificate(ctx.roster, cert, ctx.friendRevoked)
  const signed = transcript(ctx.infoHash, ctx.theirPeerId, ctx.myPeerId, ctx.binding)
  let peer: VerifiedPeer
  if (decision.trusted) peer = { kind: decision.kind, certificate: decision.certificate }
  else if (decision.reason === 'unknown-owner' && ctx.trustAnyOwner) {
    try {
      peer = { kind: 'holder', certificate: decodeCertificate(cert) }
    } catch (err) {
      if (err instanceof IdentityError) throw new AuthError('bad-certificate')
      throw err
    }
  } else throw new AuthError(decision.reason, provenDevice(cert, sig, signed))
  if (!verifyBytes(peer.certificate.device, signed, sig)) throw new AuthError('bad-signature')
  if (ctx.banned?.(peer)) throw new AuthError('banned', peer.certificate.device)
  if (ctx.allow && !ctx.allow(peer)) throw new AuthError('not-allowed', peer.certificate.device)
  return peer
}
