// Certifying a new device on an admin device: the one step both ways of
// pairing end with (a Node device over the pairing protocol, a browser from
// a pairing link). The home is read again first, as the roster may have
// changed (a `trust` edit, another pairing) since the caller loaded it.
import { issueCertificate, type DeviceCertificate, type DeviceRole } from './certificate.ts'
import { IdentityError } from './errors.ts'
import { loadIdentity, saveRoster, type Identity } from './identity-store.ts'
import { addDevice, signRoster } from './roster.ts'

export interface CertifiedDevice {
  certificate: DeviceCertificate
  /** The admin's identity with the roster that lists the new device. */
  identity: Identity
  /** That roster, owner-signed, as sent to the new device. */
  rosterBytes: Uint8Array
}

/**
 * Issues `device` a certificate (role, name, now) with the owner key and
 * stores the roster that lists it (seq + 1). `admin` is the identity the
 * caller holds: the home must still be that admin device.
 */
export async function certifyDevice(admin: Identity, device: Uint8Array, name: string, role: Exclude<DeviceRole, 'admin'>): Promise<CertifiedDevice> {
  const current = await loadIdentity(admin.home)
  if (!current.owner || !Buffer.from(current.device.publicKey).equals(admin.device.publicKey)) {
    throw new IdentityError('ERR_NOT_ADMIN', 'the identity of this home changed while pairing')
  }
  const certificate = issueCertificate(current.owner.seed, { owner: current.certificate.owner, device, name, role, created: Date.now() })
  const next = addDevice(current.roster, certificate)
  const identity = await saveRoster(current, next)
  return { certificate, identity, rosterBytes: signRoster(identity.roster, current.owner.seed) }
}
