// Backups over the network, on a running node (docs/backup.md, "Over the
// network").
// - An admin device pushes: a backup made from the node's open stores, kept
//   with the last KEEP_VERSIONS pushed, served on this owner's backup channel
//   with each friend (an infohash derived from that friendship's secret, so
//   only the two circles can compute it), and named by a BEP 44 item under
//   the owner key (salt "djcloud/backup") that also carries the friend list
//   sealed for a restore from the phrase.
// - Every device polls each friend's backup item, fetches versions it does
//   not hold from whoever serves that friend's backup channel with us,
//   checks them (SHA-256 named by the item, then the owner signature: a friend cannot
//   decrypt, but can reject a tampered copy), keeps them within the quota set
//   for that friend, and serves them on that friend's channel to that
//   friend's devices (a restoring device among them).
// - Status: which friends' devices hold which of our versions, asked over
//   our backup channels ("do you hold SHA-256 X").
// - Pointer: a device serving a backup channel answers "which pointer do you
//   hold" (POINTER_COMMAND) with the owner-signed item it keeps, so a
//   restoring device learns the newest seq from every holder, not from the
//   DHT alone (whose stores can be flushed and an old item replayed).
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { asBytes, asDict, asInt, decode, encode, type BDict } from '../codec/index.ts'
import { friendSecrets, type Identity, type Roster } from '../identity/index.ts'
import { verifySignedItem, type DhtNode } from '../manifest/index.ts'
import { backupChannelInfoHash, type CommandAnswer, type DeviceLink, type ManifestNotice, type Swarm, type SwarmBackups, type VerifiedPeer } from '../swarm/index.ts'
import { DialBackoff, unreachable } from './dial-backoff.ts'
import { logger } from '../log/index.ts'
import {
  BACKUP_SALT, BackupError, decodePointer, encodePointer, sealPointerFriends, exportFromStores, heldDir, heldOwners, KEEP_VERSIONS, pushedDir, quotaFor, verifyBackup,
  VersionDir, type BackupVersion, type OpenStores,
} from '../backup/index.ts'

export const BACKUP_POLL_INTERVAL = 10 * 60_000 // ms between polls of friends' backup items
export const BACKUP_LOOKUP = 2_000 // ms a backup channel's DHT lookup, or a linked owner device's pointer answer, is waited for
export const BACKUP_REPUT = 30 * 60_000 // ms between re-puts of a pointer: BEP 44 items expire after about two hours
export const BACKUP_NOTICE_GAP = 5_000 // ms between polls a friend's notices may start
const SERVED_CACHE = 2 // backups kept in memory while being served
const SERVED_FOR = 60_000 // ms

export interface NodeBackupsOptions {
  home: string
  identity: () => Identity
  swarm: () => Swarm
  dht: DhtNode | null
  stores: () => OpenStores
  /** ms between polls of friends' backup items (default BACKUP_POLL_INTERVAL). */
  pollMs?: number
  /** ms a backup channel's DHT lookup, or a linked owner device's pointer answer, is waited for (default BACKUP_LOOKUP). */
  lookupMs?: number
  /** ms between re-puts of our pointer and of friends' pointers kept here (default BACKUP_REPUT). */
  reputMs?: number
  /** ms between polls of one friend that its notices may start (default BACKUP_NOTICE_GAP). */
  noticeGapMs?: number
  onWarning?: (err: Error) => void
}

export interface PushResult {
  seq: number
  sha256: string
  bytes: number
  /** DHT nodes that stored the pointer. */
  stored: number
  /** The versions the pointer names now, newest first. */
  versions: BackupVersion[]
}

export interface BackupStatus {
  /** Versions the pointer on the DHT names (newest first); [] when none was found. */
  pointer: BackupVersion[]
  /** Versions pushed from this device and kept here. */
  pushed: BackupVersion[]
  /**
   * Friends' devices that answered, with the versions of ours they hold;
   * then every friend on the roster none of whose devices answered
   * (`online: false`, `device: null`: what it holds is not known now).
   */
  friends: Array<{ friend: string; name: string; device: string | null; online: boolean; versions: number[] }>
  /** Friends' backups held here. */
  held: Array<{ owner: string; name?: string; versions: BackupVersion[]; bytes: number; quota: number }>
}

