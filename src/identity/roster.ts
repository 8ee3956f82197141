// The roster: the owner's signed list of own devices, revoked device keys,
// trusted friends and the circle's discovery addresses. Only a holder of the
// owner key (an admin device) can produce one; every edit bumps seq so older
// rosters can be recognised as replays.
import {
  asBytes, asInt, asList, asStrictDict, asString, decode, encode, fieldList,
} from '../codec/index.ts'
import { decodeCertificate, encodeCertificate, type DeviceCertificate } from './certificate.ts'
import { signBytes, verifyBytes } from './keys.ts'
import { IdentityError } from './errors.ts'

/** Bytes of a sealed friendship secret (friend-secret.ts): nonce, secret, tag. */
const SEALED_FRIEND_SECRET_BYTES = 24 + 32 + 16

const ROSTER_TYPE = 'djcloud-roster'
export const ROSTER_LIMITS = {
  bytes: 256 * 1024,
  devices: 256,
  revoked: 4096,
  friends: 256,
  addresses: 16,
  nameBytes: 64,
  addressBytes: 256,
} as const

/** Every field of a signed roster, and of a friend entry in it: anything else is refused. */
const ROSTER_FIELDS = fieldList('type', 'v', 'owner', 'seq', 'created', 'devices', 'revoked', 'friends', 'trackers', 'bootstrap', 'sig')
const FRIEND_FIELDS = fieldList('owner', 'name', 'added', 'secret')

export interface Friend {
  owner: Uint8Array
  name: string
  /** ms since the epoch */
  added: number
  /**
   * The friendship secret with this friend, sealed for own devices
   * (friend-secret.ts); absent until an admin device sealed it.
   */
  secret?: Uint8Array
}

export interface Roster {
  owner: Uint8Array
  seq: number
  /** ms since the epoch */
  created: number
  devices: DeviceCertificate[]
  revoked: Uint8Array[]
  friends: Friend[]
  /** Tracker announce URLs (http(s):// or ws(s)://). */
  trackers: string[]
  /** DHT bootstrap nodes as host:port. */
  bootstrap: string[]
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)

function body(r: Roster) {
  return {
    type: ROSTER_TYPE,
    v: 1,
    owner: r.owner,
    seq: r.seq,
    created: r.created,
    devices: r.devices.map(encodeCertificate),
    revoked: r.revoked,
    friends: r.friends.map((f) => ({ owner: f.owner, name: f.name, added: f.added, secret: f.secret })),
    trackers: r.trackers,
    bootstrap: r.bootstrap,
  }
}

export function newRoster(owner: Uint8Array, firstDevice: DeviceCertificate, now = Date.now()): Roster {
  return { owner, seq: 1, created: now, devices: [firstDevice], revoked: [], friends: [], trackers: [], bootstrap: [] }
}

/** Checks the invariants every roster must hold, signed or not. */
export function checkRoster(r: Roster): void {
  const bad = (msg: string): never => {
    throw new IdentityError('ERR_BAD_ROSTER', `invalid roster: ${msg}`)
  }
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) bad('seq must be a positive integer')
  if (r.devices.length > ROSTER_LIMITS.devices) bad(`more than ${ROSTER_LIMITS.devices} devices`)
  if (r.revoked.length > ROSTER_LIMITS.revoked) bad(`more than ${ROSTER_LIMITS.revoked} revoked keys`)
  if (r.friends.length > ROSTER_LIMITS.friends) bad(`more than ${ROSTER_LIMITS.friends} friends`)
  if (r.trackers.length > ROSTER_LIMITS.addresses || r.bootstrap.length > ROSTER_LIMITS.addresses) {
    bad(`more than ${ROSTER_LIMITS.addresses} trackers or bootstrap nodes`)
  }
  const revoked = new Set(r.revoked.map(hex))
  const seen = new Set<string>()
  for (const c of r.devices) {
    if (!same(c.owner, r.owner)) bad('a device certificate belongs to another owner')
    const k = hex(c.device)
    if (seen.has(k)) bad('a device is listed twice')
    if (revoked.has(k)) bad('a revoked device is still listed')
    seen.add(k)
  }
  const friends = new Set<string>()
  for (const f of r.friends) {
    if (same(f.owner, r.owner)) bad('the owner cannot be its own friend')
    if (friends.has(hex(f.owner))) bad('a friend is listed twice')
    friends.add(hex(f.owner))
  }
}

export function signRoster(r: Roster, ownerSeed: Uint8Array): Uint8Array {
  checkRoster(r)
  const b = body(r)
  const sig = signBytes(ownerSeed, encode(b))
  if (!verifyBytes(r.owner, encode(b), sig)) {
    throw new IdentityError('ERR_NOT_ADMIN', 'this key is not the roster owner key')
  }
  return encode({ ...b, sig })
}

/**
 * Decodes and verifies a signed roster. With expectedOwner, a roster of any
 * other owner is refused. Every certificate inside must verify too.
 */
