// A browser device keeps the roster it was paired with until a linked device
// tells it of a newer one (the device channel's notice, sent on every link
// and passed on by Node devices when it changes: docs/manifests.md). Taken
// in here as a Node device takes it: the blob checked against the infohash
// asked for, inflated under the roster's cap, verified as a manifest signed
// by the circle's owner key with a seq above the one held. Nothing in the
// notice is trusted. Without it a page refused every device paired after it
// and kept counting revoked ones.
import { encode } from '../codec/index.ts'
import type { Roster } from '../identity/browser.ts'
import { checkBlob, decodeManifest, MANIFEST_LIMITS } from '../manifest/browser.ts'
import { decompress } from './brotli.ts'

export interface RosterNotice {
  kind: string
  infoHash: string
  seq: number
}

/** A verified newer roster and its owner-signed bytes (what pairing gave, to keep), or null when the notice brings nothing newer. Throws ManifestError when what came is refused. */
export async function takeRoster(
  n: RosterNotice,
  current: Roster,
  circleSecret: Uint8Array,
  fetch: (infoHash: string) => Promise<Uint8Array | null>,
  now = Date.now(),
): Promise<{ roster: Roster; signed: Uint8Array } | null> {
  if (n.kind !== 'roster' || !(n.seq > current.seq) || !/^[0-9a-f]{40}$/.test(n.infoHash)) return null
  const data = await fetch(n.infoHash)
  if (!data) return null
  const blob = checkBlob(data, n.infoHash, circleSecret)
  const m = decodeManifest(await decompress(blob.data, MANIFEST_LIMITS.roster.maxBytes), {
    roster: current,
    expectedKind: 'roster',
    known: (kind) => (kind === 'roster' ? current.seq : undefined),
    now,
  })
  return { roster: m.roster!, signed: encode(m.body) }
}