/** A holder's command on a backup channel: "the newest pointer you hold for this channel's owner" (empty body). */
export const POINTER_COMMAND = 'backup-pointer'

/** A backup pointer as its owner signed it (a BEP 44 item under BACKUP_SALT). */
export interface SignedPointer {
  seq: number
  v: BDict
  sig: Buffer
}

const POINTER_LIMITS = { maxBytes: 2048, maxDepth: 4, maxItems: 100 }

/** A holder's answer to POINTER_COMMAND: the item with its versions, or null when it is malformed or not signed by `owner`. */
export function readPointerAnswer(body: Uint8Array, owner: Uint8Array): (SignedPointer & { versions: BackupVersion[] }) | null {
  try {
    const d = asDict(decode(body, POINTER_LIMITS), 'pointer')
    const p = { seq: asInt(d.seq, 'seq'), v: asDict(d.v, 'v'), sig: Buffer.from(asBytes(d.sig, 'sig', 64)) }
    const versions = decodePointer(p.v)
    if (!versions || !verifySignedItem({ publicKey: owner, salt: BACKUP_SALT, ...p })) return null
    return { ...p, versions }
  } catch {
    return null
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const ownerOf = (p: VerifiedPeer) => hex(p.certificate.owner)
const trace = logger('backups')

export class NodeBackups implements SwarmBackups {
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private polling: Promise<void> | null = null
  private pushing: Promise<PushResult> | null = null
  private lastPut = 0
  /** When each friend's pointer (owner hex) was last put again from here. */
  private readonly friendPut = new Map<string, number>()
  /** The friend-pointer update running per owner (hex), so they run one at a time. */
  private readonly pointerTurns = new Map<string, Promise<void>>()
  /** When a notice last made us poll an owner (hex). */
  private readonly noticed = new Map<string, number>()
  /** A poll due after a notice that came while busy or within the gap, by owner hex (one each). */
  private readonly trailing = new Map<string, NodeJS.Timeout>()
  /** Fetches started by a notice, by owner hex. */
  private readonly fetching = new Map<string, Promise<void>>()
  /** Backups being served, read once: folder/sha256 -> bytes, until when kept. */
  private readonly served = new Map<string, { data: Uint8Array; until: number }>()
  /**
   * `channel@host:port` dials that failed other than as unreachable: left
   * alone for a while (another friend of that owner admits only the owner's
   * devices and counts refusals towards a ban), doubling per failure.
   */
  private readonly refused = new DialBackoff()
  private channelMemo: { roster: Roster; own: Map<string, string>; friends: Map<string, string> } | undefined

  constructor(private readonly opts: NodeBackupsOptions) {}

  private get id(): Identity {
    return this.opts.identity()
  }

  private warn(err: unknown): void {
    this.opts.onWarning?.(err as Error)
  }

  private get lookupMs(): number {
    return this.opts.lookupMs ?? BACKUP_LOOKUP
  }

  private get reputMs(): number {
    return this.opts.reputMs ?? BACKUP_REPUT
  }

  /**
   * The backup channels of this roster (one per friend and direction, from
   * the friendship secret): ours with each friend (channel hex -> friend
   * hex), and each friend's with us (channel hex -> friend hex). Recomputed
   * when the roster object changes.
   */
  private channelsOf(): { own: Map<string, string>; friends: Map<string, string> } {
    const id = this.id
    if (this.channelMemo?.roster !== id.roster) {
      const own = new Map<string, string>()
      const friends = new Map<string, string>()
      for (const [friend, secret] of friendSecrets(id)) {
        own.set(backupChannelInfoHash(secret, id.roster.owner).toString('hex'), friend)
        friends.set(backupChannelInfoHash(secret, Buffer.from(friend, 'hex')).toString('hex'), friend)
      }
      this.channelMemo = { roster: id.roster, own, friends }
    }
    return this.channelMemo
  }

  /** Our backup channels (one per friend). */
  private ownChannels(): Buffer[] {
    return [...this.channelsOf().own.keys()].map((c) => Buffer.from(c, 'hex'))
  }

  /** A friend's backup channel with us; undefined when this device has no secret with that friend yet. */
  private friendChannel(ownerHex: string): Buffer | undefined {
    for (const [c, f] of this.channelsOf().friends) if (f === ownerHex) return Buffer.from(c, 'hex')
    return undefined
  }

  /** Owner (hex) of a friend's backup channel (hex), if that friend is on the roster. */
  private friendOfChannel(ih: string): string | undefined {
    return this.channelsOf().friends.get(ih)
  }

  // ---- SwarmBackups ----------------------------------------------------------

  admit(ih: string): ((p: VerifiedPeer) => boolean) | undefined {
    // Ours with one friend: own devices and that friend's (who fetch to seed them).
    const with_ = this.channelsOf().own.get(ih)
    if (with_) return (p) => p.kind === 'own' || (p.kind === 'friend' && ownerOf(p) === with_)
    // A friend's: that friend's devices only (its own devices, or one restoring from its phrase).
    const friend = this.friendOfChannel(ih)
    if (friend) return (p) => p.kind === 'friend' && ownerOf(p) === friend
    return undefined
  }

  async holds(ih: string, sha256: string): Promise<boolean> {
    const dir = this.dirOf(ih)
    return dir ? dir.has(sha256) : false
  }

  async blob(ih: string, sha256: string): Promise<Uint8Array | undefined> {
    const dir = this.dirOf(ih)
    if (!dir || !(await dir.has(sha256))) return undefined
    // A fetch asks for a backup in 64 KiB chunks: it is read (and its SHA-256 checked) once, not per chunk.
    const key = `${dir.dir}/${sha256}`
    const hit = this.served.get(key)
    if (hit && hit.until > Date.now()) return hit.data
    const data = await dir.read(sha256)
    if (!data) return undefined
    for (const [k, v] of this.served) if (v.until <= Date.now()) this.served.delete(k)
    while (this.served.size >= SERVED_CACHE) this.served.delete(this.served.keys().next().value!)
    this.served.set(key, { data, until: Date.now() + SERVED_FOR })
    return data
  }

  /** The folder a channel's backups are served from here: ours (admin devices) or a friend's; undefined otherwise. */
  private dirOf(ih: string): VersionDir | undefined {
    if (this.channelsOf().own.has(ih)) return this.id.owner ? pushedDir(this.opts.home) : undefined
    const friend = this.friendOfChannel(ih)
    return friend ? heldDir(this.opts.home, friend) : undefined
  }

  // ---- running ---------------------------------------------------------------

  private attached = false
  private started = false

  /**
   * Answers POINTER_COMMAND and listens for friends' notices. The node calls
   * it before its peer port opens, so a device that links at once is
   * answered; start() calls it too. Idempotent.
   */
  attach(): void {
    if (this.attached || this.stopped) return
    this.attached = true
    const swarm = this.opts.swarm()
    swarm.holders.onCommand(POINTER_COMMAND, (_body, link) => this.answerPointer(link))
    const onNotice = (link: DeviceLink, n: ManifestNotice) => void this.onNotice(link, n).catch((e) => this.warn(e))
    swarm.holders.on('notice', onNotice)
    swarm.friends.on('notice', onNotice)
  }

  /** Attaches (above) and starts polling. Idempotent. */
  start(_signal?: AbortSignal): void {
    if (this.started || this.stopped) return
    this.started = true
    this.attach()
    const every = this.opts.pollMs ?? BACKUP_POLL_INTERVAL
    this.timer = setInterval(() => void this.poll().catch((e) => this.warn(e)), every)
    this.timer.unref()
    void this.poll().catch((e) => this.warn(e))
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    for (const t of this.trailing.values()) clearTimeout(t)
    this.trailing.clear()
  }

  /**
   * A friend's device says its owner pushed a backup: fetch it now rather
   * than at the next poll. A notice that comes while a fetch for that owner
   * runs, or within the notice gap of the last one, is not dropped: one
   * poll follows when the running fetch ends and the gap has passed (a
   * friend's device still cannot make us poll more often than the gap).
   */
  private async onNotice(link: DeviceLink, n: ManifestNotice): Promise<void> {
    const peer = link.session.peer
    if (n.kind !== 'backup' || peer.kind !== 'friend' || n.signer !== ownerOf(peer) || this.stopped) return
    const friend = this.id.roster.friends.find((f) => hex(f.owner) === n.signer)
    if (!friend) return
    const wait = (this.noticed.get(n.signer) ?? -Infinity) + (this.opts.noticeGapMs ?? BACKUP_NOTICE_GAP) - Date.now()
    if (this.fetching.has(n.signer) || wait > 0) {
      if (this.trailing.has(n.signer)) return // one follows already
      const timer = setTimeout(() => {
        this.trailing.delete(n.signer)
        void this.noticedPoll(n.signer, friend.owner).catch((e) => this.warn(e))
      }, Math.max(0, wait))
      timer.unref()
      this.trailing.set(n.signer, timer)
      return
    }
    await this.noticedPoll(n.signer, friend.owner)
  }

  /** A poll of one friend's pointer because of a notice, after any fetch for that owner running now. */
  private async noticedPoll(ownerHex: string, owner: Uint8Array): Promise<void> {
    await this.fetching.get(ownerHex)?.catch(() => {})
    // Another that started meanwhile started after the notice: it finds what the notice named.
    if (this.stopped || this.fetching.has(ownerHex)) return
    if (this.noticed.size >= 10_000) this.noticed.clear()
    this.noticed.set(ownerHex, Date.now())
    const running = this.pollFriend(ownerHex, owner).finally(() => this.fetching.delete(ownerHex))
    this.fetching.set(ownerHex, running)
    await running
  }

  /** One round: announce the channels served here, then fetch friends' new versions. Runs once at a time. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        if (this.id.owner && Date.now() - this.lastPut >= this.reputMs) await this.reput().catch((e) => this.warn(e))
        else await this.pointer(this.id.roster.owner) // every own device keeps (and so serves) the owner's pointer
        await this.announce()
        for (const f of this.id.roster.friends) {
          if (this.stopped) return
          await this.pollFriend(hex(f.owner), f.owner).catch((e) => this.warn(e))
        }
        await this.announce()
      } finally {
        this.polling = null
      }
    })()
    return this.polling
  }

  private async announce(): Promise<void> {
    const dht = this.opts.dht
    if (!dht || this.stopped) return
    const port = this.opts.swarm().port
    const channels: Buffer[] = []
    if (this.id.owner && (await pushedDir(this.opts.home).list()).length) channels.push(...this.ownChannels())
    for (const owner of await heldOwners(this.opts.home)) {
      const channel = this.friendChannel(owner)
      if (channel && (await heldDir(this.opts.home, owner).list()).length) channels.push(channel)
    }
    for (const c of channels) await dht.announce(c, port).catch((e) => this.warn(e))
  }

  /** The versions the owner's pointer names (newest first); [] when none is found or it is malformed. */
  async pointer(owner: Uint8Array): Promise<{ seq: number; versions: BackupVersion[]; friends?: Uint8Array }> {
    const item = await this.opts.dht?.getItem({ publicKey: owner, salt: BACKUP_SALT, keep: true }).catch(() => null)
    if (!item) return { seq: 0, versions: [] }
    const f = (item.v as Record<string, unknown>).f
    const versions = decodePointer(item.v)
    if (!versions) {
      this.warn(new Error(`the backup pointer of ${hex(owner).slice(0, 12)} is malformed (seq ${item.seq})`))
      return { seq: item.seq, versions: [] }
    }
    return { seq: item.seq, versions, ...(f instanceof Uint8Array ? { friends: f } : {}) }
  }

  /** Our friends, sealed for the pointer (a restore from the phrase reads them); undefined without the backup key. */
  private sealedFriends(): Uint8Array | undefined {
    const id = this.id
    return id.backupKey ? sealPointerFriends(id.backupKey, id.roster.friends.map((f) => f.owner)) : undefined
  }

  /** The signed pointer of a friend (owner hex) kept here; null when none is. */
  private async savedPointer(ownerHex: string): Promise<SignedPointer | null> {
    try {
      const j = JSON.parse(await readFile(join(this.opts.home, 'backup', 'held', ownerHex, 'pointer.json'), 'utf8')) as { seq: number; v: string; sig: string }
      return { seq: j.seq, v: decode(Buffer.from(j.v, 'hex'), POINTER_LIMITS) as BDict, sig: Buffer.from(j.sig, 'hex') }
    } catch {
      return null // none kept yet
    }
  }

  /** POINTER_COMMAND on a channel served here: a friend's pointer kept here, or (on ours) the one on the DHT. */
  private async answerPointer(link: DeviceLink): Promise<CommandAnswer> {
    const ih = link.session.infoHash.toString('hex')
    const friend = this.friendOfChannel(ih)
    let p: SignedPointer | null = null
    if (friend) p = await this.savedPointer(friend)
    else if (this.ownChannels().some((c) => c.toString('hex') === ih)) {
      const item = await this.opts.dht?.getItem({ publicKey: this.id.roster.owner, salt: BACKUP_SALT, keep: true }).catch(() => null)
      if (item?.sig && decodePointer(item.v)) p = { seq: item.seq, v: item.v as BDict, sig: item.sig }
    }
    return p ? { body: encode({ seq: p.seq, v: p.v, sig: p.sig }) } : { refused: 'no backup pointer is held here' }
  }

  /**
   * A friend's pointer: the newest of the one on the DHT and the signed copy
   * kept here, which this device puts again every 30 minutes (and at once
   * when the DHT has none), so the pointer outlives the owner's devices.
   */
  private friendPointer(ownerHex: string, owner: Uint8Array): Promise<BackupVersion[]> {
    // One at a time per owner: a poll and a notice racing could otherwise
    // write an older pointer over a newer one (both through the same temp file).
    const prev = this.pointerTurns.get(ownerHex) ?? Promise.resolve()
    const turn = prev.catch(() => {}).then(() => this.friendPointerNow(ownerHex, owner))
    const tail = turn.then(() => {}, () => {})
    this.pointerTurns.set(ownerHex, tail)
    void tail.then(() => this.pointerTurns.get(ownerHex) === tail && this.pointerTurns.delete(ownerHex))
    return turn
  }

  private async friendPointerNow(ownerHex: string, owner: Uint8Array): Promise<BackupVersion[]> {
    const dht = this.opts.dht
    if (!dht) return []
    const file = join(this.opts.home, 'backup', 'held', ownerHex, 'pointer.json')
    let saved = await this.savedPointer(ownerHex)
    // Kept: no volume of strangers' puts evicts this friend's pointer from our node.
    const item = await dht.getItem({ publicKey: owner, salt: BACKUP_SALT, keep: true }).catch(() => null)
    // The owner's devices linked now are asked too: a DHT whose nodes restart
    // often can answer with an older item than the owner's own node holds.
    const fromLinks = await this.pointerFromLinks(ownerHex, owner)
    const newest = [item?.sig && decodePointer(item.v) ? { seq: item.seq, v: item.v as BDict, sig: item.sig } : null, fromLinks]
      .filter((x): x is SignedPointer => !!x)
      .sort((x, y) => y.seq - x.seq)[0]
    trace('[%s] pointer: dht seq %s, links seq %s, kept seq %s', ownerHex.slice(0, 8), item?.seq ?? '-', fromLinks?.seq ?? '-', saved?.seq ?? '-')
    if (newest && (!saved || newest.seq > saved.seq)) {
      saved = newest
      await mkdir(join(this.opts.home, 'backup', 'held', ownerHex), { recursive: true, mode: 0o700 })
      await writeFile(`${file}.tmp`, JSON.stringify({ seq: saved.seq, v: Buffer.from(encode(saved.v)).toString('hex'), sig: saved.sig.toString('hex') }), { mode: 0o600 })
      await rename(`${file}.tmp`, file)
    }
    if (!saved) return []
    const due = Date.now() - (this.friendPut.get(ownerHex) ?? 0) >= this.reputMs
    if (!item || item.seq < saved.seq || due) {
      await dht.putSigned({ publicKey: owner, salt: BACKUP_SALT, ...saved }).then(
        () => this.friendPut.set(ownerHex, Date.now()),
        (e) => this.warn(e),
      )
    }
    return decodePointer(saved.v) ?? []
  }

  /** The newest owner-signed pointer the owner's devices linked on our backup channel with them answer with, if any. */
  private async pointerFromLinks(ownerHex: string, owner: Uint8Array): Promise<SignedPointer | null> {
    const channel = this.friendChannel(ownerHex)
    if (!channel) return null
    const swarm = this.opts.swarm()
    const links = swarm.holders.online().filter((l) => l.session.infoHash.equals(channel) && ownerOf(l.session.peer) === ownerHex)
    let best: SignedPointer | null = null
    trace('[%s] asking %d linked owner devices for the pointer', ownerHex.slice(0, 8), links.length)
    for (const link of links.slice(0, 4)) {
      const body = await swarm.holders.command(link, POINTER_COMMAND, new Uint8Array(0), this.lookupMs).catch((err: Error) => (trace('[%s] %s: pointer command failed: %s', ownerHex.slice(0, 8), link.name, err.message), null))
      const p = body ? readPointerAnswer(body, owner) : null
      if (p && (!best || p.seq > best.seq)) best = { seq: p.seq, v: p.v, sig: p.sig }
    }
    return best
  }

  private async pollFriend(ownerHex: string, owner: Uint8Array): Promise<void> {
    const versions = await this.friendPointer(ownerHex, owner)
    if (versions.length === 0) return
    const dir = heldDir(this.opts.home, ownerHex)
    const quota = await quotaFor(this.opts.home, ownerHex)
    const held = await dir.list()
    const newestHeld = held.at(-1)?.seq ?? 0
    // Newest first; never an older version than the newest held (it would be pruned first anyway).
    let links: DeviceLink[] | undefined
    for (const v of versions.slice(0, KEEP_VERSIONS)) {
      if (v.seq <= newestHeld && held.some((h) => h.seq === v.seq)) continue
      if (v.seq < newestHeld) continue
      if (v.size > quota) {
        this.warn(new Error(`backup seq ${v.seq} of ${ownerHex.slice(0, 12)} (${v.size} bytes) is over the quota of ${quota} bytes: not held`))
        continue
      }
      const channel = this.friendChannel(ownerHex)
      if (!channel) return // no secret with this friend here yet: its channel cannot be named
      links ??= await this.holderLinks([channel], (p) => p.kind === 'friend' && ownerOf(p) === ownerHex) // once a poll: few dials
      const data = await this.fetchVersion(v, owner, links)
      trace('[%s] seq %d from %d links: %s', ownerHex.slice(0, 8), v.seq, links.length, data ? `${data.length} bytes` : 'not fetched')
      if (!data) continue
      await dir.add(v.seq, data)
      const dropped = await dir.prune(KEEP_VERSIONS, quota)
      for (const d of dropped) this.warn(new Error(`dropped backup seq ${d.seq} of ${ownerHex.slice(0, 12)} (quota ${quota} bytes, keep ${KEEP_VERSIONS})`))
    }
  }

  /** Links on these backup channels: those open, and devices found on the DHT (not those that refused us lately). */
  private async holderLinks(channels: Buffer[], allow: (p: VerifiedPeer) => boolean): Promise<DeviceLink[]> {
    const swarm = this.opts.swarm()
    const open = () => swarm.holders.online().filter((l) => channels.some((c) => l.session.infoHash.equals(c)) && allow(l.session.peer))
    const dht = this.opts.dht
    if (dht) {
      await Promise.all(channels.map(async (channel) => {
        const ih = channel.toString('hex')
        const peers = await dht.lookup(channel, this.lookupMs).catch(() => [])
        trace('[%s] lookup: %s', ih.slice(0, 8), peers.map((a) => `${a.host}:${a.port}`).join(' ') || 'none')
        await Promise.all(
          peers
            .filter((a) => !(a.port === swarm.port && (a.host.startsWith('127.') || a.host === '0.0.0.0')))
            .map((a) => ({ a, key: `${ih}@${a.host}:${a.port}` }))
            .filter(({ key }) => this.refused.allows(key))
            .map(({ a, key }) =>
              swarm.connectHolder(a.host, a.port, channel, allow).then(
                () => this.refused.succeeded(key),
                (err: Error) => {
                  trace('[%s] dial %s:%d failed: %s', ih.slice(0, 8), a.host, a.port, err.message)
                  // Closed at the wire (a refusal, or a device going down mid-handshake), not just unreachable.
                  if (!unreachable(err)) this.refused.failed(key)
                },
              ),
            ),
        )
      }))
    }
    return open()
  }

  /** A version from one of these links, checked (SHA-256 named by the pointer, owner signature, seq); a bad copy is refused and the next holder asked. */
  private async fetchVersion(v: BackupVersion, owner: Uint8Array, links: DeviceLink[]): Promise<Uint8Array | null> {
    const swarm = this.opts.swarm()
    for (const link of links) {
      if (link.session.wire.destroyed) continue
      const got = await swarm.holders.fetchBlob(v.sha256, [link], true)
      if (!got) continue
      const refusal = checkCopy(got.data, owner, v)
      if (!refusal) return got.data
      this.warn(new Error(`refused backup seq ${v.seq} from ${link.name}: ${refusal}`))
    }
    return null
  }

  // ---- the owner's side ------------------------------------------------------

  /** Makes a backup from the open stores, keeps it with the last few, and points the DHT item at them. */
  push(): Promise<PushResult> {
    this.pushing ??= this.pushOnce().finally(() => (this.pushing = null))
    return this.pushing
  }

  private async pushOnce(): Promise<PushResult> {
    const id = this.id
    if (!id.owner) throw new BackupError('ERR_NOT_ADMIN', 'only an admin device (one holding the owner and backup keys) can push a backup')
    const dht = this.opts.dht
    const pointer = await this.pointer(id.roster.owner)
    const known = Math.max(pointer.seq, ...pointer.versions.map((v) => v.seq), 0)
    const made = await exportFromStores(this.opts.home, this.opts.stores(), { atLeast: known + 1 })
    const seq = made.header.seq
    const dir = pushedDir(this.opts.home)
    const mine = await dir.add(seq, made.bytes)
    await dir.prune(KEEP_VERSIONS)
    // The pointer names ours and, below them, older ones another admin device pushed (friends may hold those).
    const names = new Map<number, BackupVersion>()
    for (const v of [...pointer.versions, ...(await dir.list())]) names.set(v.seq, v)
    const versions = [...names.values()].sort((a, b) => b.seq - a.seq).slice(0, KEEP_VERSIONS)
    let stored = 0
    if (dht) {
      stored = (await dht.putItem({ seed: id.owner.seed, salt: BACKUP_SALT, seq, v: encodePointer(versions, this.sealedFriends()) })).stored
      this.lastPut = Date.now()
      for (const c of this.ownChannels()) await dht.announce(c, this.opts.swarm().port).catch((e) => this.warn(e))
    }
    // Friends' devices linked now (they fetched from us before, or read what we share) hear of it at once, each on its channel with us.
    const swarm = this.opts.swarm()
    for (const [channel, friend] of this.channelsOf().own) {
      const notice: ManifestNotice = { kind: 'backup', signer: hex(id.roster.owner), infoHash: channel, seq }
      const ofFriend = (l: DeviceLink) => l.session.peer.kind === 'friend' && ownerOf(l.session.peer) === friend
      swarm.holders.notify(notice, swarm.holders.online().filter((l) => l.session.infoHash.toString('hex') === channel && ofFriend(l)))
      swarm.friends.notify(notice, swarm.friends.online().filter(ofFriend))
    }
    return { seq, sha256: mine.sha256, bytes: mine.size, stored, versions }
  }

  /**
   * Puts the pointer again (DHT nodes forget items, and come and go): the one
   * found when it is at our newest push or later, else our pushed versions.
   */
  private async reput(): Promise<void> {
    const id = this.id
    const dht = this.opts.dht
    if (!dht || !id.owner) return
    const pushed = await pushedDir(this.opts.home).list()
    if (pushed.length === 0) return
    const newest = pushed.at(-1)!.seq
    const found = await this.pointer(id.roster.owner)
    const names = new Map<number, BackupVersion>()
    for (const v of [...found.versions, ...pushed]) names.set(v.seq, v)
    const seq = Math.max(found.seq, newest)
    // The same seq must carry the same value (nodes holding it refuse another at that seq).
    const same = found.versions.length > 0 && found.seq >= newest
    const versions = same ? found.versions : [...names.values()]
    await dht.putItem({ seed: id.owner.seed, salt: BACKUP_SALT, seq, v: encodePointer(versions, same ? found.friends : this.sealedFriends()) })
    this.lastPut = Date.now()
  }

  /** Our versions and who holds them; friends' backups held here. */
  async status(): Promise<BackupStatus> {
    const id = this.id
    const owner = id.roster.owner
    const pointer = (await this.pointer(owner)).versions
    const pushed = this.id.owner ? (await pushedDir(this.opts.home).list()).reverse() : []
    const versions = new Map<string, number>()
    for (const v of [...pointer, ...pushed]) versions.set(v.sha256, v.seq)
    const names = new Map(id.roster.friends.map((f) => [hex(f.owner), f.name]))
    const friends: BackupStatus['friends'] = []
    const links = await this.holderLinks(this.ownChannels(), (p) => p.kind === 'friend')
    const swarm = this.opts.swarm()
    const byLink = new Map<DeviceLink, number[]>()
    for (const [sha, seq] of versions) {
      for (const h of await swarm.holders.lookup(sha, 1_500, links)) byLink.set(h.link, [...(byLink.get(h.link) ?? []), seq])
    }
    for (const link of links) {
      const friend = ownerOf(link.session.peer)
      friends.push({ friend, name: names.get(friend) ?? '', device: link.name, online: true, versions: (byLink.get(link) ?? []).sort((a, b) => b - a) })
    }
    const answered = new Set(friends.map((f) => f.friend))
    const offline = [...names].filter(([o]) => !answered.has(o)).map(([friend, name]) => ({ friend, name, device: null, online: false, versions: [] }))
    const held: BackupStatus['held'] = []
    for (const o of await heldOwners(this.opts.home)) {
      const vs = (await heldDir(this.opts.home, o).list()).reverse()
      if (vs.length === 0) continue
      held.push({ owner: o, ...(names.has(o) ? { name: names.get(o) } : {}), versions: vs, bytes: vs.reduce((n, v) => n + v.size, 0), quota: await quotaFor(this.opts.home, o) })
    }
    friends.sort((a, b) => a.name.localeCompare(b.name) || (a.device ?? '').localeCompare(b.device ?? ''))
    return { pointer, pushed, friends: [...friends, ...offline.sort((a, b) => a.name.localeCompare(b.name))], held }
  }
}

/** Why a fetched copy is refused (null: it is the version asked for, signed by the owner). */
export function checkCopy(data: Uint8Array, owner: Uint8Array, v: BackupVersion): string | null {
  if (sha256hex(data) !== v.sha256) return 'its bytes do not hash to the SHA-256 the pointer names (altered or another file)'
  try {
    const h = verifyBackup(data, owner)
    if (h.seq !== v.seq) return `it is seq ${h.seq}, not ${v.seq}`
  } catch (err) {
    if (err instanceof BackupError) return `${err.code}: ${err.message}`
    throw err
  }
  return null
}
