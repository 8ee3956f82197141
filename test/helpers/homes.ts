// Real homes for multi-process tests: an admin home made by init, and member
// homes whose certificates the admin issued, all on one roster.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  addDevice, generateKeyPair, initIdentity, issueCertificate, loadIdentity, saveJoinedIdentity, saveRoster, type Identity,
} from '../../src/identity/index.ts'

export async function makeHomes(root: string, names: string[]): Promise<string[]> {
  const homes = names.map((n) => join(root, n))
  let admin: Identity = await initIdentity(homes[0]!, { name: names[0] })
  const members: Array<{ home: string; device: ReturnType<typeof generateKeyPair>; cert: ReturnType<typeof issueCertificate> }> = []
  for (let i = 1; i < names.length; i++) {
    const device = generateKeyPair()
    const cert = issueCertificate(admin.owner!.seed, { owner: admin.owner!.publicKey, device: device.publicKey, name: names[i]!, role: 'member', created: Date.now() })
    admin = await saveRoster(admin, addDevice(admin.roster, cert))
    members.push({ home: homes[i]!, device, cert })
  }
  const rosterBytes = await readFile(join(homes[0]!, 'identity', 'roster'))
  for (const m of members) {
    await saveJoinedIdentity(m.home, { device: m.device, certificate: m.cert, rosterBytes, circleSecret: admin.circleSecret })
  }
  await loadIdentity(homes[0]!)
  return homes
}
