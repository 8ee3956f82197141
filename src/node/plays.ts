// The play history on a running node (docs/plays.md): the log in the home,
// its sync with the other own devices over the device channel, the gig
// windows from pulls, and the seam the Subsonic API records plays through.
import { join } from 'node:path'
import type { Identity } from '../identity/index.ts'
import { GigWindows, PlayBook, PlaySync, type DeviceTrust } from '../plays/index.ts'
import type { PlayLog } from '../subsonic/index.ts'
import type { Swarm } from '../swarm/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export const playsPaths = (home: string) => ({ log: join(home, 'plays.log'), gigs: join(home, 'gig-pulls.json') })

/** The roster's word on a device: own, revoked, or a stranger (a friend's device is one). Read at each call: revocations apply at once. */
export function rosterTrust(identity: () => Identity): (device: string) => DeviceTrust {
  return (device) => {
    const r = identity().roster
    if (r.revoked.some((k) => hex(k) === device)) return 'revoked'
    if (device === hex(identity().device.publicKey) || r.devices.some((c) => hex(c.device) === device)) return 'own'
    return 'stranger'
  }
}

export interface NodePlays {
  book: PlayBook
  sync: PlaySync
  gigs: GigWindows
}

export async function openNodePlays(opts: { home: string; identity: () => Identity; swarm: Swarm; gigWindowMs?: number; onWarning?: (err: Error) => void }): Promise<NodePlays> {
  const paths = playsPaths(opts.home)
  const trust = rosterTrust(opts.identity)
  const warn = opts.onWarning ?? (() => {})
  const book = await PlayBook.open({ path: paths.log, device: opts.identity().device, trust, onWarning: warn })
  const gigs = await GigWindows.open(paths.gigs, { ...(opts.gigWindowMs ? { windowMs: opts.gigWindowMs } : {}), onWarning: warn })
  // The device channel only: friends' channels never carry plays.
  const sync = new PlaySync({ book, channel: opts.swarm.devices, trust, onWarning: warn })
  return { book, sync, gigs }
}

/** The Subsonic API's seam onto the log: a scrobble's app name is the play's source. */
export function subsonicPlayLog(book: PlayBook): PlayLog {
  return {
    record: async (p) => void (await book.record({ sha256: p.sha256, at: p.at, source: p.client.slice(0, 64) || 'subsonic' })),
    stats: async () => book.stats(),
  }
}
