// The one trust gate every network boundary uses (tracker admission, wire
// authentication, pairing): given a certificate a peer presents, is it one of
// our own devices, a friend's device, or nobody? Never trust what a peer says
// about itself beyond what its certificate's signature proves.
import { decodeCertificate, type DeviceCertificate } from './certificate.ts'
import { IdentityError } from './errors.ts'
import type { Roster } from './roster.ts'

export type TrustDecision =
  | { trusted: true; kind: 'own' | 'friend'; certificate: DeviceCertificate }
  | { trusted: false; reason: 'bad-certificate' | 'unknown-owner' | 'revoked' }

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)

/**
 * Whether a friend's device is revoked by that friend's owner: answered from
 * the friend's own roster, which this device follows (node/friend-rosters.ts).
 */
export type FriendRevoked = (owner: Uint8Array, device: Uint8Array) => boolean

/** Classifies a certificate (encoded, as received) against the roster, and friends' devices against their owners' revocations. */
export function classifyCertificate(roster: Roster, encoded: Uint8Array, friendRevoked?: FriendRevoked): TrustDecision {
  let cert: DeviceCertificate
  try {
    cert = decodeCertificate(encoded)
  } catch (err) {
    if (err instanceof IdentityError) return { trusted: false, reason: 'bad-certificate' }
    throw err
  }
  if (same(cert.owner, roster.owner)) {
    if (roster.revoked.some((k) => same(k, cert.device))) return { trusted: false, reason: 'revoked' }
    return { trusted: true, kind: 'own', certificate: cert }
  }
  if (roster.friends.some((f) => same(f.owner, cert.owner))) {
    if (friendRevoked?.(cert.owner, cert.device)) return { trusted: false, reason: 'revoked' }
    return { trusted: true, kind: 'friend', certificate: cert }
  }
  return { trusted: false, reason: 'unknown-owner' }
}
