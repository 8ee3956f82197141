// The newest roster a restoring device can find besides the one in the
// backup: a backup made before the owner's last `trust revoke` holds a roster
// without that revocation, and restoring it would let the revoked device
// back in. Sources, all checked under the owner key:
// - the roster pointer on the DHT (under the owner key, salt keyed by the
//   circle secret, which the phrase gives), naming the roster blob;
// - own devices still alive (found on the device channel, which the circle
//   secret also gives): on a new link each tells its current roster (a
//   notice) and serves the blob.
// - friends (the restore asks each holder it links to, OWNER_ROSTER_COMMAND,
//   src/node/friend-rosters.ts): they follow our rosters.
import { encode } from '../codec/index.ts'
import { newRoster, type DeviceCertificate, type Roster } from '../identity/index.ts'
import { blobOf, decodeManifest, manifestSalt, MANIFEST_LIMITS, unpackBlob, type DhtNode } from '../manifest/index.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../swarm/index.ts'

export interface FoundRoster {
  /** The owner-signed roster bytes (what verifyRoster reads). */
  signed: Uint8Array
  seq: number
  /** Where it came from. */
  from: string
}

export interface RosterSearch {
  dht: DhtNode
  swarm: Swarm
  owner: Uint8Array
  circleSecret: Uint8Array
  /** The restoring device's certificate (to read roster manifests against). */
  certificate: DeviceCertificate
  /** ms to look for. */
  timeoutMs: number
  onWarning?: (err: Error) => void
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref())

/** The newest roster found (null when none); also the highest seq named anywhere, fetched or not. */
export async function newestRoster(s: RosterSearch): Promise<{ roster: FoundRoster | null; named: number }> {
  const warn = s.onWarning ?? (() => {})
  const end = Date.now() + s.timeoutMs
  const named = new Map<string, { seq: number; from: string; links: DeviceLink[] }>() // roster blob infohash -> what named it
  const name = (infoHash: string, seq: number, from: string, link?: DeviceLink) => {
    const n = named.get(infoHash) ?? { seq, from, links: [] }
    if (link) n.links.push(link)
    named.set(infoHash, n)
  }
  const onNotice = (link: DeviceLink, n: ManifestNotice) => {
    if (n.kind === 'roster' && n.signer === hex(s.owner)) name(n.infoHash, n.seq, link.name, link)
  }
  s.swarm.devices.on('notice', onNotice)
  try {
    const ptr = await s.dht.getPointer({ publicKey: s.owner, salt: manifestSalt(s.circleSecret, 'roster') }).catch(() => null)
    if (ptr) name(ptr.infoHash.toString('hex'), ptr.seq, 'the DHT')
    // Own devices still alive: link to them; each tells its roster on the new link.
    const peers = await s.dht.lookup(s.swarm.channel, Math.max(0, Math.min(2_000, end - Date.now()))).catch(() => [])
    await Promise.all(peers.map((a) => s.swarm.connectDevice(a.host, a.port).catch((err: Error) => warn(new Error(`${a.host}:${a.port}: ${err.message}`)))))
    // Their notices follow the link at once; wait a little for them.
    while (Date.now() < end && s.swarm.devices.online().length > 0 && named.size === 0) await sleep(100)

    const context = { roster: newRoster(s.owner, s.certificate), expectedKind: 'roster' as const }
    let best: FoundRoster | null = null
    for (const [infoHash, n] of [...named].sort((a, b) => b[1].seq - a[1].seq)) {
      if (best && n.seq <= best.seq) break
      const got = await s.swarm.devices.fetchBlob(infoHash, n.links)
      if (!got) continue
      try {
        if (blobOf(got.data, s.circleSecret).infoHash !== infoHash) throw new Error('its bytes are not the blob named')
        const m = decodeManifest(unpackBlob(got.data, MANIFEST_LIMITS.roster.maxBytes), context)
        const roster = m.roster as Roster
        if (!Buffer.from(roster.owner).equals(Buffer.from(s.owner))) throw new Error('another owner\'s roster')
        if (!best || roster.seq > best.seq) best = { signed: encode(m.body), seq: roster.seq, from: got.link.name }
      } catch (err) {
        warn(new Error(`the roster (seq ${n.seq}) from ${got.link.name} was refused: ${(err as Error).message}`))
      }
    }
    return { roster: best, named: Math.max(0, ...[...named.values()].map((n) => n.seq)) }
  } finally {
    s.swarm.devices.off('notice', onNotice)
  }
}
