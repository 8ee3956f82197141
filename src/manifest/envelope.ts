// The signed manifest envelope: one canonical bencoded dict that carries a
// manifest body (roster, library, playlist, backup) with its kind, version
// number (seq), creation time, the signer's certificate and an Ed25519
// signature. decodeManifest verifies while decoding: caps first (by kind),
// then structure, signer trust, signature, and last the replay rule, so
// nothing in the body is looked at before it is known to be authentic.
import {
  BencodeError, asBytes, asDict, asInt, asString, decode, encode, type BDict, type BInput, type BValue, type DecodeLimits,
} from '../codec/index.ts'
import {
  IdentityError, classifyCertificate, decodeCertificate, keyPairFromSeed, signBytes, verifyBytes, verifyRoster,
  type DeviceCertificate, type FriendRevoked, type Roster,
} from '../identity/browser.ts'
import { ManifestError, type ManifestErrorCode } from './errors.ts'

export const MANIFEST_TYPE = 'djcloud-manifest'
export const MANIFEST_KINDS = ['roster', 'library', 'playlist', 'backup', 'collab'] as const
export type ManifestKind = (typeof MANIFEST_KINDS)[number]

/** Hard caps per kind, handed to the bencode decoder (the envelope counts). */
export const MANIFEST_LIMITS: Readonly<Record<ManifestKind, DecodeLimits>> = {
  // The roster's own decoder allows depth 4 below its dict; the envelope adds one level.
  roster: { maxBytes: 256 * 1024, maxDepth: 5, maxItems: 20_100, maxStringBytes: 4096 },
  library: { maxBytes: 8 * 1024 * 1024, maxDepth: 12, maxItems: 400_000, maxStringBytes: 64 * 1024 },
  playlist: { maxBytes: 4 * 1024 * 1024, maxDepth: 12, maxItems: 200_000, maxStringBytes: 16 * 1024 },
  backup: { maxBytes: 8 * 1024 * 1024, maxDepth: 12, maxItems: 400_000, maxStringBytes: 64 * 1024 },
  // A collaborator device's edits of a friend's playlist: a playlist edit set.
  collab: { maxBytes: 4 * 1024 * 1024, maxDepth: 12, maxItems: 200_000, maxStringBytes: 16 * 1024 },
}
/** Names (of playlists) are at most this many bytes of UTF-8. */
export const MAX_NAME_BYTES = 256
/** Nothing djcloud signed predates 2020-01-01. */
const EARLIEST_CREATED = Date.UTC(2020, 0, 1)
/** How far ahead of our clock a manifest may be dated (clocks drift). */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000

const UNION_LIMITS: DecodeLimits = {
  maxBytes: Math.max(...MANIFEST_KINDS.map((k) => MANIFEST_LIMITS[k].maxBytes)),
  maxDepth: Math.max(...MANIFEST_KINDS.map((k) => MANIFEST_LIMITS[k].maxDepth)),
  maxItems: Math.max(...MANIFEST_KINDS.map((k) => MANIFEST_LIMITS[k].maxItems)),
  maxStringBytes: Math.max(...MANIFEST_KINDS.map((k) => MANIFEST_LIMITS[k].maxStringBytes)),
}
const KEYS = new Set(['type', 'v', 'kind', 'name', 'seq', 'created', 'cert', 'body', 'sig'])

export interface ManifestFields {
  kind: ManifestKind
  /** e.g. the playlist's name; absent for one-per-signer kinds. */
  name?: string
  seq: number
  /** ms since the epoch */
  created: number
  /** Any bencodable value. For `roster`: the decoded signed roster, `decode(signRoster(r, ownerSeed))`. */
  body: BInput
}

export type DeviceSigner = { deviceSeed: Uint8Array; certificate: Uint8Array }
export type OwnerSigner = { ownerSeed: Uint8Array; ownerPublicKey: Uint8Array }
export type ManifestSigner = DeviceSigner | OwnerSigner
/** A device key that signs asynchronously (a page's WebCrypto key), with its certificate. */
export type AsyncDeviceSigner = { signer: { readonly publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> }; certificate: Uint8Array }

