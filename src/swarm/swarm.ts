// One device's swarm: the peer port, the device channel, and the torrents of
// tracks it serves or fetches. Tracks are served on demand: an incoming
// connection for a known infohash opens that track's torrent then; nothing
// is verified or announced per track at start-up.
import { EventEmitter } from 'node:events'
import type { Server, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { createLinkServer, dialLink } from '../link/index.ts'
import { once } from 'node:events'
import { access, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeCertificate, friendDerived, type FriendRevoked, type Roster } from '../identity/index.ts'
import { logger, type Logger } from '../log/index.ts'
import { authenticate, type Admission, type PeerSession } from './protocol/session.ts'
import type { LocalCredentials } from './protocol/auth.ts'
import { DeviceChannel, deviceChannelInfoHash, LOOKUP_EXTENSION, type DeviceLink, type Holder, type LinkPath, type PushAsk, type PushedBlock } from './device-channel.ts'
import { Paths } from './paths.ts'
import { REFLECT_ALPN, RELAY_ALPN, serveReflection } from '../reach/index.ts'
import type { Duplex } from 'node:stream'
import { Torrent } from './torrent.ts'
import { CompleteFile, PartialFile, cachePaths } from './piece-file.ts'
import { encodeInfoDict, metaFromForeignInfoDict, metaFromInfoDict, type TorrentMeta } from './torrent-meta.ts'
import { BanList, type BanListOptions, type BanStats } from './ban-list.ts'
import { SwarmError } from './errors.ts'
import { TrackCache } from './track-cache.ts'
import { OfferTable, type Offer } from './offer-table.ts'
import { TorrentTable } from './torrent-table.ts'
import { byRtt, nearestOf } from './nearest.ts'
import type { VerifiedPeer } from './protocol/auth.ts'
import type { RtcConnection } from '../rtc/index.ts'
import { streamDuplex } from './stream-duplex.ts'

export interface SwarmOptions {
  credentials: LocalCredentials
  roster: () => Roster
  circleSecret: Uint8Array
  cacheDir: string
  /** Peer port; 0 lets the OS choose. */
  port?: number
  /** Address to listen on; all interfaces by default, so LAN devices reach it. */
  host?: string
  /** Manifest blobs this device holds, served to own devices over the device channel. */
  blob?: (id: string) => Promise<Uint8Array | undefined>
  /** What friends may reach (playlists shared with them); without it friends reach nothing. */
  sharing?: SwarmSharing
  /** Backup channels: whose backups this device serves (its owner's, friends' it holds), and to whom. */
  backups?: SwarmBackups
  /** Friends' devices their owners revoked (the friends' rosters this device follows); refused at the wire, dropped by enforceRoster. */
  friendRevoked?: FriendRevoked
  /** Our owner-signed roster, as friends' devices may fetch it (by SHA-256 hex) over friend and backup channel links. */
  signedRoster?: () => { sha256: string; data: Uint8Array } | undefined
  /** Byte budget of the cache of fetched tracks, for this run; default: the saved one (see TrackCache). */
  cacheBudget?: number
  /**
   * ms a download in flight may go without any peer before it stops, its
   * partial file kept for a resume (and evictable for room); default STALLED_AFTER.
   */
  stalledAfter?: number
  /** ms a device we dialled has to send its hello once the handshake is done (default HELLO_TIMEOUT). */
  helloTimeoutMs?: number
  /** ms between round-trip pings on own and friends' device links (default RTT_PING_INTERVAL). */
  rttPingMs?: number
  /** ms a link's TLS handshake may take, either way (default LINK_HANDSHAKE_TIMEOUT). */
  handshakeTimeoutMs?: number
  /**
   * ms after start during which a lookup nobody answered waits for own
   * devices still being linked (default STARTUP_LINK_WAIT): a track asked for
   * right after a restart is on a device not dialled yet, not missing.
   */
  startupLinkWaitMs?: number
  /** Bytes this device pushes for another's reader with its lookup answer (default PUSH_BYTES). */
  pushBytes?: number
  /** Relay links between own devices that cannot reach each other (docs/reach.md); default off. */
  relay?: boolean
  /** With `relay`: bytes a day relayed for each friend's devices (default 0: friends get no relay). */
  relayFriendBytes?: number
  /** ms a hole punch keeps trying (default PUNCH_TIMEOUT). */
  punchTimeoutMs?: number
  /** Try hole punches before relays (default true; tests of relays turn it off). */
  punch?: boolean
  /** Sees every chunk this device relays (tests: a relay must see only ciphertext). */
  relayTap?: (chunk: Buffer) => void
  /** The ban list's limits (docs/swarm.md, "Bans"); tests pass short times, and `exemptLoopback: false` to play a NAT's shared address on 127.0.0.1. */
  bans?: BanListOptions
  /** ms a connection from a throttled address has to finish TLS and prove itself (default THROTTLED_DEADLINE). */
  throttledDeadlineMs?: number
}

/** ms a connection from a throttled address gets for TLS and dj_auth together: a device answers in a few round trips. */
export const THROTTLED_DEADLINE = 2_000

export const STARTUP_LINK_WAIT = 10_000 // ms
/**
 * Bytes holders push for a reader with their lookup answer (docs/swarm.md,
 * "Pushed first blocks"): about 1.5 s of CD audio, the time the track's own
 * wires take to come up at 100 ms RTT; at least the piece under the reader.
 */
export const PUSH_BYTES = 256 * 1024
/** Pushed blocks held while the torrent is made (16 KiB each): a holder cannot make this side hold more. */
const MAX_EARLY_PUSHED = 64

/**
 * The sharing rules the swarm enforces at the wire. A friend's device reaches
 * this device only on a share channel made for its owner, and a track's
 * torrent only when that track is in a playlist shared with its owner.
 */
export interface SwarmSharing {
  /** The friend (owner key hex) a share channel infohash (hex) is for, if it is one of ours. */
  channelFor(infoHash: string): string | undefined
  /** Whether the friend (owner key hex) may fetch this track torrent (infohash hex). */
  allows(friendOwner: string, infoHash: string): boolean
  /** Info dict of a shared track held here, for that friend; null when not shared or not held. */
  answer(friendOwner: string, sha256: string): Promise<Uint8Array | null>
  /** A blob (share list) for that friend, by SHA-256 hex. */
  blob(friendOwner: string, id: string): Promise<Uint8Array | undefined>
}

/**
 * Backup channels (one infohash per owner and friend, see backupChannelInfoHash): a
 * device serving an owner's backups admits there whom `admit` allows, and
 * answers blob requests and "do you hold" queries (by SHA-256) from them.
 */
export interface SwarmBackups {
  /** Who may use this backup channel (infohash hex); undefined when it is not served here. */
  admit(infoHash: string): ((p: VerifiedPeer) => boolean) | undefined
  /** Whether this device holds the backup with this SHA-256 for the channel's owner. */
  holds(infoHash: string, sha256: string): Promise<boolean>
  /** The bytes of that backup. */
  blob(infoHash: string, sha256: string): Promise<Uint8Array | undefined>
}

/**
 * The channel where `backupOwner`'s backups pass between that owner and one
 * friend: derived from their friendship secret (identity/friend-secret.ts),
 * so only the two circles can compute it (a restoring device computes it
 * from the phrase and the friend list sealed in the backup pointer).
 */
export function backupChannelInfoHash(friendSecret: Uint8Array, backupOwner: Uint8Array): Buffer {
  return friendDerived(friendSecret, 'backup-channel/v2', [backupOwner], 20)
}

/** The largest blob a backup channel carries: the backup format's cap. */
export const MAX_BACKUP_BLOB_BYTES = 88 + 256 * 1024 * 1024 + 1024 + 64

export { SwarmError } from './errors.ts'

interface Events {
  warning: [err: Error]
  device: [link: DeviceLink]
  friend: [link: DeviceLink, owner: string]
  'device-gone': [link: DeviceLink]
  refused: [host: string, reason: string]
  /** A track fetched from other own devices is whole and verified in the cache (sha256). */
  cached: [sha256: string]
  /** A cached track was evicted (its files deleted): this device no longer holds it (sha256). */
  evicted: [sha256: string]
}

const EXTENSIONS = [LOOKUP_EXTENSION]
/** ms the offering side of a WebRTC connection has to open stream 0 and prove itself before the answering side closes it. */
export const RTC_PROVE_WITHIN = 10_000
/** The `host` of sessions over WebRTC streams (their `port` is the stream id): no address, nothing for the ban list to strike. */
export const RTC_HOST = 'webrtc'
const ownerOf = (p: VerifiedPeer) => Buffer.from(p.certificate.owner).toString('hex')
/** The share channel where `sharingOwner` shares with a friend: derived from their friendship secret, so only the two circles can compute it. */
export function shareChannelInfoHash(friendSecret: Uint8Array, sharingOwner: Uint8Array): Buffer {
  return friendDerived(friendSecret, 'share-channel/v2', [sharingOwner], 20)
}
/** `p`, or the signal's reason once it aborts (`p` goes on; its outcome is ignored). */
function orAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const ALL_SOURCES_WAIT = 1_000 // ms a whole-track fetch waits for slow holders before starting (a dead one fails faster)
/** Files up to this size start a whole fetch with every holder (ALL_SOURCES_WAIT); larger ones with the first ready. */
const TOGETHER_MAX_BYTES = 32 * 1024 * 1024
/** A download with no peer for this long is stalled: its reservation may be evicted for room (its holders went away). */
const STALLED_AFTER = 60_000 // ms

export class Swarm extends EventEmitter<Events> {
  readonly devices: DeviceChannel
  /** Links with friends' devices over share channels (both directions); only shared things pass. */
  readonly friends: DeviceChannel
  /** Links on backup channels (either side); only backups pass. */
  readonly holders: DeviceChannel
  readonly channel: Buffer
  private server: Server | null = null
  // What this device serves (offers: library files and verified cached
  // copies) and has opening or open (torrents), each table keeping its own
  // invariants (offer-table.ts, torrent-table.ts). Besides them:
  // - fetching: downloads of tracks not held yet, by sha256; removed when
  //   the download is done, fails or is dropped, so a later open starts over;
  // - infoWrites: a cached track's .info being written; drop() waits for it
  //   before the files go.
  private readonly offers = new OfferTable()
  private readonly torrents = new TorrentTable()
  /** Tracks of other own devices being fetched, by SHA-256 (gone once verified: then offers hold them). */
  private readonly fetching = new Map<string, Promise<Torrent>>()
  /** .info files being written beside tracks just fetched, by SHA-256: an eviction waits for them. */
  private readonly infoWrites = new Map<string, Promise<void>>()
  /** Fetched tracks: budget, LRU eviction, pins. Open once start() resolved. */
  readonly cache: TrackCache
  private readonly bans: BanList
  /** Connections from throttled addresses still proving themselves, by host:port: their deadline. */
  private readonly throttledDeadlines = new Map<string, NodeJS.Timeout>()

  /** Punches and relay circuits: reaching own devices that cannot be dialled. */
  readonly paths: Paths
  /** Devices a punch or relay circuit is expected from (adopt), and how it runs. */
  private readonly expected = new Map<string, { path: LinkPath; via: string }>()
  private readonly sockets = new Set<Duplex>()
  /** WebRTC connections open (addRtc), and the one each webrtc device link runs on. */
  private readonly rtc = new Set<RtcConnection>()
  private readonly rtcOf = new WeakMap<DeviceLink, RtcConnection>()
  private closed = false
  private parkTimer: NodeJS.Timeout | undefined
  private parking = false
  /** This device's key (hex): a dial that reaches it is not a link. */
  private readonly self: string
  /** ms a download may go without a peer before it is stalled (evictable) and stops. */
  private readonly stalledAfter: number
  /** When start() opened the peer port (performance.now()), for the start-up link wait. */
  private startedAt = 0
  port = 0

  /** DEBUG=djcloud:swarm: refused and dialled peers, fetches opened; lines start with this device's key. */
  private readonly log: Logger

  constructor(private readonly opts: SwarmOptions) {
    super()
    this.channel = deviceChannelInfoHash(opts.circleSecret)
    this.self = ownKey(opts.credentials)
    this.stalledAfter = opts.stalledAfter ?? STALLED_AFTER
    this.bans = new BanList(opts.bans)
    this.log = logger('swarm').instance(this.self)
    const helloTimeoutMs = opts.helloTimeoutMs
    this.devices = new DeviceChannel({
      peerPort: () => this.port,
      answer: (sha) => this.answer(sha),
      push: (sha, _link, ask) => this.pushFor(sha, ask),
      blob: opts.blob,
      helloTimeoutMs,
      rttPingMs: opts.rttPingMs,
      hello: (link) => this.paths.hello(link),
    })
    this.paths = new Paths({
      self: this.self,
      credentials: opts.credentials,
      roster: opts.roster,
      friendRevoked: opts.friendRevoked,
      devices: this.devices,
      adopt: (sock, from, path, via) => this.adopt(sock, from, path, via),
      relay: opts.relay,
      relayFriendBytes: opts.relayFriendBytes,
      punchTimeoutMs: opts.punchTimeoutMs,
      punch: opts.punch,
      tap: opts.relayTap,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      log: this.log,
    })
    const friendOf = (link: DeviceLink) => Buffer.from(link.session.peer.certificate.owner).toString('hex')
    const roster = (id: string) => {
      const r = opts.signedRoster?.()
      return r && r.sha256 === id ? r.data : undefined
    }
    this.friends = new DeviceChannel({
      peerPort: () => this.port,
      // Friends' devices learn that this one relays for them (within its owner's daily quota), so they may reach our other devices through it.
      hello: (): Record<string, number> => (opts.relay && (opts.relayFriendBytes ?? 0) > 0 ? { relay: 1 } : {}),
      answer: async (sha, link) => (opts.sharing ? opts.sharing.answer(friendOf(link), sha) : null),
      blob: async (id, link) => roster(id) ?? (opts.sharing ? opts.sharing.blob(friendOf(link), id) : undefined),
      helloTimeoutMs,
      rttPingMs: opts.rttPingMs,
    })
    const channelOf = (link: DeviceLink) => link.session.infoHash.toString('hex')
    this.holders = new DeviceChannel({
      peerPort: () => this.port,
      answer: async (sha, link) => ((await opts.backups?.holds(channelOf(link), sha)) ? new Uint8Array([1]) : null),
      blob: async (id, link) => (id.length === 64 ? (link.session.peer.kind === 'friend' ? roster(id) : undefined) ?? opts.backups?.blob(channelOf(link), id) : undefined),
      maxBlobBytes: MAX_BACKUP_BLOB_BYTES,
      helloTimeoutMs,
    })
    this.friends.on('link', (l) => this.emit('friend', l, friendOf(l)))
    this.devices.on('link', (l) => this.emit('device', l))
    this.devices.on('link-gone', (l) => this.emit('device-gone', l))
    this.cache = new TrackCache({
      dir: opts.cacheDir,
      budget: opts.cacheBudget,
      beforeEvict: (sha) => this.drop(sha),
      stalled: (sha) => this.stalled(sha),
    })
    this.cache.on('warning', (err) => this.emit('warning', err))
    this.cache.on('evicted', (sha) => this.emit('evicted', sha))
  }

  async start(): Promise<number> {
    await this.cache.open()
    await this.indexCache()
    this.parkTimer = setInterval(() => void this.parkStalled().catch((err: Error) => this.emit('warning', err)), Math.max(10, this.stalledAfter / 4))
    this.parkTimer.unref()
    // Every peer connection is a TLS 1.3 link (src/link/); dj_auth runs inside it.
    const server = await createLinkServer((sock) => this.onIncoming(sock), {
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      onRefused: (host, reason) => this.refused(host, reason),
      protocols: { [REFLECT_ALPN]: serveReflection, [RELAY_ALPN]: (sock) => this.paths.relayServer.handle(sock) },
      admit: (sock) => this.onConnection(sock),
    })
    server.on('error', (err) => this.emit('warning', err))
    server.listen(this.opts.port ?? 0, this.opts.host ?? '0.0.0.0')
    await once(server, 'listening')
    this.server = server
    this.port = (server.address() as { port: number }).port
    this.startedAt = performance.now()
    return this.port
  }

  /** Makes a track servable. Nothing is opened until a peer asks for it. */
  offer(meta: TorrentMeta, path: string): void {
    this.offerLazy(meta.infoHash.toString('hex'), meta.sha256, async () => ({ meta, path }))
  }

  /** Like offer(), with the torrent's details loaded only on first use (library tracks). */
  offerLazy(infoHash: string, sha256: string, load: Offer['load']): void {
    this.offers.set(infoHash, { sha256, load })
  }

  private offerCached(meta: TorrentMeta, path: string): void {
    this.offers.set(meta.infoHash.toString('hex'), { sha256: meta.sha256, load: async () => ({ meta, path }), cached: true })
  }

  /**
   * Stops offering a library track whose file is gone (a rescan marked it
   * missing): it is no longer held, lookups no longer name this device, and
   * a torrent serving it closes. Without this, a pull here took the track
   * for present and failed its check until the node restarted.
   */
  async withdraw(sha256: string): Promise<void> {
    if (!this.offers.dropLibrary(sha256)) return
    for (const t of this.torrents.openOf(sha256)) {
      if (!t.complete) continue // a download of it (into the cache) goes on
      this.torrents.remove(t)
      await t.close()
    }
  }

  /**
   * Own devices holding a track. Right after start, when none of the linked
   * devices holds it, each device that links within the start-up window is
   * asked too: discovery is still dialling, and a player's first request after
   * a restart must not be a 404 (the fault soak and bench/wan both met it).
   * Devices that link while an earlier answer is awaited are asked next, not
   * missed (bench/wan's cold samples: the hub, holding nothing, linked first).
   */
  private async lookupHolders(sha256: string, push?: (links: DeviceLink[]) => PushAsk): Promise<Holder[]> {
    const asked = new Set(this.devices.online())
    let holders = await this.devices.lookup(sha256, undefined, [...asked], push?.([...asked]))
    const until = this.startedAt + (this.opts.startupLinkWaitMs ?? STARTUP_LINK_WAIT)
    while (holders.length === 0 && !this.closed && performance.now() < until) {
      let fresh = this.devices.online().filter((l) => !asked.has(l))
      if (fresh.length === 0) {
        const link = await new Promise<DeviceLink | null>((resolve) => {
          const timer = setTimeout(() => finish(null), until - performance.now())
          timer.unref()
          const finish = (l: DeviceLink | null) => {
            clearTimeout(timer)
            this.devices.off('link', finish)
            resolve(l)
          }
          this.devices.on('link', finish)
        })
        if (!link) break
        fresh = [link]
      }
      for (const l of fresh) asked.add(l)
      holders = await this.devices.lookup(sha256, undefined, fresh, push?.(fresh))
    }
    return holders
  }

  /**
   * A reader's lookup (it starts at byte `from`): the holders push their
   * share of the blocks there, held until the track's torrent exists (they
   * come right after the answers) and then given to it; the lookup settles on
   * the first holder, and holders that answer later join the torrent as they
   * do (one slow answer, a lost packet at 100 ms, must not hold the start).
   * The devices `holders` names share the push among the links asked (all of
   * them when it names none linked).
   */
  private readerAsk(from: number, holders?: readonly string[]): { ask: (links: DeviceLink[]) => PushAsk; deliver: (t: Torrent) => void } {
    let torrent: Torrent | undefined
    const early: Array<[string, PushedBlock]> = []
    const late: Holder[] = []
    const onBlock = (link: DeviceLink, b: PushedBlock) => {
      if (torrent) torrent.gift(link.name, b.index, b.offset, b.data)
      else if (early.length < MAX_EARLY_PUSHED) early.push([link.name, b])
    }
    const onLate = (h: Holder) => (torrent ? this.joinLate(torrent, h) : late.push(h))
    return {
      ask: (links) => {
        const named = holders ? links.filter((l) => holders.includes(l.device)) : []
        // Nearest first: a holder clearly farther than the nearest pushes nothing (its
        // share would come a long round trip later); it still answers and joins as a wire.
        return { from, pushers: nearestOf(named.length > 0 ? named : links, (l) => l.rttMs), onBlock, onLate }
      },
      deliver: (t) => {
        torrent = t
        for (const [name, b] of early.splice(0)) t.gift(name, b.index, b.offset, b.data)
        for (const h of late.splice(0)) this.joinLate(t, h)
      },
    }
  }

  /** A holder that answered a reader's lookup after it settled: a wire of the torrent too, if its info dict is the torrent's. */
  private joinLate(torrent: Torrent, h: Holder): void {
    if (torrent.destroyed || (h.link.peerPort === undefined && !this.rtcOf.has(h.link)) || this.bans.identityBanned(h.link.device)) return
    try {
      if (!metaFromInfoDict(h.info, torrent.meta.sha256, this.opts.circleSecret).infoHash.equals(torrent.meta.infoHash)) return
    } catch (err) {
      return void this.emit('warning', new SwarmError('ERR_BAD_INFO', `${h.link.name} sent a bad info dict: ${(err as Error).message}`))
    }
    this.log('fetch %s: %s answered late, joins', torrent.meta.sha256.slice(0, 12), h.link.name)
    this.dialHolder(h.link, torrent.meta.infoHash)?.then(
      (s) => torrent.addPeer(s, h.link.rttMs),
      (err: Error) => this.emit('warning', err),
    )
  }

  /**
   * Dials a holder for a track's torrent, unless a wire to that device for
   * it is up or being dialled (null): a second reader of a track still
   * dialling its holders (the player's next range, right after pushed first
   * bytes) must not open a second wire to each.
   */
  private dialHolder(link: DeviceLink, infoHash: Buffer, allow?: (p: VerifiedPeer) => boolean): Promise<PeerSession> | null {
    const rtc = this.rtcOf.get(link)
    if (link.peerPort === undefined && !rtc) return null
    const ih = infoHash.toString('hex')
    const devices = this.wired.get(ih) ?? new Set<string>()
    if (devices.has(link.device)) return null
    devices.add(link.device)
    this.wired.set(ih, devices)
    const gone = () => {
      devices.delete(link.device)
      if (devices.size === 0 && this.wired.get(ih) === devices) this.wired.delete(ih)
    }
    // Over WebRTC a track's wire is another stream of the link's data channel, bound to that stream.
    const dial = rtc
      ? this.overRtc(rtc, infoHash, allow)
      : link.path === 'direct' || !link.via
        ? this.dial(link.host, link.peerPort!, infoHash, allow)
        : this.over(this.paths.open(link.device, link.path, link.via), infoHash, allow)
    dial.then((s) => s.wire.once('close', gone), gone)
    return dial
  }

  /** Own devices with a wire up or being dialled, per infohash (dialHolder). */
  private readonly wired = new Map<string, Set<string>>()

  /** Torrents opened so far (served or fetched); offers alone open none. */
  get openTorrents(): number {
    return this.torrents.size
  }

  /** Whether this device holds the track (library or verified cache). */
  holds(sha256: string): boolean {
    return this.offers.holds(sha256)
  }

  // ---- connections -------------------------------------------------------

  private track(sock: Duplex): void {
    this.sockets.add(sock)
    sock.on('close', () => this.sockets.delete(sock))
    sock.on('error', () => {})
  }

  /**
   * A TCP connection, before its TLS handshake. A throttled address (one
   * whose connections failed without proving who they were) gets a few
   * handshakes per window, each with a short deadline; beyond those its
   * connections are closed before any TLS byte (false: the link server
   * closes it). The handshakes it does get still let a device behind the
   * same NAT prove itself.
   */
  private onConnection(sock: Socket): boolean {
    const host = sock.remoteAddress ?? ''
    if (this.closed) return false
    if (!this.bans.admit(host)) {
      this.log('refused %s: throttled, no handshake left in this window', host)
      return false
    }
    this.track(sock)
    if (!this.bans.throttled(host)) return true
    const key = `${host}:${sock.remotePort}`
    const timer = setTimeout(() => {
      this.throttledDeadlines.delete(key)
      this.log('refused %s: throttled, did not prove itself in %d ms', host, this.opts.throttledDeadlineMs ?? THROTTLED_DEADLINE)
      sock.destroy()
    }, this.opts.throttledDeadlineMs ?? THROTTLED_DEADLINE)
    timer.unref()
    this.throttledDeadlines.set(key, timer)
    sock.once('close', () => this.proved(key))
    return true
  }

  /** A throttled address's connection proved itself (or closed): its deadline is off. */
  private proved(key: string): void {
    clearTimeout(this.throttledDeadlines.get(key))
    this.throttledDeadlines.delete(key)
  }

  /** The ban list's counters: addresses throttled, keys banned, handshakes let through or closed at once. */
  get banStats(): BanStats {
    return this.bans.stats
  }

  /**
   * A peer refused before or during its proof; `device` when it proved its
   * key on this link. By what failed: a revoked device that proved its key
   * (its owner signed it: it cannot mint another) strikes that key, not the
   * address it shares with others behind a NAT. A failure that proved
   * nothing strikes the address, and so does a key of an owner nobody here
   * knows: anyone can mint those, so only the address bounds what they cost
   * (and a friend's device, dialling before its owner is added here, must
   * not find its key banned once it is).
   */
  private refused(host: string, reason: string, device?: Uint8Array): void {
    // A dropped connection is not a failed proof; neither is a friend's
    // device asking for what is no longer shared with it (`not-allowed`:
    // refused every time by the sharing rules anyway), nor a banned key.
    if (!reason.startsWith('connection closed')) {
      // What comes through a relay circuit comes from the relay's address: it is not the relay's failure.
      if (!device || reason === 'unknown-owner') {
        if (!this.devices.online().some((l) => l.relays && l.host === host)) this.bans.failure(host, reason)
      }
      else if (reason === 'revoked') this.bans.identityFailure(hex(device), reason)
    }
    this.log('refused %s: %s', host, reason)
    this.emit('refused', host, reason)
  }

  private onIncoming(sock: TLSSocket): void {
    const host = sock.remoteAddress ?? ''
    const key = `${host}:${sock.remotePort}`
    this.track(sock)
    if (this.closed) return void sock.destroy()
    authenticate(sock, {
      credentials: this.opts.credentials,
      roster: this.opts.roster,
      friendRevoked: this.opts.friendRevoked,
      extensions: EXTENSIONS,
      accept: (ih) => this.admission(ih),
      banned: (p) => this.bans.identityBanned(hex(p.certificate.device)),
      ...(this.throttledDeadlines.has(key) ? { deadlineMs: this.opts.throttledDeadlineMs ?? THROTTLED_DEADLINE } : {}),
    }).then(
      (s) => (this.proved(key), this.onSession(s)),
      (err: Error & { reason?: string; device?: Uint8Array }) => this.refused(host, err.reason ?? err.message, err.device),
    )
  }

  /** Who may use an infohash asked for by an incoming peer; null when it is not served here. */
  private admission(ih: Buffer): Admission | null {
    const hex = ih.toString('hex')
    if (ih.equals(this.channel)) return {}
    const sharing = this.opts.sharing
    const friend = sharing?.channelFor(hex)
    // Share and backup channels: secret names, addresses found on the DHT, so the dialler may ask this side to prove first.
    if (friend) return { allow: (p) => p.kind === 'friend' && ownerOf(p) === friend, answerFirst: true }
    const backup = this.opts.backups?.admit(hex)
    if (backup) return { allow: backup, answerFirst: true }
    if (!this.offers.has(hex) && !this.torrents.has(hex)) return null
    return { allow: (p) => p.kind === 'own' || (p.kind === 'friend' && !!sharing?.allows(ownerOf(p), hex)) }
  }

  private onSession(s: PeerSession): void {
    if (this.closed) return void s.wire.destroy()
    if (s.infoHash.equals(this.channel)) {
      const device = Buffer.from(s.peer.certificate.device).toString('hex')
      const e = this.expected.get(device)
      this.expected.delete(device)
      this.devices.add(s, e)
      return
    }
    if (s.peer.kind === 'friend' && this.opts.sharing?.channelFor(s.infoHash.toString('hex'))) {
      this.friends.add(s)
      return
    }
    if (this.opts.backups?.admit(s.infoHash.toString('hex'))) {
      this.holders.add(s)
      return
    }
    this.torrentFor(s.infoHash.toString('hex')).then(
      (t) => {
        this.cache.touch(t.meta.sha256) // served to a peer: recently used
        t.addPeer(s)
      },
      (err: Error) => {
        this.emit('warning', err)
        s.wire.destroy()
      },
    )
  }

  /**
   * `proveSecond`: the address came from a DHT channel (anyone may announce
   * there), so the device there proves itself first and gets our certificate
   * only if it is whom `allow` expects.
   */
  private dial(host: string, port: number, infoHash: Buffer, allow?: (p: VerifiedPeer) => boolean, trustAnyOwner = false, proveSecond = false): Promise<PeerSession> {
    return this.over(dialLink(host, port, { handshakeTimeoutMs: this.opts.handshakeTimeoutMs }), infoHash, allow, trustAnyOwner, proveSecond, { host, port })
  }

  /** Authenticates a link this side opened (dialled, punched or through a relay) for `infoHash`. */
  private async over(link: Promise<Duplex>, infoHash: Buffer, allow?: (p: VerifiedPeer) => boolean, trustAnyOwner = false, proveSecond = false, remote?: { host: string; port: number }, binding?: () => Uint8Array): Promise<PeerSession> {
    const sock = await link
    if (this.closed) {
      sock.destroy()
      throw new SwarmError('ERR_NOT_RUNNING', 'the swarm is closed')
    }
    this.track(sock)
    return authenticate(sock, {
      credentials: this.opts.credentials, roster: this.opts.roster, friendRevoked: this.opts.friendRevoked, extensions: EXTENSIONS, infoHash, remote, allow, trustAnyOwner, proveSecond,
      ...(binding ? { binding } : {}),
    })
  }

  /** The WebRTC connection a `webrtc` device link runs on (its data channel, its streams), else undefined. */
  rtcConnectionOf(link: DeviceLink): RtcConnection | undefined {
    return this.rtcOf.get(link)
  }

  /** A new stream of a WebRTC link, authenticated for `infoHash` with that stream's binding. */
  private overRtc(conn: RtcConnection, infoHash: Buffer, allow?: (p: VerifiedPeer) => boolean): Promise<PeerSession> {
    let stream
    try {
      stream = conn.mux.open()
    } catch (err) {
      return Promise.reject(err as Error)
    }
    const id = stream.id
    return this.over(Promise.resolve(streamDuplex(stream)), infoHash, allow, false, false, { host: RTC_HOST, port: id }, () => conn.binding(id))
  }

  /**
   * A WebRTC connection to another device (src/rtc/, docs/rtc.md), open but
   * not authenticated. Every stream the other side opens is taken like an
   * incoming link: dj_auth, bound to that stream, decides who it is and what
   * it may reach; the device channel runs on stream 0, which the offering
   * side opens. Resolves with the device link once it is up (the offering
   * side: the other's hello came; the answering side: the offerer proved
   * itself on stream 0, within `proveWithinMs`); rejects, closing the
   * connection, when that fails.
   */
  addRtc(conn: RtcConnection, opts: { device?: string; proveWithinMs?: number } = {}): Promise<DeviceLink> {
    if (this.closed) {
      conn.close()
      return Promise.reject(new SwarmError('ERR_NOT_RUNNING', 'the swarm is closed'))
    }
    const t0 = performance.now()
    this.rtc.add(conn)
    conn.once('close', () => this.rtc.delete(conn))
    /** The device link on stream 0: the connection lives as long as it does. */
    const linked = (s: PeerSession): DeviceLink => {
      const link = this.devices.add(s, { path: 'webrtc' })
      this.rtcOf.set(link, conn)
      link.setupMs = conn.setupMs
      s.wire.once('close', () => conn.close())
      return link
    }
    let answered: ((l: DeviceLink) => void) | undefined
    let refused: ((err: Error) => void) | undefined
    conn.mux.on('stream', (stream) => {
      const sock = streamDuplex(stream)
      this.track(sock)
      authenticate(sock, {
        credentials: this.opts.credentials,
        roster: this.opts.roster,
        friendRevoked: this.opts.friendRevoked,
        extensions: EXTENSIONS,
        remote: { host: RTC_HOST, port: stream.id },
        binding: () => conn.binding(stream.id),
        // The device channel only on stream 0, opened by the offering side: one device link per connection.
        accept: (ih) => (ih.equals(this.channel) !== (stream.id === 0 && conn.role === 'answerer') ? null : this.admission(ih)),
        banned: (p) => this.bans.identityBanned(hex(p.certificate.device)),
      }).then(
        (s) => {
          if (this.closed) return void s.wire.destroy()
          if (stream.id === 0) return answered?.(linked(s))
          this.onSession(s)
        },
        (err: Error & { reason?: string; device?: Uint8Array }) => {
          const reason = err.reason ?? err.message
          // No address to strike: a refusal on stream 0 ends the connection; a revoked key that proved itself is struck.
          if (err.device && reason === 'revoked') this.bans.identityFailure(hex(err.device), reason)
          this.log('refused webrtc stream %d: %s', stream.id, reason)
          this.emit('refused', RTC_HOST, reason)
          if (stream.id === 0) {
            refused?.(err) // first: closing settles the answering side's wait with "closed" otherwise, and the reason is lost
            conn.close()
          }
        },
      )
    })
    if (conn.role === 'answerer') {
      return new Promise<DeviceLink>((resolve, reject) => {
        // The offering side opens stream 0 and proves itself at once; a connection that never does is closed.
        const timer = setTimeout(() => conn.close(), opts.proveWithinMs ?? RTC_PROVE_WITHIN)
        timer.unref()
        answered = (l) => (clearTimeout(timer), resolve(l))
        refused = (err) => (clearTimeout(timer), reject(err))
        conn.once('close', () => (clearTimeout(timer), reject(new SwarmError('ERR_UNREACHABLE', 'the WebRTC connection closed before the device proved itself'))))
      })
    }
    const allow = (p: VerifiedPeer) => p.kind === 'own' && (!opts.device || hex(p.certificate.device) === opts.device)
    return this.overRtc(conn, this.channel, allow).then(
      async (s) => {
        if (hex(s.peer.certificate.device) === this.self) {
          s.wire.destroy()
          throw new SwarmError('ERR_SELF', 'the WebRTC offer reached this device')
        }
        const link = await this.timedReady(linked(s), t0)
        link.setupMs = conn.setupMs + link.setupMs! // the data channel's set-up, then dj_auth and the hello
        return link
      },
      (err: Error) => {
        conn.close()
        throw err
      },
    )
  }

  /**
   * A socket that reached this device by a punch or a relay circuit: the link
   * server takes it as if it had accepted it (TLS, then dj_auth decide), and
   * a device link from `from` that comes over it runs on that path.
   */
  private adopt(sock: Duplex, from: string, path: LinkPath, via: string): void {
    if (this.closed || !this.server) return void sock.destroy()
    this.expected.set(from, { path, via })
    this.server.emit('connection', sock)
  }

  /**
   * Links own device `device` that cannot be dialled: a hole punch brokered
   * by a linked device, else a relay circuit (Paths.connect). Rejects with
   * ERR_UNREACHABLE and one line saying what each way found.
   */
  async reachDevice(device: string, opts: { relay?: boolean } = {}): Promise<DeviceLink> {
    const t0 = performance.now()
    const { socket, path, via } = await this.paths.connect(device, opts)
    const s = await this.over(Promise.resolve(socket), this.channel, (p) => p.kind === 'own' && Buffer.from(p.certificate.device).toString('hex') === device)
    return this.timedReady(this.devices.add(s, { path, via }), t0)
  }

  /**
   * Joins a backup channel at a device found on the DHT: the device there
   * proves itself first, and `allow` says who may answer; `trustAnyOwner` lets a device of an owner our roster does not
   * know answer (a restoring device knows no friends yet: what it fetches is
   * checked by the owner signature).
   */
  async connectHolder(host: string, port: number, channel: Buffer, allow: (p: VerifiedPeer) => boolean, trustAnyOwner = false): Promise<DeviceLink> {
    const existing = this.holders.online().find((l) => l.host === host && l.peerPort === port && l.session.infoHash.equals(channel))
    if (existing) return existing
    const s = await this.dial(host, port, channel, allow, trustAnyOwner, true)
    const link = this.holders.add(s)
    return this.holders.ready(link)
  }

  /** Joins a friend's share channel (found on the DHT): only a device of that friend may answer, and it proves itself first. */
  async connectFriend(host: string, port: number, channel: Buffer, friendOwner: string): Promise<DeviceLink> {
    const s = await this.dial(host, port, channel, (p) => p.kind === 'friend' && ownerOf(p) === friendOwner, false, true)
    const link = this.friends.add(s)
    return this.friends.ready(link)
  }

  /**
   * Joins a friend's share channel at one of that friend's devices no dial
   * reaches, through a circuit at `relay`: a device of that friend linked on
   * a share channel whose hello says it relays for friends (its owner opted
   * in, docs/reach.md "Relays"). The device proves itself first, as on any
   * share channel.
   */
  async connectFriendVia(relay: DeviceLink, device: string, channel: Buffer, friendOwner: string): Promise<DeviceLink> {
    const t0 = performance.now()
    const s = await this.over(this.paths.relayed(device, relay), channel, (p) => p.kind === 'friend' && ownerOf(p) === friendOwner && Buffer.from(p.certificate.device).toString('hex') === device, false, true)
    const link = this.friends.add(s, { path: 'relayed', via: relay.device })
    await this.friends.ready(link)
    link.setupMs = performance.now() - t0
    return link
  }

  /** Joins another own device's channel (addresses come from trackers, pairing or config). */
  async connectDevice(host: string, port: number): Promise<DeviceLink> {
    const t0 = performance.now()
    const s = await this.dial(host, port, this.channel)
    // A tracker or the DHT lists this device too: told apart by its key, and closed before any hello.
    if (Buffer.from(s.peer.certificate.device).toString('hex') === this.self) {
      s.wire.destroy()
      throw new SwarmError('ERR_SELF', `${host}:${port} is this device`)
    }
    return this.timedReady(this.devices.add(s), t0)
  }

  /** Waits for a link this side opened to come online, and notes how long it took from `t0`. */
  private async timedReady(link: DeviceLink, t0: number): Promise<DeviceLink> {
    await this.devices.ready(link)
    link.setupMs = performance.now() - t0
    return link
  }

  /**
   * Drops every authenticated wire whose device the current roster revokes
   * (call after the roster changed): revocation takes effect on open
   * connections too, not only on new ones.
   */
  async enforceRoster(): Promise<number> {
    const roster = this.opts.roster()
    const revoked = new Set(roster.revoked.map((k) => Buffer.from(k).toString('hex')))
    const isRevoked = (device: Uint8Array) => revoked.has(Buffer.from(device).toString('hex'))
    // A friend's device its owner revoked (that friend's roster, followed here) goes like a revoked own device.
    const friendRevoked = (p: VerifiedPeer) => p.kind === 'friend' && !!this.opts.friendRevoked?.(p.certificate.owner, p.certificate.device)
    let dropped = 0
    const friends = new Set(roster.friends.map((f) => Buffer.from(f.owner).toString('hex')))
    const sharing = this.opts.sharing
    for (const link of this.devices.online()) {
      if (isRevoked(link.session.peer.certificate.device)) {
        link.session.wire.destroy()
        dropped++
      }
    }
    for (const link of this.holders.online()) {
      const peer = link.session.peer
      const gone = peer.kind === 'own' ? isRevoked(peer.certificate.device) : peer.kind === 'friend' && (!friends.has(ownerOf(peer)) || friendRevoked(peer))
      const backups = this.opts.backups
      if (gone || (backups && !backups.admit(link.session.infoHash.toString('hex'))?.(peer))) {
        link.session.wire.destroy()
        dropped++
      }
    }
    for (const link of this.friends.online()) {
      if (!friends.has(ownerOf(link.session.peer)) || friendRevoked(link.session.peer)) {
        link.session.wire.destroy()
        dropped++
      }
    }
    for (const t of await this.torrents.all()) {
      const ih = t.meta.infoHash.toString('hex')
      for (const p of t.peers) {
        const peer = p.session.peer
        const gone = peer.kind === 'own'
          ? isRevoked(peer.certificate.device)
          : !friends.has(ownerOf(peer)) || friendRevoked(peer) || !sharing?.allows(ownerOf(peer), ih)
        if (gone) {
          p.session.wire.destroy()
          dropped++
        }
      }
    }
    return dropped
  }

  // ---- torrents ----------------------------------------------------------

  private torrentFor(ih: string): Promise<Torrent> {
    let t = this.torrents.get(ih)
    if (!t) {
      const offer = this.offers.get(ih)
      if (!offer) return Promise.reject(new SwarmError('ERR_NO_HOLDER', 'no such torrent here'))
      t = this.torrents.add(ih, offer.load().then(async ({ meta, path }) => this.register(new Torrent(meta, await CompleteFile.open(path, meta)))))
    }
    return t
  }

  private register(t: Torrent): Torrent {
    this.torrents.opened(t)
    t.on('warning', (err) => this.emit('warning', err))
    // Bad data from a peer that proved its key: that key is banned, at any
    // address; the address (maybe a NAT's, shared with own devices) is not.
    t.on('banned', (peer, reason) => this.bans.banIdentity(hex(peer.peer.certificate.device), `${peer.peer.certificate.name}: ${reason}`))
    return t
  }

  /** The info dict of a track this device serves (library or verified cache), or null. */
  infoDictOf(sha256: string): Promise<Uint8Array | null> {
    return this.answer(sha256)
  }

  /** The infohash (hex) of a track this device serves, or undefined. */
  infoHashOf(sha256: string): string | undefined {
    return this.offers.infoHashOf(sha256)
  }

  private async answer(sha256: string): Promise<Uint8Array | null> {
    const offer = this.offers.offerOf(sha256)
    if (!offer) return null
    const { meta } = await offer.load()
    return encodeInfoDict(meta, this.opts.circleSecret)
  }

  /** An own device's reader asked for the blocks from `from` on: this device's share of them, if it holds the track. */
  private async pushFor(sha256: string, ask: { from: number; part: number; parts: number }): Promise<PushedBlock[]> {
    const ih = this.offers.infoHashOf(sha256)
    if (!ih) return []
    const torrent = await this.torrentFor(ih)
    return torrent.pushBlocks(ask.from, this.opts.pushBytes ?? PUSH_BYTES, ask.part, ask.parts)
  }

  /**
   * The torrent of a track: served from here when held, otherwise fetched
   * from the own devices that hold it (found over the device channel).
   * `from`: a reader starts at this byte, so the holders push the first
   * blocks there over the device links with their answer; `holders`: the
   * devices (keys, hex) the library says hold it, who share that push (by
   * default every linked device).
   */
  async open(sha256: string, opts: { allSources?: boolean; signal?: AbortSignal; from?: number; holders?: readonly string[] } = {}): Promise<Torrent> {
    if (this.closed) throw new SwarmError('ERR_NOT_RUNNING', 'the swarm is stopped')
    opts.signal?.throwIfAborted()
    const known = this.offers.infoHashOf(sha256)
    if (known) {
      this.cache.touch(sha256) // served to the player (a no-op for library tracks)
      return this.torrentFor(known)
    }
    // A track being fetched already: the next range of the same player (the
    // tail it reads after the start, a seek) must not wait for a lookup round
    // trip to every device. Without wires left, look up and dial again.
    const fetching = await this.fetching.get(sha256)?.catch(() => undefined)
    if (fetching && !fetching.complete && fetching.peerCount > 0 && !opts.allSources) return fetching
    const push = opts.from === undefined ? undefined : this.readerAsk(opts.from, opts.holders)
    const opening = this.lookupHolders(sha256, push?.ask)
      .then((holders) => this.openFrom(sha256, holders, (info) => metaFromInfoDict(info, sha256, this.opts.circleSecret), opts))
    this.fetching.set(sha256, opening)
    opening.then(
      (t) => (push?.deliver(t), t.once('done', () => this.fetching.get(sha256) === opening && this.fetching.delete(sha256))),
      () => this.fetching.get(sha256) === opening && this.fetching.delete(sha256),
    )
    // The caller stops waiting; the open itself goes on for other readers of the track.
    return orAbort(opening, opts.signal)
  }

  /**
   * A track shared by a friend: its holders are that friend's devices on the
   * share channel, authenticated as that friend's; we cannot check their
   * circle tag, and the file is SHA-256-verified when complete.
   */
  async openShared(sha256: string, friendOwner: string, opts: { allSources?: boolean } = {}): Promise<Torrent> {
    if (this.closed) throw new SwarmError('ERR_NOT_RUNNING', 'the swarm is stopped')
    const known = this.offers.infoHashOf(sha256)
    if (known) {
      this.cache.touch(sha256)
      return this.torrentFor(known)
    }
    const links = this.friends.online().filter((l) => ownerOf(l.session.peer) === friendOwner)
    const holders = await this.friends.lookup(sha256, undefined, links)
    const allow = (p: VerifiedPeer) => p.kind === 'friend' && ownerOf(p) === friendOwner
    return this.openFrom(sha256, holders, (info) => metaFromForeignInfoDict(info, sha256), opts, allow, true)
  }

  private async openFrom(
    sha256: string,
    holders: Holder[],
    check: (info: Uint8Array) => TorrentMeta,
    opts: { allSources?: boolean },
    allow?: (p: VerifiedPeer) => boolean,
    /** Another circle's torrent: kept for this run, not re-served (its info dict is not ours). */
    foreign = false,
  ): Promise<Torrent> {
    let meta: TorrentMeta | undefined
    const sources: DeviceLink[] = []
    for (const h of holders) {
      // A device banned for bad data is not asked again while the ban lasts (dialling it would not be refused: ours are never).
      if (this.bans.identityBanned(h.link.device)) {
        this.log('fetch %s: %s skipped, banned', sha256.slice(0, 12), h.link.name)
        continue
      }
      try {
        const m = check(h.info)
        if (meta && !meta.infoHash.equals(m.infoHash)) continue
        meta = m
        sources.push(h.link)
      } catch (err) {
        this.emit('warning', new SwarmError('ERR_BAD_INFO', `${h.link.name} sent a bad info dict: ${(err as Error).message}`))
      }
    }
    if (!meta) throw new SwarmError('ERR_NO_HOLDER', `no online own device holds ${sha256.slice(0, 12)}`)
    const ih = meta.infoHash.toString('hex')
    this.log('fetch %s (%s) from %s', sha256.slice(0, 12), ih.slice(0, 8), sources.map((l) => `${l.name} ${l.host}:${l.peerPort ?? '?'}`).join(', '))
    let t = this.torrents.get(ih)
    if (!t) {
      // Refused (cache full) or failed to open: the table forgets it, and a later open tries again.
      t = this.torrents.add(ih, this.startFetch(meta, foreign))
    } else this.cache.touch(meta.sha256) // a friend's track cached here, played again
    // Dialled while the cache file opens (the handshakes need only the infohash), nearest first.
    const near = byRtt(sources, (l) => l.rttMs)
    const dials = near.flatMap((link) => {
      const d = this.dialHolder(link, meta!.infoHash, allow)
      return d ? [{ link, d }] : []
    })
    let torrent: Torrent
    try {
      torrent = await t
    } catch (err) {
      for (const { d } of dials) d.then((s) => s.wire.destroy(), () => {})
      throw err
    }
    // A whole-track fetch of a small file asks for nothing until every holder
    // is ready to send (or a moment passed), so the first to be ready does not
    // take every piece: a holder that first has to open the track would
    // otherwise miss it altogether. A large file starts with the first ready
    // holder: the others have plenty left when they join, and a packet lost in
    // one holder's handshake (a SYN is sent again after a second) must not
    // idle the rest (bench/wan).
    const together = opts.allSources && torrent.meta.size <= TOGETHER_MAX_BYTES ? this.startTogether(torrent, dials.map((x) => x.d), ALL_SOURCES_WAIT) : null
    for (const { link, d } of dials) {
      // The device link's round trip, measured end to end (a track wire's own connect may be to a relay).
      d.then(
        (s) => torrent.addPeer(s, link.rttMs),
        (err: Error) => {
          this.log('dial for %s failed: %s', ih.slice(0, 8), err.message)
          this.emit('warning', err)
        },
      )
    }
    await together
    return torrent
  }

  /**
   * Holds the torrent until every dialled holder is ready to send, failed or
   * went, or `ms` passed; then lets it fetch from all that are there.
   */
  private async startTogether(torrent: Torrent, dials: Array<Promise<PeerSession>>, ms: number): Promise<void> {
    const release = torrent.holdBackground(ms)
    const waiting = new Set<PeerSession>()
    const readyNow = new Set<PeerSession>()
    let wake = () => {}
    const onReady = (s: PeerSession) => {
      readyNow.add(s)
      if (waiting.delete(s) && waiting.size === 0) wake()
    }
    torrent.on('ready', onReady)
    const dialled = Promise.allSettled(
      dials.map((d) =>
        d.then((s) => {
          if (readyNow.has(s) || s.wire.destroyed) return
          waiting.add(s)
          s.wire.once('close', () => onReady(s))
        }),
      ),
    )
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        dialled.then(() => (waiting.size === 0 ? undefined : new Promise<void>((r) => (wake = r)))),
        new Promise<void>((r) => (timer = setTimeout(r, ms))),
      ])
    } finally {
      clearTimeout(timer)
      torrent.off('ready', onReady)
      release()
    }
  }

  /**
   * A track's torrent in the cache: its whole footprint (file and sidecar)
   * is reserved in the cache budget before the file is created; the
   * reservation becomes the cached track when it is done, and is freed if
   * the download fails. A track already whole here (a friend's, or one whose
   * .info was lost) is served from its file.
   */
  private async startFetch(m: TorrentMeta, foreign: boolean): Promise<Torrent> {
    const paths = cachePaths(this.opts.cacheDir, m.sha256)
    if (this.cache.has(m.sha256)) {
      const torrent = this.register(new Torrent(m, await CompleteFile.open(paths.final, m)))
      if (!foreign) {
        // Its .info is not rewritten: those bytes were not reserved. It is found this way again after a restart.
        this.offerCached(m, paths.final)
        this.emit('cached', m.sha256)
      }
      return torrent
    }
    const info = foreign ? null : encodeInfoDict(m, this.opts.circleSecret)
    // The sidecar counts twice: its next version is written beside it, then renamed over it.
    await this.cache.reserve(m.sha256, m.size + Math.max(info?.length ?? 0, 2 * Math.ceil(m.pieceCount / 8)))
    let store: PartialFile
    try {
      store = await PartialFile.open(this.opts.cacheDir, m)
    } catch (err) {
      await this.cache.release(m.sha256)
      throw err
    }
    const torrent = this.register(new Torrent(m, store))
    torrent.once('done', (path) => this.cacheDone(m, path, info))
    torrent.once('failed', () => {
      // Its partial file is gone: closed, and a later open starts over, with a new reservation.
      if (this.torrents.remove(torrent)) this.fetching.delete(m.sha256)
      queueMicrotask(() => void torrent.close()) // after every 'failed' listener: a fetch() waiting gets the failure, not the close
      void this.cache.release(m.sha256)
    })
    return torrent
  }

  /**
   * A fetched track is whole: accounted as cached (its .info counted before
   * it is written), served from here on when it is of this circle.
   */
  private cacheDone(m: TorrentMeta, path: string, info: Uint8Array | null): void {
    this.cache.complete(m.sha256, m.size + (info?.length ?? 0))
    if (!info) return
    const writing = writeFile(`${path}.info`, info).catch(() => {}) // without it, served this run only
    this.infoWrites.set(m.sha256, writing)
    void writing.then(() => this.infoWrites.get(m.sha256) === writing && this.infoWrites.delete(m.sha256))
    this.offerCached(m, path)
    this.emit('cached', m.sha256)
  }

  /** Whether the download of a track has had no peer for stalledAfter: the cache may evict it. */
  private stalled(sha256: string): boolean {
    const t = this.torrents.openOf(sha256).find((x) => !x.have.full)
    return t !== undefined && this.isStalled(t) // none: still opening its file
  }

  /** A download (not every piece here) with no peer for stalledAfter. */
  private isStalled(t: Torrent): boolean {
    return !t.have.full && (this.torrents.lonelyFor(t) ?? -1) >= this.stalledAfter
  }

  /**
   * Downloads no holder has fed for stalledAfter stop, their partial files
   * kept (resumed by the next open of the track, evictable for room): a
   * download whose player went away and whose holders went down must not
   * stay "fetching" for ever. Whoever waits for one is told no holder fed it.
   */
  private async parkStalled(): Promise<void> {
    if (this.parking || this.closed) return
    this.parking = true
    try {
      for (const t of this.torrents.openNow()) {
        if (!this.isStalled(t)) continue
        await this.cache.park(t.meta.sha256, async () => {
          // Looked at again in the cache's turn: an open may have dialled holders for it since.
          if (this.closed || !this.isStalled(t) || !this.torrents.remove(t)) return false
          this.fetching.delete(t.meta.sha256)
          this.log('parked %s: no holder for %d ms', t.meta.sha256.slice(0, 12), this.stalledAfter)
          await t.close()
          return true
        })
      }
    } finally {
      this.parking = false
    }
  }

  /**
   * Before the cache deletes a track's files (a cached track, or a stalled
   * download): this device stops offering it and closes its torrent.
   */
  private async drop(sha256: string): Promise<void> {
    await this.infoWrites.get(sha256)
    const ih = this.offers.infoHashOf(sha256)
    const opening = ih ? this.torrents.get(ih) : undefined
    this.offers.dropCached(sha256)
    // A torrent opening for it now (a player or peer just asked) is waited for, then closed too.
    if (opening && ih && !this.torrents.isOpen(ih)) await opening.catch(() => undefined)
    for (const t of this.torrents.openOf(sha256)) {
      this.torrents.remove(t)
      if (!t.complete) this.fetching.delete(sha256)
      await t.close()
    }
  }

  /**
   * Fetches a whole track into the cache; resolves once its SHA-256 is
   * verified. `signal` stops the wait (not the download): a caller that
   * went away, or a node shutting down, is not held by a fetch that hangs.
   */
  async fetch(sha256: string, opts: { signal?: AbortSignal } = {}): Promise<{ path: string; sources: Record<string, number>; ms: number; bytes: number }> {
    const started = performance.now()
    const torrent = await this.open(sha256, { allSources: true, signal: opts.signal })
    let path: string
    if (torrent.complete && !torrent.donePath) path = (await this.offers.get(torrent.meta.infoHash.toString('hex'))!.load()).path
    else path = await this.whenDone(torrent, opts.signal)
    return { path, sources: torrent.sources(), ms: performance.now() - started, bytes: torrent.meta.size }
  }

  /**
   * The path of a download once whole (also when it finished before this
   * was asked: a resumed download may finish while its holders are dialled);
   * rejects if it fails its SHA-256, is stopped, or `signal` aborts first
   * (rather than waiting forever).
   */
  private whenDone(t: Torrent, signal?: AbortSignal): Promise<string> {
    if (t.donePath) return Promise.resolve(t.donePath)
    if (t.failure) return Promise.reject(t.failure)
    const what = `the download of ${t.meta.sha256.slice(0, 12)}`
    const stopped = () =>
      this.closed
        ? new SwarmError('ERR_NOT_RUNNING', `${what} stopped: the swarm is stopped`)
        : new SwarmError('ERR_NO_HOLDER', `${what} stopped: no holder fed it for ${Math.round(this.stalledAfter / 100) / 10} s`)
    if (t.destroyed) return Promise.reject(stopped())
    return new Promise((resolve, reject) => {
      const off = () => {
        t.off('done', onDone)
        t.off('failed', onFailed)
        t.off('closed', onClosed)
        signal?.removeEventListener('abort', onAbort)
      }
      const onDone = (path: string) => (off(), resolve(path))
      const onFailed = (err: Error) => (off(), reject(err))
      const onClosed = () => (off(), reject(stopped()))
      const onAbort = () => (off(), reject(signal!.reason as Error))
      t.on('done', onDone)
      t.on('failed', onFailed)
      t.on('closed', onClosed)
      if (signal?.aborted) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Tracks fetched earlier are served again after a restart: their info dicts sit beside them. */
  private async indexCache(): Promise<void> {
    const names = await readdir(this.opts.cacheDir).catch(() => [] as string[])
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      const path = join(this.opts.cacheDir, name)
      try {
        if (!this.cache.has(name)) continue // evicted at open
        const meta = metaFromInfoDict(await readFile(`${path}.info`), name, this.opts.circleSecret)
        await access(path)
        this.offerCached(meta, path)
      } catch {
        // an unfinished or foreign file: not served
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.parkTimer)
    this.devices.close()
    this.friends.close()
    this.holders.close()
    this.paths.close()
    await Promise.all((await this.torrents.all()).map((t) => t.close()))
    for (const c of this.rtc) c.close()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    await this.cache.close()
  }
}

/** This device's key for log lines (hex), or '?' for credentials that do not decode (the handshake reports those). */
function ownKey(c: LocalCredentials): string {
  try {
    return Buffer.from(decodeCertificate(c.certificate).device).toString('hex')
  } catch {
    return '?'
  }
}
