// Two circles of real homes whose owners are friends, as the tests of what
// friends do for each other (shares, backups, rosters, secret channels) start
// from: Alex's circle under root/a, Fiona's under root/f, each owner trusting
// the other's owner id with the role friend (the admin device of each, the
// first home, holds the roster). A friendship is the two trust entries; the
// owner ids come from `djcloud id`, as a person would read them out.
import { join } from 'node:path'
import { cli } from './cli.ts'
import { makeHomes } from './homes.ts'

/** The owner id of a home's circle, as `djcloud id --json` prints it. */
export async function ownerOf(home: string): Promise<string> {
  return (JSON.parse(await cli(home, ['id', '--json'])) as { ownerId: string }).ownerId
}

/** On `home` (an admin device), trusts `ownerId` as a friend named `name`. */
export async function befriend(home: string, ownerId: string, name: string): Promise<void> {
  await cli(home, ['trust', 'add', ownerId, '--role', 'friend', '--name', name])
}

export interface FriendCircles {
  /** Alex's homes, one per device name; the first is his admin device. */
  alex: string[]
  fiona: string[]
  alexOwner: string
  fionaOwner: string
}

/** Alex's and Fiona's circles (devices named as given), befriended both ways ("Fiona" on Alex's side, "Alex" on hers). */
export async function friendCircles(root: string, alexDevices = ['alex-pc'], fionaDevices = ['fiona-pc']): Promise<FriendCircles> {
  const alex = await makeHomes(join(root, 'a'), alexDevices)
  const fiona = await makeHomes(join(root, 'f'), fionaDevices)
  const [alexOwner, fionaOwner] = [await ownerOf(alex[0]!), await ownerOf(fiona[0]!)]
  await befriend(alex[0]!, fionaOwner, 'Fiona')
  await befriend(fiona[0]!, alexOwner, 'Alex')
  return { alex, fiona, alexOwner, fionaOwner }
}
