// Playlists shared with friends, both ways.
// Sharing side: for every friend on the roster this device answers on a share
// channel (an infohash both sides derive from their friendship secret), announces
// it on the DHT while something is shared with that friend, and gives that
// friend's devices the list of playlists shared with them, the info dicts of
// their tracks held here, and those tracks' torrents: nothing else.
// Reading side: for every friend, look the friend's share channel up on the
// DHT, link to their devices, take in their list, and stream their tracks.
import { asDict, asInt, asList, asString, asBytes, decode, encode, BencodeError, type BValue } from '../codec/index.ts'
import { friendSecrets, type Identity } from '../identity/index.ts'
import { ownerScope, packBlob, unpackBlob, type DhtNode, type ManifestBook, type UnionEntry } from '../manifest/index.ts'
import { shareChannelInfoHash, type DeviceLink, type ManifestNotice, type Swarm, type SwarmSharing, type Torrent } from '../swarm/index.ts'
import { resolveEntries } from './playlist-view.ts'
import { createHash } from 'node:crypto'

export const ANNOUNCE_EVERY = 6 // rounds between DHT announces of our share channels
export const ROUND_INTERVAL = 10_000 // ms between DHT lookups for friends we have no link with
const MAX_SHARE_LIST = 4 * 1024 * 1024
const CAPS = { playlists: 256, entries: 10_000, text: 512 } as const

export interface SharedTrack {
  sha256: string
  audioHash?: string
  title?: string
  artist?: string
  /** seconds */
  duration?: number
  size?: number
  format?: string
}

export interface SharedPlaylist {
  name: string
  entries: SharedTrack[]
}

/** What a friend shares with us, as their newest list says. */
export interface SharedByFriend {
  /** The friend's owner key, hex. */
  owner: string
  /** From the device that sent the list. */
  device: string
  created: number
  playlists: SharedPlaylist[]
}

/** What sharing asks of collaborative playlists (src/node/collab.ts). */
export interface CollabSharing {
  /** SHA-256s of tracks our devices put in friends' playlists this friend takes part in. */
  openedTo(friendOwner: string): Set<string>
  /** Owners (hex) whose devices put this track in a collaborative playlist we see. */
  ownersOf(sha256: string): string[]
  /** A collaborative playlist blob this friend may fetch. */
  blobFor(friendOwner: string, sha256: string): Buffer | undefined
}

export interface SharingOptions {
  identity: () => Identity
  book: ManifestBook
  swarm: () => Swarm
  dht: DhtNode | null
  union: () => Promise<Map<string, UnionEntry>>
  /** ms between rounds of DHT lookups for friends without a link (default ROUND_INTERVAL). */
  roundMs?: number
  /**
   * Link with friends' devices (default true). False: our share channels are
   * neither announced nor answered and friends' are not looked up, so no
   * friend's device learns this device's address (`serve --no-friend-links`);
   * shared lists and streams then stop, collaborative edits travel over the
   * DHT alone (collab-dht.ts).
   */
  links?: boolean
  /** Collaborative playlists (collab.ts): what our devices put in friends' playlists, and who to stream a track from. */
  collab?: CollabSharing
  onWarning?: (err: Error) => void
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const clip = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s).subarray(0, CAPS.text).toString('utf8').replace(/\uFFFD$/, ''))

/** Validates a share list from a friend's device (hostile input until proven otherwise). */
export function decodeShareList(plain: Uint8Array): { created: number; playlists: SharedPlaylist[] } {
  try {
    const d = asDict(decode(plain, { maxBytes: MAX_SHARE_LIST, maxDepth: 5, maxItems: 400_000, maxStringBytes: CAPS.text }), 'share list')
    const created = asInt(d.created, 'created')
    const playlists = asList(d.playlists, 'playlists', CAPS.playlists).map((pv: BValue) => {
      const p = asDict(pv, 'playlist')
      return {
        name: asString(p.name, 'name', 256),
        entries: asList(p.entries, 'entries', CAPS.entries).map((ev: BValue) => {
          const e = asDict(ev, 'entry')
          const t: SharedTrack = { sha256: hex(asBytes(e.sha256, 'sha256', 32)) }
          if (e.audio !== undefined) t.audioHash = hex(asBytes(e.audio, 'audio', 32))
          if (e.title !== undefined) t.title = asString(e.title, 'title', CAPS.text)
          if (e.artist !== undefined) t.artist = asString(e.artist, 'artist', CAPS.text)
          if (e.durationMs !== undefined) t.duration = asInt(e.durationMs, 'durationMs') / 1000
          if (e.size !== undefined) t.size = asInt(e.size, 'size')
          if (e.format !== undefined) t.format = asString(e.format, 'format', 8)
          return t
        }),
      }
    })
    return { created, playlists }
  } catch (err) {
    if (err instanceof BencodeError) throw new Error(`a friend's share list is malformed: ${err.message}`)
    throw err
  }
}

