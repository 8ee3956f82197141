// Friends' rosters, followed (docs/identity.md, "Following friends'
// rosters"). A friend's owner revokes a device on its own roster; this device
// must refuse that device too. Each device hands its owner's signed roster to
// friends' devices it is linked with (share and backup channel links), in a
// `roster` notice on link and whenever the roster changes; the friend's
// device fetches it by SHA-256 over the same link and keeps it only if it
// verifies under that friend's owner key and is newer than the one held.
// Kept in <home>/friends/<owner hex>.roster, so revocations hold across
// restarts. For friends' devices with no link, an admin device also puts a
// BEP 44 item per friend under the owner key, at a salt derived from the
// friendship secret (only that friend can find it): the newest revoked keys
// at the roster's seq; friends poll it, and take its revocations when its
// seq is newer than the roster they hold (a revocation is permanent, so
// revocations of several versions add up). The node answers `revoked(owner, device)` from them at the wire,
// the tracker, and when it drops open links.
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { friendDerived, friendSecrets, IdentityError, verifyRoster, type Identity, type Roster } from '../identity/index.ts'
import type { DhtNode } from '../manifest/index.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../swarm/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const OWNER_FILE = /^([0-9a-f]{64})\.roster$/
const REVOKED_FILE = /^([0-9a-f]{64})\.revoked$/
/** Revoked keys an item carries (the newest): 24 x 35 bytes bencoded stays under the 1000-byte limit. */
const ITEM_REVOKED = 24
export const FRIEND_ROSTER_POLL = 2 * 60_000 // ms between looks at friends' revocation items
/**
 * A command on backup channels: "which roster of my owner do you hold?",
 * answered to that owner's devices only, with the owner-signed roster kept
 * here. A device restoring from the phrase asks the friends it finds, so the
 * roster it restores is never older than one a friend still holds.
 */
export const OWNER_ROSTER_COMMAND = 'owner-roster'
export const FRIEND_ROSTER_REPUT = 30 * 60_000 // ms between puts of our revocation items: BEP 44 items expire after about two hours

/** The salt of the revocation item `owner` puts for one friend: only the two circles can compute it. */
export function revocationSalt(friendSecret: Uint8Array, owner: Uint8Array): Buffer {
  return friendDerived(friendSecret, 'roster-revocations/v1', [owner], 32)
}

/** The revoked keys of a revocation item's value; null when malformed. */
function decodeRevocations(v: unknown): Uint8Array[] | null {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || Array.isArray(v)) return null
  const d = v as Record<string, unknown>
  if (d.v !== 1 || !Array.isArray(d.r) || d.r.length > ITEM_REVOKED) return null
  return d.r.every((k) => k instanceof Uint8Array && k.length === 32) ? (d.r as Uint8Array[]) : null
}

export interface FriendRostersOptions {
  home: string
  identity: () => Identity
  swarm: () => Swarm
  dht?: DhtNode | null
  /** ms between looks at friends' revocation items (default FRIEND_ROSTER_POLL). */
  pollMs?: number
  /** ms between puts of our revocation items for friends (admin devices; default FRIEND_ROSTER_REPUT). */
  reputMs?: number
  onWarning?: (err: Error) => void
}

interface Events {
  /** A friend's newer roster was taken in (owner hex). */
  changed: [owner: string]
}

export class FriendRosters extends EventEmitter<Events> {
  private readonly held = new Map<string, { roster: Roster; revoked: Set<string> }>()
  /** Revocations from friends' DHT items newer than their roster held here: owner hex -> seq and keys (hex). */
  private readonly fromDht = new Map<string, { seq: number; revoked: Set<string> }>()
  private timer: NodeJS.Timeout | null = null
  private lastPut = 0
  private polling: Promise<void> | null = null
  /** Fetches running, by owner hex: one at a time per friend. */
  private readonly fetching = new Map<string, Promise<void>>()
  private stopped = false
  /** Our owner-signed roster as friends fetch it (refreshOwn reads it). */
  own: { sha256: string; data: Uint8Array; seq: number } | undefined

  constructor(private readonly opts: FriendRostersOptions) {
    super()
  }

  private get dir(): string {
    return join(this.opts.home, 'friends')
  }

  private warn(err: unknown): void {
    this.opts.onWarning?.(err as Error)
  }