export interface Manifest {
  kind: ManifestKind
  name?: string
  seq: number
  created: number
  body: BValue
  /** The key that signed the envelope: the device key, or the owner key for a roster. */
  signer: Uint8Array
  /** The signer's verified certificate; absent for a roster. */
  certificate?: DeviceCertificate
  /** For a roster manifest: the verified roster in the body. */
  roster?: Roster
}

export interface DecodeContext {
  /** The roster we trust now: its owner signs rosters, its revocations apply. */
  roster: Roster
  expectedKind?: ManifestKind
  /** The last seq seen from this signer for this kind (and name); a seq at or below it is a replay. */
  known?: (kind: ManifestKind, signerKey: Uint8Array, name?: string) => number | undefined
  /** Our clock, ms since the epoch (default Date.now()). */
  now?: number
  /** Friends' revocations (a `collab` manifest may come from a friend's device). */
  friendRevoked?: FriendRevoked
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)
const isKind = (k: string): k is ManifestKind => (MANIFEST_KINDS as readonly string[]).includes(k)
const fail = (code: ManifestErrorCode, message: string): never => {
  throw new ManifestError(code, message)
}

function checkName(name: string | undefined): void {
  if (name === undefined) return
  if (name.length === 0 || Buffer.byteLength(name) > MAX_NAME_BYTES) fail('ERR_MALFORMED', `a manifest name must be 1-${MAX_NAME_BYTES} bytes`)
}

/** A BencodeError from a capped decode: was it a cap or bad syntax? */
function fromBencode(err: BencodeError, what: string): ManifestError {
  return new ManifestError(err.overLimit ? 'ERR_TOO_LARGE' : 'ERR_MALFORMED', `${what}: ${err.message}`)
}

function decodeCapped(bytes: Uint8Array, limits: DecodeLimits, what: string): BValue {
  if (bytes.length > limits.maxBytes) fail('ERR_TOO_LARGE', `${what} is ${bytes.length} bytes, over the ${limits.maxBytes}-byte cap`)
  try {
    return decode(bytes, limits)
  } catch (err) {
    if (err instanceof BencodeError) throw fromBencode(err, what)
    throw err
  }
}

function checkFields({ kind, name, seq, created }: ManifestFields): void {
  if (!isKind(kind)) fail('ERR_MALFORMED', `unknown manifest kind "${String(kind)}"`)
  if (!Number.isSafeInteger(seq) || seq < 1) fail('ERR_MALFORMED', 'seq must be a positive integer')
  if (!Number.isSafeInteger(created) || created < EARLIEST_CREATED) fail('ERR_MALFORMED', 'created must be a time in ms since the epoch')
  checkName(name)
}

type Unsigned = { [key: string]: BInput | undefined }

/** The unsigned dict of a device-signed kind, once the certificate is the key's. */
function deviceUnsigned(fields: ManifestFields, certificate: Uint8Array, publicKey: () => Uint8Array): Unsigned {
  const { kind, name, seq, created, body } = fields
  let cert: DeviceCertificate
  try {
    cert = decodeCertificate(certificate)
  } catch (err) {
    if (err instanceof IdentityError) return fail('ERR_UNTRUSTED_SIGNER', err.message)
    throw err
  }
  if (!same(publicKey(), cert.device)) fail('ERR_UNTRUSTED_SIGNER', 'the device key does not match the certificate')
  return { type: MANIFEST_TYPE, v: 1, kind, name, seq, created, cert: certificate, body }
}

/** The canonical bytes the signature covers. */
function messageOf(unsigned: Unsigned): Uint8Array {
  try {
    return encode(unsigned)
  } catch (err) {
    if (err instanceof BencodeError) return fail('ERR_MALFORMED', `body cannot be encoded: ${err.message}`)
    throw err
  }
}

function seal(unsigned: Unsigned, sig: Uint8Array, kind: ManifestKind): Uint8Array {
  const out = encode({ ...unsigned, sig })
  // Never produce what decodeManifest would refuse for size.
  decodeCapped(out, MANIFEST_LIMITS[kind], `${kind} manifest`)
  return out
}

