// The demo circle's homes, made the way a person makes a circle: `init` on
// the first device (the admin), then each other device joins with a pairing
// code over the real pairing protocol (on loopback, in this process). Homes
// already made are kept, so a second run finds the same circle.
import { join } from 'node:path'
import {
  formatId, hasIdentity, initIdentity, joinWithCode, loadIdentity, saveJoinedIdentity, startPairingHost, type Identity,
} from '../identity/index.ts'

export interface CircleHomes {
  /** Home directory per device name, the admin first. */
  homes: Record<string, string>
  /** Devices made in this run (empty when every home existed). */
  created: string[]
}

const PAIRING_TTL = 30_000 // ms: the code is used at once, in this process

/** Pairs a new device into the admin's circle over loopback and saves its home. */
export async function pairDevice(adminHome: string, home: string, name: string): Promise<Identity> {
  const host = await startPairingHost({ identity: await loadIdentity(adminHome), listen: '127.0.0.1', address: '127.0.0.1', port: 0, ttlMs: PAIRING_TTL })
  try {
    const joined = await joinWithCode(host.code, { name })
    await host.done
    return await saveJoinedIdentity(home, joined)
  } finally {
    await host.close()
  }
}

/**
 * Makes (or finds) one home per name under `root`: names[0] is the admin,
 * the others are paired members. A member home of another circle is an
 * error: the demo never replaces an identity.
 */
export async function ensureCircle(root: string, names: readonly string[]): Promise<CircleHomes> {
  const homes = Object.fromEntries(names.map((n) => [n, join(root, n)]))
  const created: string[] = []
  const [adminName, ...members] = names
  const adminHome = homes[adminName!]!
  if (!(await hasIdentity(adminHome))) {
    await initIdentity(adminHome, { name: adminName })
    created.push(adminName!)
  }
  const owner = formatId('owner', (await loadIdentity(adminHome)).certificate.owner)
  for (const name of members) {
    const home = homes[name]!
    if (await hasIdentity(home)) {
      const id = await loadIdentity(home)
      if (formatId('owner', id.certificate.owner) !== owner) {
        throw new Error(`${home} belongs to another circle than ${adminHome}; remove ${root} to start the demo afresh`)
      }
      continue
    }
    await pairDevice(adminHome, home, name)
    created.push(name)
  }
  return { homes, created }
}
