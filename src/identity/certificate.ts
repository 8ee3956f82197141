// A device certificate: the owner key vouching for one device key. It is what
// makes a device an "own device"; peers check it, never a claimed name.
import { asBytes, asInt, asStrictDict, asString, decode, encode, fieldList } from '../codec/index.ts'
import { signBytes, verifyBytes } from './keys.ts'
import { IdentityError } from './errors.ts'

/**
 * admin: holds the owner key; member: a device that joined by pairing;
 * browser: a web browser paired from a link, its key kept by the browser
 * (docs/identity.md, "Browser devices").
 */
export type DeviceRole = 'admin' | 'member' | 'browser'
const ROLES: readonly DeviceRole[] = ['admin', 'member', 'browser']
const CERT_TYPE = 'djcloud-device-cert'
const MAX_NAME_BYTES = 64
/** Every field of an encoded certificate: anything else is refused. */
const CERT_FIELDS = fieldList('type', 'v', 'owner', 'device', 'name', 'role', 'created', 'sig')
/** A certificate is small; anything bigger is refused before parsing. */
export const MAX_CERT_BYTES = 512

export interface DeviceCertificate {
  owner: Uint8Array
  device: Uint8Array
  name: string
  role: DeviceRole
  /** ms since the epoch */
  created: number
  signature: Uint8Array
}

function body(c: Omit<DeviceCertificate, 'signature'>) {
  return { type: CERT_TYPE, v: 1, owner: c.owner, device: c.device, name: c.name, role: c.role, created: c.created }
}

export function issueCertificate(
  ownerSeed: Uint8Array,
  fields: Omit<DeviceCertificate, 'signature'>,
): DeviceCertificate {
  const name = fields.name.trim()
  if (!name || Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', `a device name must be 1-${MAX_NAME_BYTES} bytes`)
  }
  const unsigned = { ...fields, name }
  return { ...unsigned, signature: signBytes(ownerSeed, encode(body(unsigned))) }
}

export function encodeCertificate(c: DeviceCertificate): Uint8Array {
  return encode({ ...body(c), sig: c.signature })
}


/** Decodes and verifies; throws IdentityError('ERR_BAD_CERTIFICATE') on anything wrong. */
export function decodeCertificate(bytes: Uint8Array, expectedOwner?: Uint8Array): DeviceCertificate {
  if (bytes.length > MAX_CERT_BYTES) throw new IdentityError('ERR_BAD_CERTIFICATE', 'certificate too large')
  try {
    const d = asStrictDict(decode(bytes, { maxDepth: 2, maxItems: 16 }), CERT_FIELDS, 'certificate')
    if (asString(d.type, 'type') !== CERT_TYPE) throw new Error('not a device certificate')
    if (asInt(d.v, 'v') !== 1) throw new Error('unsupported certificate version')
    const role = asString(d.role, 'role') as DeviceRole
    if (!ROLES.includes(role)) throw new Error(`unknown role "${role}"`)
    const cert: DeviceCertificate = {
      owner: asBytes(d.owner, 'owner', 32),
      device: asBytes(d.device, 'device', 32),
      name: asString(d.name, 'name', MAX_NAME_BYTES),
      role,
      created: asInt(d.created, 'created'),
      signature: asBytes(d.sig, 'sig', 64),
    }
    verifyCertificate(cert, expectedOwner)
    return cert
  } catch (err) {
    if (err instanceof IdentityError) throw err
    throw new IdentityError('ERR_BAD_CERTIFICATE', `invalid device certificate: ${(err as Error).message}`)
  }
}

export function verifyCertificate(c: DeviceCertificate, expectedOwner?: Uint8Array): void {
  if (expectedOwner && !Buffer.from(expectedOwner).equals(c.owner)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'certificate is signed by another owner')
  }
  if (!verifyBytes(c.owner, encode(body(c)), c.signature)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'certificate signature does not verify')
  }
}