/** Signs and encodes a manifest. A roster is signed by the owner key; every other kind by a device. */
export function encodeManifest(fields: ManifestFields, signer: ManifestSigner): Uint8Array {
  checkFields(fields)
  const { kind, name, seq, created, body } = fields
  let unsigned: Unsigned
  let seed: Uint8Array
  if (kind === 'roster') {
    if (!('ownerSeed' in signer)) return fail('ERR_UNTRUSTED_SIGNER', 'a roster manifest is signed by the owner key, not a device')
    let roster: Roster
    try {
      roster = verifyRoster(encode(body), signer.ownerPublicKey)
    } catch (err) {
      if (err instanceof IdentityError || err instanceof BencodeError) return fail('ERR_MALFORMED', `roster body: ${err.message}`)
      throw err
    }
    if (roster.seq !== seq) fail('ERR_MALFORMED', `the envelope seq ${seq} differs from the roster seq ${roster.seq}`)
    unsigned = { type: MANIFEST_TYPE, v: 1, kind, name, seq, created, body }
    seed = signer.ownerSeed
    if (!same(keyPairFromSeed(seed).publicKey, signer.ownerPublicKey)) fail('ERR_UNTRUSTED_SIGNER', 'the owner seed does not match the owner key')
  } else {
    if (!('deviceSeed' in signer)) return fail('ERR_UNTRUSTED_SIGNER', `a ${kind} manifest is signed by a device, not the owner key`)
    seed = signer.deviceSeed
    unsigned = deviceUnsigned(fields, signer.certificate, () => keyPairFromSeed(seed).publicKey)
  }
  const message = messageOf(unsigned)
  return seal(unsigned, signBytes(seed, message), kind)
}

/**
 * Signs and encodes a device-signed manifest with a key whose seed cannot be
 * read (a browser device's non-extractable WebCrypto key): the same fields,
 * checks and canonical bytes as encodeManifest, the signature awaited.
 * Ed25519 is deterministic, so the bytes equal what the seed would give.
 */
export async function encodeManifestAsync(fields: ManifestFields, signer: AsyncDeviceSigner): Promise<Uint8Array> {
  checkFields(fields)
  if (fields.kind === 'roster') return fail('ERR_UNTRUSTED_SIGNER', 'a roster manifest is signed by the owner key, not a device')
  const unsigned = deviceUnsigned(fields, signer.certificate, () => signer.signer.publicKey)
  const message = messageOf(unsigned)
  let sig: Uint8Array
  try {
    sig = await signer.signer.sign(message)
  } catch (err) {
    return fail('ERR_UNTRUSTED_SIGNER', `the device key could not sign: ${(err as Error).message}`)
  }
  // A signer that signs with another key than it claims: caught here, not by every receiver.
  if (sig.length !== 64 || !verifyBytes(signer.signer.publicKey, message, sig)) fail('ERR_BAD_SIGNATURE', 'the device key\'s signature does not verify')
  return seal(unsigned, sig, fields.kind)
}