interface Offered {
  /** The share list blob for this friend. */
  blob: { sha256: string; infoHash: string; data: Buffer }
  seq: number
  /** Infohashes (hex) of shared tracks held here: the only torrents this friend may open. */
  torrents: Set<string>
  /** SHA-256s of shared tracks held here. */
  tracks: Set<string>
  empty: boolean
  /** Digest of the list without its time, to tell whether it changed. */
  content: string
}

export class Sharing implements SwarmSharing {
  private channels = new Map<string, string>() // our share channel infohash hex -> friend owner hex
  private offered = new Map<string, Offered>() // friend owner hex -> what we share with them
  private readonly received = new Map<string, SharedByFriend>() // friend owner hex -> their newest list
  private timer: NodeJS.Timeout | null = null
  private seq = 0
  private rounds = 0
  private refreshing: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(private readonly opts: SharingOptions) {}

  private get id(): Identity {
    return this.opts.identity()
  }

  private warn(err: unknown): void {
    this.opts.onWarning?.(err as Error)
  }

  // ---- SwarmSharing: what the wire lets friends reach -----------------------

  channelFor(infoHash: string): string | undefined {
    return this.opts.links === false ? undefined : this.channels.get(infoHash)
  }

  allows(friendOwner: string, infoHash: string): boolean {
    return this.offered.get(friendOwner)?.torrents.has(infoHash) ?? false
  }

  async answer(friendOwner: string, sha256: string): Promise<Uint8Array | null> {
    if (!this.offered.get(friendOwner)?.tracks.has(sha256)) return null
    return this.opts.swarm().infoDictOf(sha256)
  }

  async blob(friendOwner: string, id: string): Promise<Uint8Array | undefined> {
    const o = this.offered.get(friendOwner)
    return o && o.blob.sha256 === id ? o.blob.data : this.opts.collab?.blobFor(friendOwner, id)
  }

  // ---- running ----------------------------------------------------------------

  private attached = false
  private started = false

  /**
   * Listens for friends' links and notices, and works out what each friend
   * may reach (so our share channels are admitted). The node calls it
   * before its peer port opens, so a friend's device that links at once is
   * admitted and sent its list; start() calls it too. Idempotent.
   */
  attach(): void {
    if (this.attached || this.stopped) return
    this.attached = true
    const swarm = this.opts.swarm()
    swarm.on('friend', (link, owner) => void this.onLink(link, owner))
    swarm.friends.on('notice', (link, n) => void this.onNotice(link, n).catch((e) => this.warn(e)))
    this.opts.book.on('changed', () => this.changed())
    this.changed()
  }

  /** Attaches (above), works out the lists again and starts the rounds. Idempotent. */
  start(_signal?: AbortSignal): void {
    if (this.started || this.stopped) return
    this.started = true
    // Attached by the node before the library's tracks were offered to the
    // swarm: work the lists out again (a friend reaches only tracks offered).
    if (this.attached) this.changed()
    else this.attach()
    this.timer = setInterval(() => void this.round().catch((e) => this.warn(e)), this.opts.roundMs ?? ROUND_INTERVAL)
    this.timer.unref()
    void this.refreshing.then(() => this.round()).catch((e) => this.warn(e))
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
  }

  /** Something that decides what is shared changed (playlists, the library, the roster): recompute soon. */
  changed(): void {
    this.refreshing = this.refreshing.then(() => this.refresh()).catch((e) => this.warn(e))
  }

  /** Waits for pending recomputations (tests, and the API after an edit). */
  settled(): Promise<void> {
    return this.refreshing
  }

