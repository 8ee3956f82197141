// The soak's circle, made as a person makes one: `init` on home-pc (the
// admin: tracker and DHT bootstrap), a friend's own device (fiona-pc, its own
// owner) trusted both ways, then laptop and phone paired over the real
// pairing protocol (so they get the roster that names the friend). Every
// device gets its ports from the OS once and keeps them across restarts.
import { join } from 'node:path'
import { formatId, initIdentity, loadIdentity } from '../../src/identity/index.ts'
import { pairDevice } from '../../src/demo/index.ts'
import { freePort } from '../ports.ts'
import { djcloudAsync } from './cli.ts'
import type { DeviceSpec } from './devices.ts'

export const OWN_DEVICES = ['home-pc', 'laptop', 'phone'] as const
export const FRIEND_DEVICE = 'fiona-pc'

export interface SoakCircle {
  specs: DeviceSpec[]
  /** The owner key (hex), as the friend's backup status names it. */
  ownerHex: string
  homes: Record<string, string>
}

async function cli(home: string, args: string[]): Promise<string> {
  const r = await djcloudAsync(home, args, 60_000)
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout
}

export async function makeCircle(root: string): Promise<SoakCircle> {
  const homes: Record<string, string> = Object.fromEntries([...OWN_DEVICES, FRIEND_DEVICE].map((n) => [n, join(root, 'homes', n)]))
  const admin = await initIdentity(homes['home-pc']!, { name: 'home-pc' })
  const friend = await initIdentity(homes[FRIEND_DEVICE]!, { name: FRIEND_DEVICE })
  const ownerId = formatId('owner', admin.certificate.owner)
  const friendId = formatId('owner', friend.certificate.owner)
  await cli(homes['home-pc']!, ['trust', 'add', friendId, '--role', 'friend', '--name', 'Fiona'])
  await cli(homes[FRIEND_DEVICE]!, ['trust', 'add', ownerId, '--role', 'friend', '--name', 'Owner'])
  for (const name of ['laptop', 'phone']) await pairDevice(homes['home-pc']!, homes[name]!, name)
  const roster = (await loadIdentity(homes['phone']!)).roster
  if (!roster.friends?.length) throw new Error('the paired phone does not know the friend')

  const port = async () => String(await freePort())
  const [adminDht, adminTracker, friendDht, friendTracker] = [await port(), await port(), await port(), await port()]
  const bootstrap = `127.0.0.1:${adminDht}`
  const tracker = `https://127.0.0.1:${adminTracker}/announce`
  const common = async (dht: string) => ['--port', await port(), '--api-port', '0', '--peer-host', '127.0.0.1', '--dht-port', dht, '--no-analyze', '--no-lan-discovery']
  const specs: DeviceSpec[] = [
    { name: 'home-pc', home: homes['home-pc']!, own: true, args: [...(await common(adminDht)), '--tracker-port', adminTracker, '--tracker-host', '127.0.0.1'] },
    { name: 'laptop', home: homes['laptop']!, own: true, args: [...(await common(await port())), '--tracker', tracker, '--bootstrap', bootstrap] },
    { name: 'phone', home: homes['phone']!, own: true, args: [...(await common(await port())), '--tracker', tracker, '--bootstrap', bootstrap] },
    {
      name: FRIEND_DEVICE,
      home: homes[FRIEND_DEVICE]!,
      own: false,
      args: [...(await common(friendDht)), '--tracker-port', friendTracker, '--tracker-host', '127.0.0.1', '--bootstrap', bootstrap],
    },
  ]
  return { specs, ownerHex: Buffer.from(admin.certificate.owner).toString('hex'), homes }
}

/** Scans a device's music folder before its node runs (the CLI opens the store itself). */
export async function firstScan(home: string, folder: string): Promise<void> {
  await cli(home, ['scan', folder, '--json'])
}