/** Decodes and verifies a manifest; throws ManifestError on anything wrong. */
export function decodeManifest(bytes: Uint8Array, ctx: DecodeContext): Manifest {
  const first = ctx.expectedKind ? MANIFEST_LIMITS[ctx.expectedKind] : UNION_LIMITS
  let d: BDict
  let kind: ManifestKind
  try {
    d = asDict(decodeCapped(bytes, first, 'manifest'), 'manifest')
    for (const k of Object.keys(d)) if (!KEYS.has(k)) fail('ERR_MALFORMED', `unknown field "${k.slice(0, 32)}"`)
    if (asString(d.type, 'type', 64) !== MANIFEST_TYPE) fail('ERR_MALFORMED', 'not a djcloud manifest')
    if (asInt(d.v, 'v') !== 1) fail('ERR_MALFORMED', 'unsupported manifest version')
    const k = asString(d.kind, 'kind', 32)
    if (!isKind(k)) return fail('ERR_MALFORMED', `unknown manifest kind "${k}"`)
    kind = k
  } catch (err) {
    if (err instanceof BencodeError) throw new ManifestError('ERR_MALFORMED', `manifest: ${err.message}`)
    throw err
  }
  if (ctx.expectedKind && kind !== ctx.expectedKind) fail('ERR_WRONG_KIND', `expected a ${ctx.expectedKind} manifest, got a ${kind} manifest`)
  // Decoded under the loosest caps: apply this kind's own.
  if (!ctx.expectedKind) decodeCapped(bytes, MANIFEST_LIMITS[kind], `${kind} manifest`)

  let seq: number, created: number, name: string | undefined, sig: Uint8Array
  try {
    seq = asInt(d.seq, 'seq')
    created = asInt(d.created, 'created')
    name = d.name === undefined ? undefined : asString(d.name, 'name', MAX_NAME_BYTES)
    sig = asBytes(d.sig, 'sig', 64)
  } catch (err) {
    if (err instanceof BencodeError) throw new ManifestError('ERR_MALFORMED', `manifest: ${err.message}`)
    throw err
  }
  if (!Number.isSafeInteger(seq) || seq < 1) fail('ERR_MALFORMED', 'seq must be a positive integer')
  const now = ctx.now ?? Date.now()
  if (created < EARLIEST_CREATED || created > now + MAX_CLOCK_SKEW_MS) fail('ERR_MALFORMED', `created ${created} is not a sane time`)
  checkName(name)
  const body = d.body
  if (body === undefined) return fail('ERR_MALFORMED', 'manifest has no body')
  const { sig: _sig, ...unsigned } = d
  const message = encode(unsigned)

  let signer: Uint8Array
  let certificate: DeviceCertificate | undefined
  let roster: Roster | undefined
  if (kind === 'roster') {
    if (d.cert !== undefined) fail('ERR_UNTRUSTED_SIGNER', 'a roster manifest must be signed by the owner key, not a device')
    signer = ctx.roster.owner
    if (!verifyBytes(signer, message, sig)) fail('ERR_BAD_SIGNATURE', 'roster manifest signature does not verify with the owner key')
    if (!(typeof body === 'object' && !(body instanceof Uint8Array) && !Array.isArray(body)) || !(body.owner instanceof Uint8Array)) {
      return fail('ERR_MALFORMED', 'roster body is not a roster')
    }
    if (!same(body.owner, ctx.roster.owner)) fail('ERR_UNTRUSTED_SIGNER', 'roster body belongs to another owner')
    try {
      roster = verifyRoster(encode(body), ctx.roster.owner)
    } catch (err) {
      if (err instanceof IdentityError) {
        return fail(/signature does not verify/.test(err.message) ? 'ERR_BAD_SIGNATURE' : 'ERR_MALFORMED', `roster body: ${err.message}`)
      }
      throw err
    }
    if (roster.seq !== seq) fail('ERR_MALFORMED', `the envelope seq ${seq} differs from the roster seq ${roster.seq}`)
  } else {
    if (!(d.cert instanceof Uint8Array)) return fail('ERR_MALFORMED', `a ${kind} manifest carries its signer's certificate`)
    const trust = classifyCertificate(ctx.roster, d.cert, ctx.friendRevoked)
    if (!trust.trusted) {
      if (trust.reason === 'revoked') fail('ERR_REVOKED', `the signing device was revoked`)
      fail('ERR_UNTRUSTED_SIGNER', trust.reason === 'bad-certificate'
        ? 'the signer certificate does not verify'
        : 'the signer is not a device of this owner')
      throw new Error('unreachable')
    }
    // A collaborator's edits of a friend's playlist are the one kind a friend's device signs.
    if (trust.kind !== 'own' && kind !== 'collab') fail('ERR_UNTRUSTED_SIGNER', `a ${kind} manifest must come from an own device, not a friend's`)
    certificate = trust.certificate
    signer = certificate.device
    if (!verifyBytes(signer, message, sig)) fail('ERR_BAD_SIGNATURE', `${kind} manifest signature does not verify with the device key`)
  }

  const last = ctx.known?.(kind, signer, name)
  if (last !== undefined && seq <= last) {
    fail('ERR_REPLAY', `seq ${seq} is not above the last seen ${last} (a replay or a rollback)`)
  }
  const out: Manifest = { kind, seq, created, body, signer }
  if (name !== undefined) out.name = name
  if (certificate) out.certificate = certificate
  if (roster) out.roster = roster
  return out
}