  /** Reads the rosters kept here (each checked again under its owner's key). */
  async load(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    for (const name of names) {
      const r = REVOKED_FILE.exec(name)
      if (r) {
        try {
          const j = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as { seq: number; revoked: string[] }
          if (Number.isSafeInteger(j.seq) && Array.isArray(j.revoked) && j.revoked.every((k) => /^[0-9a-f]{64}$/.test(k))) {
            this.fromDht.set(r[1]!, { seq: j.seq, revoked: new Set(j.revoked) })
          }
        } catch {
          // unreadable: the next poll finds the item again
        }
        continue
      }
      const m = OWNER_FILE.exec(name)
      if (!m) continue
      try {
        this.keep(verifyRoster(await readFile(join(this.dir, name)), Buffer.from(m[1]!, 'hex')))
      } catch (err) {
        this.warn(new Error(`ignored the kept roster of friend ${m[1]!.slice(0, 12)}: ${(err as Error).message}`))
      }
    }
  }

  private keep(r: Roster): void {
    this.held.set(hex(r.owner), { roster: r, revoked: new Set(r.revoked.map(hex)) })
  }

  /** Whether a friend's owner revoked this device (on the newest roster of theirs held here). */
  readonly revoked = (owner: Uint8Array, device: Uint8Array): boolean => {
    const o = hex(owner)
    const d = hex(device)
    return (this.held.get(o)?.revoked.has(d) ?? false) || (this.fromDht.get(o)?.revoked.has(d) ?? false)
  }

  /** The devices (hex) on a friend's roster held here, less those its owner revoked; [] when none is held. */
  devicesOf(owner: string): string[] {
    const held = this.held.get(owner)
    if (!held) return []
    return held.roster.devices.map((c) => hex(c.device)).filter((d) => !held.revoked.has(d) && !this.fromDht.get(owner)?.revoked.has(d))
  }

  /** A friend's owner-signed roster as kept here, or null. */
  async signedOf(owner: string): Promise<Uint8Array | null> {
    if (!this.held.has(owner)) return null
    return readFile(join(this.dir, `${owner}.roster`)).catch(() => null)
  }

  /** The seq of a friend's roster held here (0: none). */
  seqOf(owner: string): number {
    return this.held.get(owner)?.roster.seq ?? 0
  }

  /**
   * Takes in a friend's signed roster: it must be of a friend on our roster,
   * verify under that owner's key and be newer than the one held. Returns
   * whether it was taken.
   */
  async offer(owner: string, signed: Uint8Array): Promise<boolean> {
    if (!this.opts.identity().roster.friends.some((f) => hex(f.owner) === owner)) return false
    const r = verifyRoster(signed, Buffer.from(owner, 'hex')) // throws ERR_BAD_ROSTER
    if (r.seq <= this.seqOf(owner)) return false
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const file = join(this.dir, `${owner}.roster`)
    await writeFile(`${file}.tmp`, signed, { mode: 0o600 })
    await rename(`${file}.tmp`, file)
    if (r.seq <= this.seqOf(owner)) return false // a newer one came in meanwhile
    this.keep(r)
    this.emit('changed', owner)
    return true
  }

  // ---- over the links --------------------------------------------------------

  private attached = false
  private started = false

  /**
   * Tells each friend's device that links our roster, takes theirs, answers
   * OWNER_ROSTER_COMMAND. The node calls it before its peer port opens, so a
   * device that links at once is told and answered; start() calls it too.
   * Idempotent.
   */
  attach(): void {
    if (this.attached || this.stopped) return
    this.attached = true
    const swarm = this.opts.swarm()
    swarm.on('friend', (link) => this.tell([link]))
    swarm.holders.on('link', (link) => link.session.peer.kind === 'friend' && this.tell([link]))
    const onNotice = (link: DeviceLink, n: ManifestNotice) => void this.onNotice(link, n).catch((e) => this.warn(e))
    swarm.friends.on('notice', onNotice)
    swarm.holders.on('notice', onNotice)
    swarm.holders.onCommand(OWNER_ROSTER_COMMAND, async (_body, link) => {
      const signed = await this.signedOf(hex(link.session.peer.certificate.owner))
      return signed ? { body: signed } : { refused: 'no roster of your owner is held here' }
    })
  }