export function verifyRoster(bytes: Uint8Array, expectedOwner?: Uint8Array): Roster {
  try {
    const d = asStrictDict(
      decode(bytes, { maxBytes: ROSTER_LIMITS.bytes, maxDepth: 4, maxItems: 20_000, maxStringBytes: 4096 }),
      ROSTER_FIELDS,
      'roster',
    )
    if (asString(d.type, 'type') !== ROSTER_TYPE) throw new Error('not a roster')
    if (asInt(d.v, 'v') !== 1) throw new Error('unsupported roster version')
    const owner = asBytes(d.owner, 'owner', 32)
    if (expectedOwner && !same(owner, expectedOwner)) throw new Error('roster belongs to another owner')
    const sig = asBytes(d.sig, 'sig', 64)
    const { sig: _sig, ...unsigned } = d
    if (!verifyBytes(owner, encode(unsigned), sig)) throw new Error('signature does not verify')
    const roster: Roster = {
      owner,
      seq: asInt(d.seq, 'seq'),
      created: asInt(d.created, 'created'),
      devices: asList(d.devices, 'devices', ROSTER_LIMITS.devices).map((c) =>
        decodeCertificate(asBytes(c, 'device certificate'), owner),
      ),
      revoked: asList(d.revoked, 'revoked', ROSTER_LIMITS.revoked).map((k) => asBytes(k, 'revoked key', 32)),
      friends: asList(d.friends, 'friends', ROSTER_LIMITS.friends).map((f) => {
        const fd = asStrictDict(f, FRIEND_FIELDS, 'friend')
        const friend: Friend = {
          owner: asBytes(fd.owner, 'friend owner', 32),
          name: asString(fd.name, 'friend name', ROSTER_LIMITS.nameBytes),
          added: asInt(fd.added, 'friend added'),
        }
        if (fd.secret !== undefined) friend.secret = asBytes(fd.secret, 'friend secret', SEALED_FRIEND_SECRET_BYTES)
        return friend
      }),
      trackers: asList(d.trackers, 'trackers', ROSTER_LIMITS.addresses).map((t) =>
        asString(t, 'tracker', ROSTER_LIMITS.addressBytes),
      ),
      bootstrap: asList(d.bootstrap, 'bootstrap', ROSTER_LIMITS.addresses).map((t) =>
        asString(t, 'bootstrap node', ROSTER_LIMITS.addressBytes),
      ),
    }
    checkRoster(roster)
    return roster
  } catch (err) {
    if (err instanceof IdentityError && err.code === 'ERR_BAD_ROSTER') throw err
    throw new IdentityError('ERR_BAD_ROSTER', `invalid roster: ${(err as Error).message}`)
  }
}

// Edits: pure functions returning the next roster (seq + 1).

function next(r: Roster, changes: Partial<Roster>): Roster {
  const out = { ...r, ...changes, seq: r.seq + 1, created: Date.now() }
  checkRoster(out)
  return out
}

export function addDevice(r: Roster, cert: DeviceCertificate): Roster {
  if (r.revoked.some((k) => same(k, cert.device))) {
    throw new IdentityError('ERR_CONFLICT', 'that device key was revoked and cannot be re-added')
  }
  return next(r, { devices: [...r.devices.filter((c) => !same(c.device, cert.device)), cert] })
}

/**
 * Revokes a device key. The key need not be listed: the owner may have signed
 * a certificate that never reached the roster (a pairing cut short), and
 * that certificate must be revocable too.
 */
export function revokeDevice(r: Roster, device: Uint8Array): Roster {
  if (r.revoked.some((k) => same(k, device))) throw new IdentityError('ERR_CONFLICT', 'that device is already revoked')
  return next(r, {
    devices: r.devices.filter((c) => !same(c.device, device)),
    revoked: [...r.revoked, device],
  })
}

export function addFriend(r: Roster, owner: Uint8Array, name: string): Roster {
  const trimmed = name.trim()
  if (!trimmed || Buffer.byteLength(trimmed) > ROSTER_LIMITS.nameBytes) {
    throw new IdentityError('ERR_CONFLICT', `a friend's name must be 1-${ROSTER_LIMITS.nameBytes} bytes`)
  }
  if (same(owner, r.owner)) throw new IdentityError('ERR_CONFLICT', 'that is your own owner id, not a friend')
  if (r.friends.some((f) => same(f.owner, owner))) throw new IdentityError('ERR_CONFLICT', 'that friend is already trusted')
  return next(r, { friends: [...r.friends, { owner, name: trimmed, added: Date.now() }] })
}

export function removeFriend(r: Roster, owner: Uint8Array): Roster {
  if (!r.friends.some((f) => same(f.owner, owner))) throw new IdentityError('ERR_NOT_FOUND', 'no such friend on the roster')
  return next(r, { friends: r.friends.filter((f) => !same(f.owner, owner)) })
}

export function isRevoked(r: Roster, device: Uint8Array): boolean {
  return r.revoked.some((k) => same(k, device))
}
