// Whose entries a log takes: the roster's word on each device key.
import type { Roster } from '../identity/index.ts'
import type { DeviceTrust } from './play-book.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Own (this device, or on the roster), revoked, or a stranger (a friend's device is one). Read at each call: revocations apply at once. */
export function rosterTrust(identity: () => { roster: Roster; device: { publicKey: Uint8Array } }): (device: string) => DeviceTrust {
  return (device) => {
    const { roster: r, device: self } = identity()
    if (r.revoked.some((k) => hex(k) === device)) return 'revoked'
    if (device === hex(self.publicKey) || r.devices.some((c) => hex(c.device) === device)) return 'own'
    return 'stranger'
  }
}
