// In-memory circles of devices for swarm tests: an owner, its devices'
// certificates and a roster, without touching disk.
import {
  addDevice, encodeCertificate, generateKeyPair, issueCertificate, newRoster, type DeviceCertificate, type KeyPair, type Roster,
} from '../../src/identity/index.ts'

export interface TestDevice {
  key: KeyPair
  certificate: DeviceCertificate
  credentials: { deviceSeed: Uint8Array; certificate: Uint8Array }
}

export interface TestCircle {
  owner: KeyPair
  roster: Roster
  devices: TestDevice[]
  circleSecret: Uint8Array
}

export function makeDevice(owner: KeyPair, name: string): TestDevice {
  const key = generateKeyPair()
  const certificate = issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() })
  return { key, certificate, credentials: { deviceSeed: key.seed, certificate: encodeCertificate(certificate) } }
}

export function makeCircle(names: string[]): TestCircle {
  const owner = generateKeyPair()
  const devices = names.map((n) => makeDevice(owner, n))
  let roster = newRoster(owner.publicKey, devices[0]!.certificate)
  for (const d of devices.slice(1)) roster = addDevice(roster, d.certificate)
  return { owner, roster, devices, circleSecret: generateKeyPair().seed }
}