  /** Recomputes what each friend may reach, tells their linked devices, and drops what is no longer shared. */
  private async refresh(): Promise<void> {
    const id = this.id
    const swarm = this.opts.swarm()
    const selfOwner = id.roster.owner
    const secrets = friendSecrets(id)
    // A friend whose secret this device does not have yet (a member device before an admin sealed it) gets no channel.
    const friends = id.roster.friends.map((f) => hex(f.owner)).filter((o) => secrets.has(o))
    this.channels = new Map(friends.map((o) => [shareChannelInfoHash(secrets.get(o)!, selfOwner).toString('hex'), o]))
    if (friends.length === 0 && this.offered.size === 0) return // nobody to share with: nothing to work out
    const union = await this.opts.union()
    const next = new Map<string, Offered>()
    for (const friend of friends) {
      const playlists: SharedPlaylist[] = []
      const tracks = new Set<string>()
      const torrents = new Set<string>()
      for (const name of this.opts.book.playlistNames()) {
        const merged = this.opts.book.playlist(name)
        if (!merged?.shared.includes(friend)) continue
        // A playlist opens exactly the tracks our devices put in it, never a collaborator's entry naming one of ours.
        const guestDevices = new Set(merged.guests.map((g) => g.device))
        const scope = ownerScope(merged, (d) => !guestDevices.has(d))
        const entries = resolveEntries(merged, union).map((e): SharedTrack => {
          const t = e.track
          const sha256 = t?.sha256 ?? e.ref.sha256
          const ih = swarm.infoHashOf(sha256)
          if (ih && scope.has(e.ref.sha256)) {
            tracks.add(sha256)
            torrents.add(ih)
          }
          const out: SharedTrack = { sha256 }
          const audio = t?.audioHash ?? e.ref.audio
          if (audio) out.audioHash = audio
          const title = clip(t?.tags.title ?? e.ref.title)
          if (title) out.title = title
          const artist = clip(t?.tags.artist ?? e.ref.artist)
          if (artist) out.artist = artist
          const duration = t?.tags.duration ?? e.ref.duration
          if (duration) out.duration = duration
          if (t) (out.size = t.size), (out.format = t.format)
          return out
        })
        playlists.push({ name, entries })
      }
      for (const sha256 of this.opts.collab?.openedTo(friend) ?? []) {
        const ih = swarm.infoHashOf(sha256)
        if (ih) (tracks.add(sha256), torrents.add(ih))
      }
      const body = {
        created: Date.now(),
        playlists: playlists.map((p) => ({
          name: p.name,
          entries: p.entries.map((e) => ({
            sha256: Buffer.from(e.sha256, 'hex'),
            audio: e.audioHash ? Buffer.from(e.audioHash, 'hex') : undefined,
            title: e.title,
            artist: e.artist,
            durationMs: e.duration ? Math.round(e.duration * 1000) : undefined,
            size: e.size,
            format: e.format,
          })),
        })),
      }
      const content = digest({ ...body, created: 0 })
      const prev = this.offered.get(friend)
      if (prev && prev.content === content && setEq(prev.torrents, torrents)) {
        next.set(friend, prev)
        continue
      }
      next.set(friend, { blob: packBlob(encode(body), id.circleSecret), seq: ++this.seq, torrents, tracks, empty: playlists.length === 0 && tracks.size === 0, content })
    }
    const before = this.offered
    this.offered = next
    // Tell linked devices of each friend whose list changed; cut torrents no longer shared.
    for (const [friend, o] of next) {
      if (before.get(friend) === o) continue
      const links = swarm.friends.online().filter((l) => this.isOurChannel(l) && hex(l.session.peer.certificate.owner) === friend)
      if (links.length) swarm.friends.notify(this.notice(o), links)
    }
    await swarm.enforceRoster()
    // Not before start: the peer port is not open yet, so there is no port to announce.
    if (this.started) void this.announce().catch((e) => this.warn(e))
  }

  private notice(o: Offered): ManifestNotice {
    return { kind: 'share', signer: hex(this.id.device.publicKey), infoHash: o.blob.infoHash, seq: o.seq, sha256: o.blob.sha256 }
  }

  /** Whether a friend link runs on our share channel (they read ours) rather than theirs. */
  private isOurChannel(link: DeviceLink): boolean {
    return this.channels.has(link.session.infoHash.toString('hex'))
  }