  /** Attaches (above) and polls friends' DHT items. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    this.attach()
    if (this.opts.dht) {
      this.timer = setInterval(() => void this.poll().catch((e) => this.warn(e)), this.opts.pollMs ?? FRIEND_ROSTER_POLL)
      this.timer.unref()
      void this.poll().catch((e) => this.warn(e))
    }
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
  }

  // ---- over the DHT ----------------------------------------------------------

  /** Admin devices: puts our newest revocations for each friend (after a roster change, and every 30 minutes). */
  async publish(): Promise<void> {
    const id = this.opts.identity()
    const dht = this.opts.dht
    if (!dht || !id.owner || this.stopped) return
    const v = { v: 1, r: id.roster.revoked.slice(-ITEM_REVOKED).map((k) => Buffer.from(k)) }
    for (const secret of friendSecrets(id).values()) {
      await dht.putItem({ seed: id.owner.seed, salt: revocationSalt(secret, id.roster.owner), seq: id.roster.seq, v }).catch((e) => this.warn(e))
    }
    this.lastPut = Date.now()
  }

  /** Looks at each friend's revocation item; takes in revocations newer than the friend's roster held here. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const dht = this.opts.dht
        if (!dht || this.stopped) return
        if (Date.now() - this.lastPut >= (this.opts.reputMs ?? FRIEND_ROSTER_REPUT)) await this.publish()
        for (const [owner, secret] of friendSecrets(this.opts.identity())) {
          if (this.stopped) return
          const key = Buffer.from(owner, 'hex')
          const item = await dht.getItem({ publicKey: key, salt: revocationSalt(secret, key) }).catch(() => null)
          // Signed by the friend's owner key (checked by the DHT node), newer than what is held.
          if (!item || item.seq <= Math.max(this.seqOf(owner), this.fromDht.get(owner)?.seq ?? 0)) continue
          const keys = decodeRevocations(item.v)
          if (!keys) {
            this.warn(new Error(`the revocation item of friend ${owner.slice(0, 12)} is malformed (seq ${item.seq})`))
            continue
          }
          const revoked = new Set([...(this.fromDht.get(owner)?.revoked ?? []), ...keys.map(hex)])
          await mkdir(this.dir, { recursive: true, mode: 0o700 })
          const file = join(this.dir, `${owner}.revoked`)
          await writeFile(`${file}.tmp`, JSON.stringify({ seq: item.seq, revoked: [...revoked] }), { mode: 0o600 })
          await rename(`${file}.tmp`, file)
          this.fromDht.set(owner, { seq: item.seq, revoked })
          this.emit('changed', owner)
        }
      } finally {
        this.polling = null
      }
    })()
    return this.polling
  }

  /** Reads our signed roster as this home stores it (at start and after each roster change). */
  async refreshOwn(): Promise<void> {
    const data = await readFile(join(this.opts.home, 'identity', 'roster'))
    const r = verifyRoster(data, this.opts.identity().roster.owner)
    if (this.own && this.own.seq >= r.seq) return
    this.own = { sha256: createHash('sha256').update(data).digest('hex'), data, seq: r.seq }
  }

  /** Tells friends' devices (all linked now, or these) of our roster: after a change, and on each new link. */
  tell(links?: DeviceLink[]): void {
    const own = this.own
    if (this.stopped || !own) return
    const swarm = this.opts.swarm()
    const to = links ?? [...swarm.friends.online(), ...swarm.holders.online().filter((l) => l.session.peer.kind === 'friend')]
    const n: ManifestNotice = { kind: 'roster', signer: hex(this.opts.identity().roster.owner), infoHash: own.sha256.slice(0, 40), seq: own.seq, sha256: own.sha256 }
    for (const l of to) (swarm.holders.online().includes(l) ? swarm.holders : swarm.friends).notify(n, [l])
  }

  private async onNotice(link: DeviceLink, n: ManifestNotice): Promise<void> {
    const peer = link.session.peer
    // Only a friend's device speaks for its own owner's roster.
    if (n.kind !== 'roster' || !n.sha256 || peer.kind !== 'friend' || n.signer !== hex(peer.certificate.owner) || this.stopped) return
    if (n.seq <= this.seqOf(n.signer)) return
    const running = this.fetching.get(n.signer)
    if (running) return void (await running)
    const swarm = this.opts.swarm()
    const channel = swarm.holders.online().includes(link) ? swarm.holders : swarm.friends
    const fetch = (async () => {
      const got = await channel.fetchBlob(n.sha256!, [link], true)
      if (!got || createHash('sha256').update(got.data).digest('hex') !== n.sha256) {
        return this.warn(new Error(`${link.name} (a friend's device) sent a roster that does not match its notice`))
      }
      try {
        await this.offer(n.signer, got.data)
      } catch (err) {
        if (err instanceof IdentityError) return this.warn(new Error(`refused a roster from ${link.name}: ${err.message}`))
        throw err
      }
    })().finally(() => this.fetching.delete(n.signer))
    this.fetching.set(n.signer, fetch)
    await fetch
  }
}
