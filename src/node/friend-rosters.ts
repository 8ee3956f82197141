// Friends' rosters, followed (docs/identity.md, "Following friends'
// rosters"). A friend's owner revokes a device on its own roster; this device
// must refuse that device too. Each device hands its owner's signed roster to
// friends' devices it is linked with (share and backup channel links), in a
// `roster` notice on link and whenever the roster changes; the friend's
// device fetches it by SHA-256 over the same link and keeps it only if it
// verifies under that friend's owner key and is newer than the one held.
// Kept in <home>/friends/<owner hex>.roster, so revocations hold across
// restarts. The node answers `revoked(owner, device)` from them at the wire,
// the tracker, and when it drops open links.
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityError, verifyRoster, type Identity, type Roster } from '../identity/index.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../swarm/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const OWNER_FILE = /^([0-9a-f]{64})\.roster$/

export interface FriendRostersOptions {
  home: string
  identity: () => Identity
  swarm: () => Swarm
  onWarning?: (err: Error) => void
}

interface Events {
  /** A friend's newer roster was taken in (owner hex). */
  changed: [owner: string]
}

export class FriendRosters extends EventEmitter<Events> {
  private readonly held = new Map<string, { roster: Roster; revoked: Set<string> }>()
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
  readonly revoked = (owner: Uint8Array, device: Uint8Array): boolean => this.held.get(hex(owner))?.revoked.has(hex(device)) ?? false

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

  start(): void {
    const swarm = this.opts.swarm()
    swarm.on('friend', (link) => this.tell([link]))
    swarm.holders.on('link', (link) => link.session.peer.kind === 'friend' && this.tell([link]))
    const onNotice = (link: DeviceLink, n: ManifestNotice) => void this.onNotice(link, n).catch((e) => this.warn(e))
    swarm.friends.on('notice', onNotice)
    swarm.holders.on('notice', onNotice)
  }

  stop(): void {
    this.stopped = true
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