  private onLink(link: DeviceLink, owner: string): void {
    if (!this.isOurChannel(link)) return
    const o = this.offered.get(owner)
    if (o) this.opts.swarm().friends.notify(this.notice(o), [link])
  }

  /** Announces our share channels; looks up the channels of friends we have no link with. */
  private async round(): Promise<void> {
    if (this.opts.links === false) return
    await this.announce(this.rounds++ % ANNOUNCE_EVERY === 0)
    await this.lookupFriends()
  }

  /**
   * Announces the share channels with something shared: all of them every
   * ANNOUNCE_EVERY rounds, and each round those no device of the friend is
   * linked on yet (an announce made while the DHT was empty reached nobody).
   */
  private async announce(all = true): Promise<void> {
    const dht = this.opts.dht
    if (!dht || this.stopped || this.opts.links === false) return
    const swarm = this.opts.swarm()
    for (const [channel, friend] of this.channels) {
      if (this.offered.get(friend)?.empty !== false) continue
      if (!all && swarm.friends.online().some((l) => l.session.infoHash.toString('hex') === channel)) continue
      await dht.announce(Buffer.from(channel, 'hex'), swarm.port).catch((e) => this.warn(e))
    }
  }

  /** Finds friends' devices that share with us on the DHT and links to them. */
  async lookupFriends(): Promise<void> {
    const dht = this.opts.dht
    if (!dht || this.stopped || this.opts.links === false) return
    const swarm = this.opts.swarm()
    const secrets = friendSecrets(this.id)
    await Promise.all(
      this.id.roster.friends.map(async (f) => {
        const owner = hex(f.owner)
        const secret = secrets.get(owner)
        if (!secret) return
        const channel = shareChannelInfoHash(secret, f.owner)
        const linked = swarm.friends.online().filter((l) => l.session.infoHash.equals(channel))
        if (linked.length > 0) return
        for (const a of await dht.lookup(channel)) {
            await swarm.connectFriend(a.host, a.port, channel, owner).catch(() => {})
        }
      }),
    )
  }

  private async onNotice(link: DeviceLink, n: ManifestNotice): Promise<void> {
    if (n.kind !== 'share' || !n.sha256 || this.isOurChannel(link)) return
    const owner = hex(link.session.peer.certificate.owner)
    const got = await this.opts.swarm().friends.fetchBlob(n.sha256, [link])
    if (!got || createHash('sha256').update(got.data).digest('hex') !== n.sha256) {
      return this.warn(new Error(`${link.name} (a friend's device) sent a share list that does not match its notice`))
    }
    let list
    try {
      list = decodeShareList(unpackBlob(got.data, MAX_SHARE_LIST))
    } catch (err) {
      return this.warn(new Error(`refused a share list from ${link.name}: ${(err as Error).message}`))
    }
    const prev = this.received.get(owner)
    if (prev && prev.created > list.created) return
    this.received.set(owner, { owner, device: link.name, created: list.created, playlists: list.playlists })
  }

  // ---- reading ----------------------------------------------------------------

  /** What friends share with us now (friends still on the roster). */
  sharedWithMe(): Array<SharedByFriend & { name: string; online: number }> {
    const online = this.opts.swarm().friends.online()
    return this.id.roster.friends
      .map((f) => ({ f, got: this.received.get(hex(f.owner)) }))
      .filter((x) => x.got)
      .map(({ f, got }) => ({
        ...got!,
        name: f.name,
        online: online.filter((l) => !this.isOurChannel(l) && hex(l.session.peer.certificate.owner) === got!.owner).length,
      }))
  }

  /** A track a friend shares with us, opened from their devices; null when no friend shares it. */
  async open(sha256: string): Promise<Torrent | null> {
    const owners = this.sharedWithMe().filter((s) => s.playlists.some((p) => p.entries.some((e) => e.sha256 === sha256))).map((s) => s.owner)
    // Entries of collaborative playlists: from the devices of whichever participant put them in.
    for (const o of this.opts.collab?.ownersOf(sha256) ?? []) if (!owners.includes(o)) owners.push(o)
    for (const owner of owners) {
      try {
        return await this.opts.swarm().openShared(sha256, owner)
      } catch {
        // not held by their devices online now: try the next friend
      }
    }
    return null
  }
}

function digest(v: unknown): string {
  return createHash('sha256').update(encode(v as never)).digest('hex')
}
function setEq(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}
