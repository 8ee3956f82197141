// The play history on a running node (docs/plays.md): the log in the home,
// its sync with the other own devices over the device channel, the gig
// windows from pulls, and the seam the Subsonic API records plays through.
import { join } from 'node:path'
import type { Identity } from '../identity/index.ts'
import { GigWindows, PlayBook, PlaySync, playsLogPath, rosterTrust } from '../plays/index.ts'
import type { PlayLog } from '../subsonic/index.ts'
import type { Swarm } from '../swarm/index.ts'

export const playsPaths = (home: string) => ({ log: playsLogPath(home), gigs: join(home, 'gig-pulls.json') })

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
