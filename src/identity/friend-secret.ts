// The pairwise friendship secret (docs/identity.md, "Friendship secrets").
// Channel names between two circles (share channels, backup channels) and the
// salt friends find each other's rosters under derive from it, never from the
// public owner ids alone: someone who knows both ids can compute none of them.
// K_AB = HKDF-SHA256(X25519(owner A, owner B)) with the ed25519 owner keys
// converted to X25519; both owners' admin devices compute the same value.
// Member devices do not hold the owner key: the admin seals K_AB into the
// friend's roster entry under a key derived from the circle secret, which
// every own device holds and no friend does.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { IdentityError } from './errors.ts'
import type { KeyPair } from './keys.ts'
import type { Roster } from './roster.ts'

const HKDF_SALT = 'djcloud/v1'
const NONCE_BYTES = 24
const SEALED_BYTES = NONCE_BYTES + 32 + 16 // as roster.ts reads it

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** K_AB from one owner's key pair and the other owner's public key (the same on both sides). */
export function friendSecret(owner: KeyPair, friendOwner: Uint8Array): Uint8Array {
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(owner.seed), ed25519.utils.toMontgomery(friendOwner))
  } catch {
    throw new IdentityError('ERR_BAD_ROSTER', `friend ${hex(friendOwner).slice(0, 12)} has an owner key no secret can be agreed with`)
  }
  // Both ids in a fixed order, so A->B and B->A expand to the same bytes.
  const [lo, hi] = [owner.publicKey, friendOwner].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  return new Uint8Array(hkdfSync('sha256', shared, HKDF_SALT, Buffer.concat([Buffer.from('friend-secret:'), lo!, hi!]), 32))
}

function sealKey(circleSecret: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', circleSecret, HKDF_SALT, 'friend-secret-seal', 32))
}

/** K_AB sealed for own devices (bound to the friend's owner key). */
export function sealFriendSecret(circleSecret: Uint8Array, friendOwner: Uint8Array, secret: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES)
  return Buffer.concat([nonce, xchacha20poly1305(sealKey(circleSecret), nonce, friendOwner).encrypt(secret)])
}

/** The secret sealed in a roster entry; null when it does not open (another circle's, or damaged). */
export function openFriendSecret(circleSecret: Uint8Array, friendOwner: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length !== SEALED_BYTES) return null
  try {
    return xchacha20poly1305(sealKey(circleSecret), sealed.subarray(0, NONCE_BYTES), friendOwner).decrypt(sealed.subarray(NONCE_BYTES))
  } catch {
    return null
  }
}

/** A roster whose friends all carry their sealed secret (those missing it get one); the same object when none was missing. */
export function withFriendSecrets(r: Roster, owner: KeyPair, circleSecret: Uint8Array): Roster {
  if (r.friends.every((f) => f.secret)) return r
  return {
    ...r,
    friends: r.friends.map((f) => (f.secret ? f : { ...f, secret: sealFriendSecret(circleSecret, f.owner, friendSecret(owner, f.owner)) })),
  }
}

/** What a device needs to find friendship secrets: admins compute them, other devices open them from the roster. */
export interface FriendSecretSource {
  roster: Roster
  circleSecret: Uint8Array
  owner?: KeyPair
}

const memo = new WeakMap<Roster, { source: FriendSecretSource; secrets: Map<string, Uint8Array> }>()

/**
 * The friendship secret with each friend on the roster (owner hex -> K_AB).
 * A friend whose secret this device cannot have yet (a member device, before
 * an admin sealed it in the roster) is left out: no channel with it until then.
 */
export function friendSecrets(id: FriendSecretSource): Map<string, Uint8Array> {
  const known = memo.get(id.roster)
  if (known && known.source.circleSecret === id.circleSecret && known.source.owner === id.owner) return known.secrets
  const out = new Map<string, Uint8Array>()
  for (const f of id.roster.friends) {
    const k = id.owner ? friendSecret(id.owner, f.owner) : f.secret ? openFriendSecret(id.circleSecret, f.owner, f.secret) : null
    if (k) out.set(hex(f.owner), k)
  }
  memo.set(id.roster, { source: { roster: id.roster, circleSecret: id.circleSecret, owner: id.owner }, secrets: out })
  return out
}

/** A name only the two friends can compute: HMAC-SHA256(K_AB, label | parts), cut to `bytes`. */
export function friendDerived(secret: Uint8Array, label: string, parts: Uint8Array[], bytes: number): Buffer {
  const h = createHmac('sha256', secret).update(`djcloud/${label}`)
  for (const p of parts) h.update(p)
  return h.digest().subarray(0, bytes)
}
