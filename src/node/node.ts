// The node: one device's running djcloud. It wires identity, library, swarm,
// discovery, the DHT node (the circle's bootstrap when this device serves the
// circle), the embedded tracker, manifests and the local API together, and
// owns the home's LevelDB while it runs.
import { join } from 'node:path'
import { access, readFile, stat, writeFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { addDevice, adoptRoster, encodeCertificate, lanAddress, loadIdentity, saveRoster, verifyRoster, type Identity, type Roster } from '../identity/index.ts'
import { openLibrary, type LocalLibrary, type Library, type ScanOptions, type TrackRecord } from '../library/index.ts'
import { Swarm, RTT_PING_INTERVAL, WebRtcLinks, announceSigner, cachePaths, metaFromTrack } from '../swarm/index.ts'
import type { RtcOptions } from '../rtc/index.ts'
import { ApiError, createApiServer, firstTrackSource, hostLiteral, isLoopbackAddress, LocalFileTrackSource, loadOrCreateApiToken, pinnedTls, streamRoute, tokenMatches, type ApiServer, type ApiTlsInput } from '../player/index.ts'
import { SignalRelay } from './signal-relay.ts'
import { SubsonicService, type PlayLog } from '../subsonic/index.ts'
import { nodeTranscoding, streamTranscode } from './renditions.ts'
import type { ApiCall } from '../djimport/index.ts'
import { createAdmissionTracker, loadOrCreateTrackerToken, type AdmissionTracker } from '../../tracker/index.ts'
import { homePaths } from '../home.ts'
import { Discovery, ANNOUNCE_INTERVAL, REDIAL_INTERVAL, REACH_AFTER, REACH_RETRY, UPGRADE_INTERVAL, type Address } from './discovery.ts'
import { LanDiscovery, LAN_INTERVAL } from '../reach/index.ts'
import { nodeRoutes } from './routes.ts'
import { playlistRoutes } from './playlist-routes.ts'
import { cueRoutes, recordingChecker, unionRecordings } from './cue-routes.ts'
import { noteRoutes } from './note-routes.ts'
import { djRoutes } from './dj-routes.ts'
import { cacheRoutes } from './cache-routes.ts'
import { ManifestSync, LINK_WAIT, MANIFEST_REPUT, MANIFEST_REPUT_JITTER, POLL_INTERVAL, PUBLISH_DELAY } from './manifest-sync.ts'
import { Sharing, ROUND_INTERVAL } from './sharing.ts'
import { Collab } from './collab.ts'
import { CollabDht } from './collab-dht.ts'
import { collabRoutes } from './collab-routes.ts'
import { NodeBackups, BACKUP_LOOKUP, BACKUP_NOTICE_GAP, BACKUP_POLL_INTERVAL, BACKUP_REPUT } from './backups.ts'
import { backupRoutes } from './backup-routes.ts'
import { NodeAnalysis } from './analysis-routes.ts'
import { UiRoutes } from './ui-routes.ts'
import { DeviceTokens } from './device-tokens.ts'
import { BrowserPairing, BROWSER_PAIRING_DEFAULTS } from './browser-pairing.ts'
import { browserPairRoutes } from './browser-pair-routes.ts'
import { revokeRoute } from './revoke-route.ts'
import { PullService } from './pull-service.ts'
import { UnionView } from './union-view.ts'
import { Lifecycle, service, type Service } from './lifecycle.ts'
import { pullNoncesPath } from './pull-request.ts'
import { FriendRosters, FRIEND_ROSTER_POLL, FRIEND_ROSTER_REPUT } from './friend-rosters.ts'
import { NO_WIRES_GRACE, PULL_STALL, PULL_WATCH } from './gig-pull.ts'
import { LINGER } from './stream-monitor.ts'
import { openNodePlays, subsonicPlayLog, type NodePlays } from './plays.ts'
import { playsRoutes } from './plays-routes.ts'
import { UsageLog, USAGE_SAMPLE, type UsageView } from '../usage/index.ts'
import { DhtNode, ManifestBook, ManifestStore, listUnion, parseHostPort, unionTrack, type ManifestAnalysis } from '../manifest/index.ts'
import { removeNodeInfo, writeNodeInfo, type NodeInfo } from './node-file.ts'
import { PortMapper, type PortMapperOptions, type PortMapping } from '../reach/index.ts'
import { logger } from '../log/index.ts'

const log = logger('node')

/** Default ports, chosen clear of BitTorrent's 6881-6889 and common dev servers. */
export const DEFAULT_PORTS = { peer: 7461, api: 7462, tracker: 7463, dht: 7464 } as const

export interface NodeOptions {
  home: string
  peerPort?: number
  peerHost?: string
  apiPort?: number
  /** API address; anything but loopback is remote access and needs the token for every request. */
  apiHost?: string
  /**
   * Serve the API and UI over HTTPS with this certificate and key (PEM; `serve
   * --tls-cert/--tls-key`), so a phone's browser on the LAN is a secure context
   * (docs/ui.md, "Phones on the LAN over HTTPS"). Checked at start (ERR_BAD_TLS).
   */
  apiTls?: ApiTlsInput
  /** Tracker URLs to use besides the roster's. */
  trackers?: string[]
  /** Device addresses to dial (host:port of their peer ports). */
  peers?: Address[]
  /**
   * Run the circle's admission tracker here. Default: on an admin device when
   * neither the roster nor `trackers` names one.
   */
  tracker?: { port?: number; host?: string; advertise?: string } | false
  /** The DHT node (UDP). Default port 7464 on all interfaces; false runs none (manifests then travel only between linked devices). */
  dht?: { port?: number; host?: string; advertise?: string } | false
  /** DHT bootstrap nodes (host:port) besides the roster's. */
  bootstrap?: string[]
  /**
   * Find own devices on the LAN by sealed multicast announcements (docs/node.md,
   * "On the LAN"). Off unless given (`djcloud serve` turns it on; in-process
   * test nodes would otherwise all hear each other); `port`/`group` for tests.
   */
  lanDiscovery?: boolean | { port?: number; group?: string }
  /** ms between polls of friends' backup pointers (default 10 minutes); as `timings.backupPoll`. */
  backupPollMs?: number
  /** Timings the services wait on (defaults: DEFAULT_TIMINGS); tests pass short ones. */
  timings?: Partial<NodeTimings>
  /** Analyse new tracks in the background (default true). */
  analyze?: boolean
  /** The built web UI served at / (default: dist/ui of this package; null: none). */
  uiDir?: string | null
  /** Put the API token in the page served to browsers on this machine (default true); see ApiServerOptions.pageToken. */
  pageToken?: boolean
  /** Relay links between own devices that cannot reach each other (default: on an admin device; docs/reach.md). */
  relay?: boolean
  /** Bytes a day relayed for each friend's devices when relaying (default 0: friends get no relay). */
  relayFriendBytes?: number
  /**
   * Map the peer port at the router (UPnP-IGD or NAT-PMP, docs/reach.md).
   * Default off here, so in-process nodes never probe the network they run
   * on; `djcloud serve` turns it on (`--no-port-mapping`). A peer port bound
   * to loopback is not mapped unless a `gateway` is named.
   */
  portMapping?: boolean | PortMapperOptions
  /**
   * WebRTC links (docs/rtc.md): keep a signed WebSocket announce open to the
   * circle's trackers on the device channel and answer WebRTC offers from own
   * devices (browsers). Default off here, so in-process nodes load no native
   * WebRTC; `djcloud serve` turns it on (`--no-webrtc`).
   */
  webrtc?: boolean | NodeWebRtcOptions
  /** Serve the Subsonic / OpenSubsonic API at /rest/* on the API listener (`serve --subsonic`; default off). */
  subsonic?: boolean | SubsonicNodeOptions
  /**
   * Link with friends' devices on share channels (default true). False keeps
   * this device's address from friends: shared playlists and their streams
   * stop; collaborative edits travel over the DHT alone (docs/node.md, "Collab").
   */
  friendLinks?: boolean
  /** Transcoding (/stream?format=, Subsonic stream): the ffmpeg to run (default "ffmpeg" on PATH) and the rendition cache's bytes. */
  transcode?: { ffmpegPath?: string; renditionBudget?: number }
  onWarning?: (err: Error) => void
}

export interface NodeWebRtcOptions {
  /**
   * Also offer WebRTC links to own devices not linked (default off: between
   * Node devices TCP/TLS links, punches and relays already work, and a
   * second link to a device doubles its lookups; tests turn it on).
   */
  offer?: boolean
  /** ms between looks for trackers not joined yet (and, with `offer`, devices not linked); default WEBRTC_ROUND. */
  roundMs?: number
  /** PeerConnection factory and timings (default: webrtc-polyfill, production timings). */
  rtc?: Partial<RtcOptions>
}

/** ms between WebRTC rounds: trackers joined again, unlinked devices offered to (with `offer`). */
export const WEBRTC_ROUND = 30_000

export interface SubsonicNodeOptions {
  /** Where scrobbles go and play counts come from (default: the node's signed, synced play log, docs/plays.md). */
  plays?: PlayLog
}

/** Timings the node's services wait on; production defaults, tests pass short ones. */
export interface NodeTimings {
  /** ms: `djcloud trust revoke` or a pairing on this home takes effect within this. */
  rosterReload: number
  /** ms: how often a long analysis run republishes the library manifest. */
  publishDuringAnalysis: number
  /** ms between polls of friends' backup pointers. */
  backupPoll: number
  /** ms between dials of known own-device addresses not linked. */
  redial: number
  /** ms between tracker and DHT announces of the device channel. */
  announce: number
  /** ms between DHT checks for newer manifests. */
  manifestPoll: number
  /** ms between DHT lookups for friends without a link. */
  shareRound: number
  /** ms between DHT checks of friends' revocation items. */
  friendRosterPoll: number
  /** ms a gig pull's fetch waits with no wires (nor pieces) before it looks the holders up again. */
  pullNoWiresGrace: number
  /** ms a gig pull's fetch with wires open may go without a piece before the track is missing ("fetch stalled"). */
  pullStall: number
  /** ms between a gig pull's checks of a fetch (done, wires gone, stalled). */
  pullWatch: number
  /** ms a backup channel's DHT lookup, or a linked owner device's answer with the pointer, is waited for. */
  backupLookup: number
  /** ms between re-puts of our backup pointer (admin) and of friends' pointers kept here. */
  backupReput: number
  /** ms between polls of one friend that its backup notices may start. */
  backupNoticeGap: number
  /** ms changes to the library are gathered before one library version is published. */
  publishDelay: number
  /** ms a manifest blob fetch waits for devices found on the DHT to link. */
  manifestLinkWait: number
  /** ms before our manifest items are put on the DHT again, plus up to `manifestReputJitter` at random. */
  manifestReput: number
  manifestReputJitter: number
  /** ms between puts of our revocation items for friends (admin devices). */
  friendRosterReput: number
  /** ms a finished stream stays listed at /api/streams. */
  streamLinger: number
  /** ms an own device stays unlinked before it is reached through a linked device (a punch, else a relay). */
  reachAfter: number
  /** ms after a failed reach before the next (doubling). */
  reachRetry: number
  /** ms between tries to replace a relayed link by a punched one. */
  reachUpgrade: number
  /** ms between LAN announcements (with lanDiscovery). */
  lanAnnounce: number
  /** ms between samples of linked devices and of the run's time kept for `djcloud stats`. */
  usageSample: number
  /** ms between round-trip pings on each device link (nearest first follows the lowest). */
  rttPing: number
  /** ms a browser pairing link (Devices page, "Pair a phone or browser") stays valid when the request names no ttl. */
  browserPairTtl: number
}

export const DEFAULT_TIMINGS: NodeTimings = {
  rosterReload: 5_000,
  publishDuringAnalysis: 60_000,
  backupPoll: BACKUP_POLL_INTERVAL,
  redial: REDIAL_INTERVAL,
  announce: ANNOUNCE_INTERVAL,
  manifestPoll: POLL_INTERVAL,
  shareRound: ROUND_INTERVAL,
  friendRosterPoll: FRIEND_ROSTER_POLL,
  pullNoWiresGrace: NO_WIRES_GRACE,
  pullStall: PULL_STALL,
  pullWatch: PULL_WATCH,
  backupLookup: BACKUP_LOOKUP,
  backupReput: BACKUP_REPUT,
  backupNoticeGap: BACKUP_NOTICE_GAP,
  publishDelay: PUBLISH_DELAY,
  manifestLinkWait: LINK_WAIT,
  manifestReput: MANIFEST_REPUT,
  manifestReputJitter: MANIFEST_REPUT_JITTER,
  friendRosterReput: FRIEND_ROSTER_REPUT,
  streamLinger: LINGER,
  reachAfter: REACH_AFTER,
  reachRetry: REACH_RETRY,
  reachUpgrade: UPGRADE_INTERVAL,
  lanAnnounce: LAN_INTERVAL,
  usageSample: USAGE_SAMPLE,
  rttPing: RTT_PING_INTERVAL,
  browserPairTtl: BROWSER_PAIRING_DEFAULTS.ttlMs,
}

/** The node's parts, filled in as their services start (js-libp2p's components). */
interface Parts {
  identity: Identity
  library: LocalLibrary
  store: ManifestStore
  book: ManifestBook
  tracker: AdmissionTracker | null
  trackerUrl: string | undefined
  /** The tracker URL this device advertised when it last ran one ('' if never). */
  ownTrackerBefore: string
  dht: DhtNode | null
  bootstrapAddress: string | undefined
  sharing: Sharing
  collab: Collab
  /** Collaborative edits over the DHT; null without a DHT node. */
  collabDht: CollabDht | null
  backups: NodeBackups
  friendRosters: FriendRosters
  swarm: Swarm
  peerPort: number
  portMapper: PortMapper | null
  discovery: Discovery
  /** Multicast discovery on the LAN; null when off. */
  lan: LanDiscovery | null
  /** WebRTC links (signaling through the trackers); null when off. */
  webrtc: WebRtcLinks | null
  sync: ManifestSync
  union: UnionView
  analysis: NodeAnalysis
  ui: UiRoutes
  /** Paired browser devices' API tokens, and pairing browsers from a link (docs/identity.md, "Browser devices"). */
  deviceTokens: DeviceTokens
  browserPairing: BrowserPairing
  pulls: PullService
  plays: NodePlays
  usage: UsageLog
  api: ApiServer
  /** Carries paired browsers' signaling WebSockets to the circle's trackers (/api/signal). */
  signalRelay: SignalRelay
  info: NodeInfo
}

export class Node {
  private constructor(
    readonly home: string,
    private readonly parts: Parts,
    private readonly lifecycle: Lifecycle,
  ) {}

  get library(): LocalLibrary { return this.parts.library }
  get swarm(): Swarm { return this.parts.swarm }
  get api(): ApiServer { return this.parts.api }
  get discovery(): Discovery { return this.parts.discovery }
  get lan(): LanDiscovery | null { return this.parts.lan }
  get webrtc(): WebRtcLinks | null { return this.parts.webrtc }
  get tracker(): AdmissionTracker | null { return this.parts.tracker }
  get dht(): DhtNode | null { return this.parts.dht }
  get book(): ManifestBook { return this.parts.book }
  get sync(): ManifestSync { return this.parts.sync }
  /** The play history of all own devices, as merged here (docs/plays.md). */
  get plays(): NodePlays { return this.parts.plays }
  get sharing(): Sharing { return this.parts.sharing }
  get collab(): Collab { return this.parts.collab }
  get collabDht(): CollabDht | null { return this.parts.collabDht }
  get analysis(): NodeAnalysis { return this.parts.analysis }
  get info(): NodeInfo { return this.parts.info }
  get ui(): UiRoutes { return this.parts.ui }
  get pulls(): PullService { return this.parts.pulls }
  get backups(): NodeBackups { return this.parts.backups }
  get friendRosters(): FriendRosters { return this.parts.friendRosters }
  /** The router's forward of the peer port, or null (off, none found, not yet, lost). */
  get portMapping(): PortMapping | null { return this.parts.portMapper?.mapping ?? null }
  /** The node's services, in start order (they stop in reverse). */
  get services(): string[] { return this.lifecycle.names }

  private get identity(): Identity {
    return this.parts.identity
  }

  get roster(): Roster {
    return this.identity.roster
  }

  static async start(opts: NodeOptions, signal?: AbortSignal): Promise<Node> {
    const parts = { identity: await loadIdentity(opts.home) } as Parts
    let node: Node | undefined
    const lifecycle = new Lifecycle(nodeServices(opts, parts, () => node), { onWarning: opts.onWarning })
    node = new Node(opts.home, parts, lifecycle)
    await lifecycle.start(signal)
    return node
  }

  /** Picks up roster changes made on this home (e.g. `djcloud trust revoke`, pairing). */
  async reloadRoster(): Promise<void> {
    const bytes = await readFile(join(homePaths(this.home).identity, 'roster'))
    const roster = verifyRoster(bytes, this.identity.certificate.owner)
    if (roster.seq <= this.identity.roster.seq) return
    this.parts.identity = { ...this.identity, roster }
    await this.applyRoster()
    await this.sync.publishRoster()
  }

  /** Makes the current roster take effect: the tracker's admissions, open wires, revoked devices' manifests. */
  async applyRoster(): Promise<void> {
    this.tracker?.setRoster(this.identity.roster)
    await this.swarm.enforceRoster()
    await this.book.dropRevoked()
    this.sharing.changed()
    // Friends' devices linked now hear of it at once (a revocation must reach them too).
    await this.friendRosters.refreshOwn().catch(() => {})
    this.friendRosters.tell()
    void this.friendRosters.publish().catch(() => {})
  }

  /** Graceful shutdown: every service stopped in reverse start order, node.json removed. Idempotent. */
  close(): Promise<void> {
    return this.lifecycle.stop()
  }
}

/**
 * The node as a list of services, in start order; they stop in reverse.
 * Each entry makes its part (from the parts before it) and starts it; a new
 * service is one more entry here.
 */
function nodeServices(opts: NodeOptions, p: Parts, node: () => Node | undefined): Service[] {
  const home = opts.home
  const t: NodeTimings = { ...DEFAULT_TIMINGS, ...(opts.backupPollMs ? { backupPoll: opts.backupPollMs } : {}), ...opts.timings }
  // Every warning is also counted by code in the home's usage file (never sent anywhere).
  const warn = (err: Error) => {
    p.usage?.warning(err)
    opts.onWarning?.(err)
  }
  const id = () => p.identity
  const analyze = opts.analyze !== false
  let reload: NodeJS.Timeout | undefined
  let webrtcTimer: NodeJS.Timeout | undefined
  // node.json is rewritten when the port mapping changes, one write at a
  // time, and only between its service's start and stop.
  let nodeFileLive = false
  let nodeFileWrite: Promise<void> = Promise.resolve()
  const writeInfo = () => {
    nodeFileWrite = nodeFileWrite.then(() => (nodeFileLive ? writeNodeInfo(home, p.info) : undefined)).catch(warn)
    return nodeFileWrite
  }
  return [
    service('library', async () => {
      p.library = (await openLibrary(home, { circleSecret: id().circleSecret })) as LocalLibrary
    }, () => p.library.close()),

    service('manifests', async () => {
      p.store = await ManifestStore.open(home, id().circleSecret)
      p.book = await ManifestBook.open({ store: p.store, identity: id })
      p.book.on('refused', (r) => warn(new Error(`refused a manifest from ${r.source}: ${r.reason} (${r.code})`)))
    }),

    // The circle's tracker: our own when we serve the circle.
    service('tracker', async () => {
      p.tracker = null
      p.ownTrackerBefore = (await readFile(join(home, 'embedded-tracker'), 'utf8').catch(() => '')).trim()
      if (!wantsTracker(opts, id(), p.ownTrackerBefore)) return
      const o = opts.tracker || {}
      // TLS with this device's key: devices accept the tracker because that key is on the roster.
      p.tracker = createAdmissionTracker({ roster: id().roster, token: await loadOrCreateTrackerToken(home), deviceSeed: id().device.seed })
      p.tracker.on('warning', warn)
      const { port } = await p.tracker.listen(o.port ?? DEFAULT_PORTS.tracker, o.host ?? '0.0.0.0')
      p.trackerUrl = `https://${o.advertise ?? lanAddress()}:${port}/announce`
    }, () => p.tracker?.close()),

    // The DHT node. On the device that serves the circle it is the circle's bootstrap node.
    service('dht', async () => {
      p.dht = null
      if (opts.dht === false) return
      const d = opts.dht || {}
      // Not our own previous address: a node does not bootstrap from itself.
      const ownPrevious = (await readFile(join(home, 'embedded-bootstrap'), 'utf8').catch(() => '')).trim()
      const bootstrap = [...(opts.bootstrap ?? []), ...id().roster.bootstrap.filter((a) => a !== ownPrevious)].filter((a) => {
        try {
          parseHostPort(a)
          return true
        } catch {
          warn(new Error(`ignoring bootstrap address "${a}"`))
          return false
        }
      })
      const host = d.host ?? opts.peerHost ?? '0.0.0.0'
      const wildcard = host === '0.0.0.0' || host === '::'
      const advertise = d.advertise ?? (wildcard ? lanAddress() : host)
      p.dht = await DhtNode.start({ port: d.port ?? DEFAULT_PORTS.dht, host, advertise, bootstrap, stateFile: join(home, 'dht-state.json'), onWarning: warn })
      const serveCircle = !!id().owner && (wantsTracker(opts, id(), p.ownTrackerBefore) || id().roster.bootstrap.filter((a) => a !== ownPrevious).length === 0) && !opts.bootstrap?.length
      if (serveCircle) p.bootstrapAddress = `${advertise}:${p.dht.port}`
    }, () => p.dht?.close()),

    // Devices learn the circle's tracker and bootstrap addresses from the
    // roster. This device's previous ones (another port or LAN address) are
    // replaced, not kept.
    service('roster-addresses', async () => {
      p.identity = await advertise(home, id(), { tracker: p.trackerUrl, bootstrap: p.bootstrapAddress })
      p.tracker?.setRoster(id().roster)
    }),

    // Every part that listens to the swarm's events exists before the peer
    // port opens, so a device that links at once is seen by all of them.
    service('parts', async () => {
      const swarm = () => p.swarm
      // Friends' rosters, followed: their owners' revocations hold here too.
      p.friendRosters = new FriendRosters({ home, identity: id, swarm, dht: p.dht, onWarning: warn, pollMs: t.friendRosterPoll, reputMs: t.friendRosterReput })
      await p.friendRosters.load()
      await p.friendRosters.refreshOwn()
      p.tracker?.setFriendRevoked(p.friendRosters.revoked)
      // Collaborative playlists: collaborators' verified edit sets, merged into every read of our playlists.
      p.collab = new Collab({
        home, identity: id, book: p.book, swarm, friendRevoked: p.friendRosters.revoked, onWarning: warn,
        union: () => p.union.get(), publish: (pub) => p.sync.publishPlaylist(pub),
      })
      await p.collab.open()
      p.book.setGuests((name) => p.collab.guestsOf(name))
      p.collabDht = p.dht
        ? new CollabDht({
            home, identity: id, collab: p.collab, dht: p.dht, rosterDevices: (owner) => p.friendRosters.devicesOf(owner), onWarning: warn,
            pollMs: t.manifestPoll, reputMs: t.manifestReput, reputJitterMs: t.manifestReputJitter,
          })
        : null
      p.sharing = new Sharing({
        identity: id, book: p.book, swarm, dht: p.dht, union: () => p.union.get(), roundMs: t.shareRound, onWarning: warn, collab: p.collab,
        links: opts.friendLinks !== false,
      })
      p.collab.on('changed', () => p.sharing.changed())
      p.backups = new NodeBackups({
        home, identity: id, swarm, dht: p.dht, onWarning: warn,
        pollMs: t.backupPoll, lookupMs: t.backupLookup, reputMs: t.backupReput, noticeGapMs: t.backupNoticeGap,
        stores: () => ({ identity: id(), library: p.library, store: p.store, book: p.book }),
      })
      p.swarm = new Swarm({
        friendRevoked: p.friendRosters.revoked,
        signedRoster: () => p.friendRosters.own,
        credentials: { deviceSeed: id().device.seed, certificate: encodeCertificate(id().certificate) },
        roster: () => id().roster,
        circleSecret: id().circleSecret,
        cacheDir: join(home, 'cache'),
        port: opts.peerPort ?? DEFAULT_PORTS.peer,
        host: opts.peerHost ?? '0.0.0.0',
        blob: async (blobId) => (await p.store.getBlob(blobId)) ?? p.collab.blobFor(null, blobId),
        sharing: p.sharing,
        backups: p.backups,
        relay: opts.relay ?? !!id().owner,
        relayFriendBytes: opts.relayFriendBytes,
        rttPingMs: t.rttPing,
      })
      p.swarm.on('warning', warn)
      p.friendRosters.on('changed', () => {
        p.tracker?.setFriendRevoked(p.friendRosters.revoked)
        void p.swarm.enforceRoster().catch(warn)
      })
      // A library track cached too was offered from the cache (offerLibrary skips what the
      // swarm holds): once that copy is gone, the library copy is offered in its place.
      p.swarm.on('evicted', (sha) => void offerLibraryTrack(p.swarm, p.library, sha, id().circleSecret).catch(warn))
      p.union = new UnionView({ identity: id, library: p.library, book: p.book, swarm: p.swarm })
      p.discovery = new Discovery({
        swarm: p.swarm,
        home,
        dht: p.dht,
        trackers: () => [...new Set([...(opts.trackers ?? []), ...id().roster.trackers])],
        roster: () => id().roster,
        signer: announceSigner(id()),
        self: Buffer.from(id().device.publicKey).toString('hex'),
        peers: opts.peers,
        // Behind a port mapping, others dial the router's external port.
        announcePort: () => p.portMapper?.mapping?.externalPort ?? p.swarm.port,
        redialMs: t.redial,
        announceMs: t.announce,
        reachAfterMs: t.reachAfter,
        reachRetryMs: t.reachRetry,
        upgradeMs: t.reachUpgrade,
        onWarning: warn,
      })
      p.sync = new ManifestSync({
        identity: id,
        book: p.book,
        swarm: p.swarm,
        dht: p.dht,
        library: p.library,
        pollMs: t.manifestPoll,
        publishDelayMs: t.publishDelay,
        linkWaitMs: t.manifestLinkWait,
        reputMs: t.manifestReput,
        reputJitterMs: t.manifestReputJitter,
        learn: (a) => p.discovery.learn(a),
        adoptRoster: async (_roster, signed) => {
          p.identity = await adoptRoster(id(), signed)
          // An admin device recovered from the phrase is not on the roster its
          // lost devices published: it adds itself, as version max + 1.
          const me = id()
          if (me.owner && !me.roster.devices.some((c) => Buffer.from(c.device).equals(me.device.publicKey))) {
            p.identity = await saveRoster(me, addDevice(me.roster, me.certificate))
          }
          await node()?.applyRoster()
          await p.sync.publishRoster()
        },
        onWarning: warn,
      })
      // Gig preparation: pulls of a playlist here, or asked of / by another own device.
      p.pulls = new PullService({
        identity: id, swarm: p.swarm, book: p.book, union: () => p.union.get(), onWarning: warn, collab: p.collab,
        locate: (sha) => locateTrack(p.library, join(home, 'cache'), sha),
        // Pulled tracks stay: the cache never evicts a pinned track (`djcloud cache unpin` lets it go).
        pin: (sha) => p.swarm.cache.pin(sha),
        nonceFile: pullNoncesPath(home),
        noWiresGraceMs: t.pullNoWiresGrace,
        stallMs: t.pullStall,
        watchMs: t.pullWatch,
        onPulled: (r) => void p.plays?.gigs.add({ playlist: r.playlist, at: r.finishedAt, ready: r.ready }).catch(warn),
      })
      // Play history: synced with own devices over the device channel (answering at once, as the others do).
      p.plays = await openNodePlays({ home, identity: id, swarm: p.swarm, onWarning: warn })
      p.plays.sync.start()
      // Their link and notice listeners and command handlers too: a device
      // linking or asking at once is answered, not refused as "not served here".
      p.friendRosters.attach()
      p.sharing.attach()
      p.collab.attach()
      p.backups.attach()
      p.pulls.attach()
    }, () => {
      // What a handler started before its service did (a friend's poll on a notice) stops here too.
      p.sync?.stop()
      p.sharing?.stop()
      p.collab?.stop()
      p.collabDht?.stop()
      p.backups?.stop()
      p.friendRosters?.stop()
      p.pulls?.stop()
      p.plays?.sync.stop()
    }),

    // Time in use, linked devices over time, warnings and crashes: kept in the home (docs/plays.md).
    service('usage', async () => {
      p.usage = new UsageLog({ home, devices: () => p.swarm.devices.online().length, sampleMs: t.usageSample, onWarning: opts.onWarning })
      p.swarm.devices.on('link', () => p.usage.sample())
      p.swarm.devices.on('link-gone', () => p.usage.sample())
      await p.usage.start()
    }, () => p.usage?.stop()),

    service('peer-port', async () => {
      try {
        p.peerPort = await p.swarm.start()
        await offerLibrary(p.swarm, p.library, id().circleSecret)
      } catch (err) {
        // Not started, so not stopped by the lifecycle: let go of what it opened.
        await p.swarm.close().catch(() => {})
        throw err
      }
    }, () => p.swarm.close()),

    // Asks the router to forward the peer port; runs in the background (a
    // gateway may take seconds to answer, or never), and re-announces and
    // rewrites node.json whenever the mapping changes.
    service('port-mapping', () => {
      p.portMapper = null
      if (!opts.portMapping) return
      const o = opts.portMapping === true ? {} : opts.portMapping
      if (o.gateway === undefined && isLoopback(opts.peerHost)) return void log('peer port on %s: not mapped', opts.peerHost)
      p.portMapper = new PortMapper({ ...o, onWarning: warn })
      p.portMapper.on('mapping', (m) => {
        // Told in hellos: a device that dials us there shows the link as "mapped".
        p.swarm.paths.mapped = m ? { host: m.externalHost, port: m.externalPort } : null
        if (p.info) {
          p.info = { ...p.info, portMapping: m }
          void writeInfo()
        }
        p.discovery.reannounce()
      })
      p.portMapper.start(p.peerPort)
    }, () => p.portMapper?.stop()),

    service('analysis', () => {
      let lastPublished = Date.now()
      let shared: Map<string, ManifestAnalysis> | null = null
      p.book.on('changed', () => void (shared = null))
      p.analysis = new NodeAnalysis({
        library: p.library,
        // Looked up per run: the book's view changes as manifests come in.
        shared: (audioHash) => (shared ??= p.book.sharedAnalyses()).get(audioHash),
        onWarning: warn,
        // Results show in the listing as they come; other devices get them
        // every minute of a long run, and all at its end.
        onProgress: () => {
          p.union.changed()
          if (Date.now() - lastPublished < t.publishDuringAnalysis) return
          lastPublished = Date.now()
          void p.sync.publishLibrary().catch(warn)
        },
        onAnalysed: () => {
          p.union.changed()
          lastPublished = Date.now()
          void p.sync.publishLibrary().catch(warn)
        },
      })
      // Another device's manifest may bring analyses of tracks held here: take them in.
      if (analyze) p.book.on('changed', (kind) => kind === 'library' && p.analysis.background())
    }, () => p.analysis?.stop()),

    service('ui', () => {
      p.ui = new UiRoutes({
        identity: id, swarm: p.swarm, book: p.book, library: p.library, union: () => p.union.get(), onWarning: warn,
        ...(opts.peerHost ? { pairListen: opts.peerHost } : {}),
        onPaired: async () => node()?.reloadRoster(),
        streamLingerMs: t.streamLinger,
        unreachable: () => p.discovery.unreachable,
      })
    }, () => p.ui?.stop()),

    service('browser-pairing', async () => {
      p.deviceTokens = new DeviceTokens(home, () => id().roster)
      await p.deviceTokens.load()
      p.browserPairing = new BrowserPairing({ identity: id, tokens: p.deviceTokens, onPaired: async () => node()?.reloadRoster(), ttlMs: t.browserPairTtl })
    }),

    service('pulls', (signal) => p.pulls.start(signal), () => p.pulls?.stop()),

    service('api', async () => {
      const apiHost = opts.apiHost ?? '127.0.0.1'
      const apiToken = await loadOrCreateApiToken(home)
      const recordings = unionRecordings(() => p.union.get())
      // Wrapped so /api/streams sees every stream and which devices feed it.
      const tracks = firstTrackSource([
        p.ui.streams.local(new LocalFileTrackSource(p.library)),
        // The library's holders share the first blocks' push (docs/swarm.md, "Pushed first blocks").
        p.ui.streams.swarm(async (sha, from) =>
          p.swarm.open(sha, from === undefined ? {} : { from, holders: (await p.union.get()).get(sha)?.holders.map((h) => h.device) ?? [] }),
        ),
        p.ui.streams.swarm((sha) => p.sharing.open(sha)),
      ])
      const transcoding = nodeTranscoding(home, { ...opts.transcode, warn: (m) => warn(new Error(m)) })
      const subsonic = opts.subsonic
        ? new SubsonicService({
            home,
            union: () => p.union.get(),
            book: p.book,
            publishPlaylist: (pub) => p.sync.publishPlaylist(pub),
            tracks,
            stream: (source) => streamRoute({ tracks: source }),
            renditions: transcoding.renditions,
            ffmpeg: transcoding.ffmpeg,
            plays: typeof opts.subsonic === 'object' && opts.subsonic.plays ? opts.subsonic.plays : subsonicPlayLog(p.plays.book),
            log: (m, f) => warn(new Error(`${m}: ${(f.error as Error | undefined)?.message ?? ''}`)),
          })
        : null
      p.signalRelay = new SignalRelay({
        credential: (token) => {
          if (tokenMatches(token, apiToken)) return { kind: 'token' }
          const device = p.deviceTokens.deviceOf(token)
          return device ? { kind: 'device', device } : null
        },
        allowed: (device) => p.deviceTokens.allowed(device),
        roster: () => id().roster,
        // The same trackers this node's own WebSocket announces go to.
        trackers: () => [...new Set([...(opts.trackers ?? []), ...id().roster.trackers, ...(p.trackerUrl ? [p.trackerUrl] : [])])],
        log: logger('signal'),
      })
      p.api = createApiServer({
        upgrades: [p.signalRelay.route()],
        library: servedLibrary(p, () => {
          p.sharing.changed()
          if (analyze) p.analysis.background()
        }, warn),
        libraryEntries: (o) => p.ui.entries(o),
        cachedTrack: (sha) => p.swarm.holds(sha),
        tracks,
        transcode: streamTranscode(transcoding.renditions, tracks),
        usage: async () => usageSummary(p),
        ...(opts.uiDir !== undefined ? { uiDir: opts.uiDir } : {}),
        ...(opts.pageToken === false ? { pageToken: false } : {}),
        token: apiToken,
        ...(opts.apiTls ? { tls: opts.apiTls } : {}),
        deviceTokens: p.deviceTokens,
        allowRemote: !['127.0.0.1', 'localhost', '::1'].includes(apiHost),
        routes: [
          ...nodeRoutes(p.swarm),
          ...playlistRoutes({ book: p.book, sync: p.sync, union: () => p.union.get(), sharing: p.sharing }),
          ...collabRoutes({ identity: id, book: p.book, sync: p.sync, collab: p.collab, sharing: p.sharing, union: () => p.union.get() }),
          ...p.analysis.routes(),
          ...cueRoutes({ library: p.library, book: p.book, sync: p.sync, union: () => p.union.get() }),
          ...noteRoutes({
            library: p.library,
            book: p.book,
            sync: p.sync,
            recording: recordingChecker(recordings),
            recordings,
          }),
          ...djRoutes({ home, call: selfCall(() => p.info, apiToken) }),
          ...cacheRoutes(p.swarm),
          ...p.ui.routes(),
          ...browserPairRoutes({
            pairing: p.browserPairing,
            pageUrl: () => phoneOrigin(p.info.api, p.api.tls?.pageName),
            thisMachineOnly: () => isLoopbackAddress(new URL(p.info.api).hostname.replace(/^\[|\]$/g, '')),
          }),
          revokeRoute({ identity: id, onRevoked: async () => node()?.reloadRoster() }),
          ...p.pulls.routes(),
          ...backupRoutes(p.backups),
          ...playsRoutes({ plays: p.plays, union: () => p.union.get() }),
          ...(subsonic ? subsonic.routes() : []),
        ],
      })
      const bound = await p.api.listen(opts.apiPort ?? DEFAULT_PORTS.api, apiHost)
      p.info = {
        pid: process.pid,
        api: `${p.api.tls ? 'https' : 'http'}://${hostLiteral(bound.host)}:${bound.port}`,
        ...(p.api.tls ? { apiCert: p.api.tls.leaf } : {}),
        peerPort: p.peerPort,
        tracker: p.trackerUrl,
        ...(p.dht ? { dhtPort: p.dht.port } : {}),
        ...(p.bootstrapAddress ? { bootstrap: p.bootstrapAddress } : {}),
        ...(p.portMapper ? { portMapping: p.portMapper.mapping } : {}),
      }
    }, async () => {
      p.signalRelay?.close()
      await p.api?.close()
    }),

    // node.json says where the API is: written once it answers, removed first on the way down.
    service('node-file', async () => {
      nodeFileLive = true
      // A failed first write fails the start (a mapping's later rewrite is only a warning).
      const first = writeNodeInfo(home, p.info)
      nodeFileWrite = first.catch(() => {})
      await first.catch((err) => {
        nodeFileLive = false
        throw err
      })
    }, async () => {
      nodeFileLive = false
      await nodeFileWrite
      await removeNodeInfo(home)
    }),

    service('roster-reload', () => {
      reload = setInterval(() => void node()?.reloadRoster().catch(warn), t.rosterReload)
      reload.unref()
    }, () => clearInterval(reload)),

    service('discovery', (signal) => p.discovery.start(signal), () => p.discovery.stop()),
    // WebRTC: answers browsers' (and, with `offer`, offers to own devices') data channel links, signaled through the trackers.
    service('webrtc', async () => {
      p.webrtc = null
      if (!opts.webrtc) return
      const o = opts.webrtc === true ? {} : opts.webrtc
      const self = Buffer.from(id().device.publicKey).toString('hex')
      const links = new WebRtcLinks({
        swarm: p.swarm,
        signer: announceSigner(id()),
        roster: () => id().roster,
        trackers: () => [...new Set([...(opts.trackers ?? []), ...id().roster.trackers])],
        self,
        ...(o.rtc ? { rtc: o.rtc } : {}),
        log: logger('rtc'),
        onWarning: warn,
      })
      p.webrtc = links
      let busy = false
      const round = async () => {
        if (busy) return // the last round's offers still wait for answers: offering again would link twice
        busy = true
        try {
          await roundOnce()
        } finally {
          busy = false
        }
      }
      const roundOnce = async () => {
        await links.start()
        if (!o.offer) return
        const linked = new Set(p.swarm.devices.online().map((l) => l.device))
        const roster = id().roster
        const revoked = new Set(roster.revoked.map((k) => Buffer.from(k).toString('hex')))
        const missing = roster.devices.map((d) => Buffer.from(d.device).toString('hex')).filter((d) => d !== self && !linked.has(d) && !revoked.has(d))
        if (missing.length > 0) await links.offer(Math.min(missing.length, 10))
      }
      // In the background: a tracker that does not answer must not hold the node's start.
      void round().catch(warn)
      webrtcTimer = setInterval(() => void round().catch(warn), o.roundMs ?? WEBRTC_ROUND)
      webrtcTimer.unref()
    }, () => {
      clearInterval(webrtcTimer)
      p.webrtc?.close()
    }),
    // Own devices on this LAN, with no tracker, DHT or internet: each one heard is dialled by discovery.
    // A LAN it cannot use (no multicast, the port taken without reuse) is a warning, not a node that does not start.
    service('lan-discovery', async () => {
      p.lan = null
      if (!opts.lanDiscovery) return
      const o = opts.lanDiscovery === true ? {} : opts.lanDiscovery
      const lan = new LanDiscovery({
        circleSecret: id().circleSecret,
        peerPort: () => p.swarm.port,
        onPeer: (a) => p.discovery.learn(a),
        intervalMs: t.lanAnnounce,
        onWarning: warn,
        ...o,
      })
      try {
        await lan.start()
        p.lan = lan
      } catch (err) {
        lan.stop()
        warn(new Error(`LAN discovery is off: ${(err as Error).message}`))
      }
    }, () => p.lan?.stop()),
    service('publishing', (signal) => p.sync.start(signal), () => p.sync.stop()),
    service('sharing', (signal) => p.sharing.start(signal), () => p.sharing.stop()),
    service('backups', (signal) => p.backups.start(signal), () => p.backups.stop()),
    service('friend-rosters', () => p.friendRosters.start(), () => p.friendRosters.stop()),
    service('collab-dht', () => p.collabDht?.start(), () => p.collabDht?.stop()),
    service('background-analysis', () => {
      if (analyze) p.analysis.background()
    }),
  ]
}

/**
 * Whether this node runs the circle's tracker: as told, else on an admin
 * device when the roster names no tracker but the one this device ran
 * before (a restarted admin serves its circle again).
 */
export function wantsTracker(opts: NodeOptions, identity: Identity, ownBefore: string): boolean {
  if (opts.tracker !== undefined) return opts.tracker !== false
  return !!identity.owner && identity.roster.trackers.every((u) => u === ownBefore) && !opts.trackers?.length
}

function isLoopback(host: string | undefined): boolean {
  return host !== undefined && (host === 'localhost' || host === '::1' || host.startsWith('127.'))
}

/** The library the API sees: the union; a scan also makes new tracks servable and publishes them. */
/** GET /api/stats's `usage`: this device's figures and the play history's, kept here and never sent anywhere. */
function usageSummary(p: Parts): UsageView & { plays: number; playedTracks: number; devicesNow: number } {
  const plays = p.plays.book.plays()
  return { ...p.usage.view(), plays: plays.length, playedTracks: p.plays.book.stats().size, devicesNow: p.swarm.devices.online().length }
}

function servedLibrary(p: Parts, scanned: () => void, warn: (e: Error) => void): Library {
  return {
    list: async (o) => listUnion((await p.union.get()).values(), o).map(unionTrack),
    track: async (s) => {
      const u = (await p.union.get()).get(s)
      return u ? unionTrack(u) : undefined
    },
    stats: () => p.library.stats(),
    close: async () => {},
    scan: async (roots: string[], o?: Omit<ScanOptions, 'circleSecret'>) => {
      const summary = await p.library.scan(roots, o).finally(() => p.union.changed())
      await withdrawMissing(p.swarm, p.library)
      await offerLibrary(p.swarm, p.library, p.identity.circleSecret)
      await p.sync.publishLibrary().catch(warn)
      scanned()
      return summary
    },
  }
}

/** Makes every present library track servable; piece hashes load on first request. */
async function offerLibrary(swarm: Swarm, library: LocalLibrary, circleSecret: Uint8Array): Promise<void> {
  for (const t of await library.list({ includeMissing: false })) offerTrack(swarm, library, t, circleSecret)
}

/** Library tracks a scan found gone are no longer offered (a cached copy of one still is). */
async function withdrawMissing(swarm: Swarm, library: LocalLibrary): Promise<void> {
  for (const t of await library.list({ includeMissing: true })) if (t.missing) await swarm.withdraw(t.sha256)
}

/** One library track, if it is present and not served already (after its cached copy was evicted). */
async function offerLibraryTrack(swarm: Swarm, library: LocalLibrary, sha256: string, circleSecret: Uint8Array): Promise<void> {
  const t = await library.track(sha256)
  if (t && !t.missing) offerTrack(swarm, library, t, circleSecret)
}

function offerTrack(swarm: Swarm, library: LocalLibrary, t: TrackRecord, circleSecret: Uint8Array): void {
  if (!t.infohash || swarm.holds(t.sha256)) return
  swarm.offerLazy(t.infohash, t.sha256, async () => {
    const pieces = await library.pieces(t.sha256)
    if (!pieces) throw new Error(`no piece hashes stored for ${t.sha256}`)
    return { meta: metaFromTrack({ ...t, pieces }, circleSecret), path: t.paths[0]! }
  })
}

/**
 * The origin a phone on the LAN opens this node's UI at. Over HTTPS it is the
 * certificate's name (the one name the phone's browser trusts the page under);
 * otherwise a wildcard API address becomes this machine's LAN address.
 */
function phoneOrigin(api: string, certificateName: string | undefined): string {
  const u = new URL(api)
  if (certificateName !== undefined) u.hostname = certificateName
  else if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = lanAddress()
  return u.origin
}

/**
 * Calls this node's own API (an import or export from the UI goes through the
 * API as the CLI's does); over HTTPS it trusts exactly the node's certificate,
 * as the CLI does (node.json `apiCert`).
 */
function selfCall(info: () => NodeInfo, token: string): ApiCall {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const { api, apiCert } = info()
    // A node bound to every address is reached on loopback.
    const url = new URL(api.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:') + path)
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers = { authorization: `Bearer ${token}`, ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }) }
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = url.protocol === 'https:' ? httpsRequest(url, { method, headers, ...pinnedTls(apiCert ?? '') }) : httpRequest(url, { method, headers })
      req.on('response', resolve).on('error', reject).end(text)
    })
    let raw = ''
    for await (const chunk of res.setEncoding('utf8')) raw += chunk as string
    let json = {} as { error?: { code: string; message: string } } & T
    try {
      json = JSON.parse(raw) as typeof json
    } catch {}
    const status = res.statusCode ?? 0
    if (status < 200 || status >= 300) throw new ApiError(status, (json.error?.code ?? 'ERR_INTERNAL') as never, json.error?.message ?? `HTTP ${status}`)
    return json
  }
}

/** Where a track's bytes are on this device: a library file still of its size, else the cache. */
async function locateTrack(library: LocalLibrary, cacheDir: string, sha256: string): Promise<string | undefined> {
  const t = await library.track(sha256)
  for (const p of t && !t.missing ? t.paths : []) {
    if (await stat(p).then((s) => s.isFile() && s.size === t!.size, () => false)) return p
  }
  const cached = cachePaths(cacheDir, sha256).final
  return (await access(cached).then(() => true, () => false)) ? cached : undefined
}

/**
 * Puts this device's embedded tracker URL and bootstrap address in the roster
 * (admin devices only), replacing the ones it advertised before (and the
 * plain http:// twin of its tracker URL, from before the tracker spoke TLS), and seals
 * the friendship secret of friends whose entry lacks it; one new roster
 * version for all.
 */
async function advertise(home: string, identity: Identity, mine: { tracker?: string; bootstrap?: string }): Promise<Identity> {
  const files = { tracker: join(home, 'embedded-tracker'), bootstrap: join(home, 'embedded-bootstrap') }
  const previous = {
    tracker: (await readFile(files.tracker, 'utf8').catch(() => '')).trim(),
    bootstrap: (await readFile(files.bootstrap, 'utf8').catch(() => '')).trim(),
  }
  const r = identity.roster
  const stale = new Set([previous.tracker, mine.tracker?.replace(/^https:/, 'http:')].filter((u) => u && u !== mine.tracker))
  const trackers = mine.tracker && (!r.trackers.includes(mine.tracker) || r.trackers.some((u) => stale.has(u)))
    ? [...r.trackers.filter((u) => !stale.has(u) && u !== mine.tracker), mine.tracker]
    : r.trackers
  const bootstrap = mine.bootstrap && !r.bootstrap.includes(mine.bootstrap) ? [...r.bootstrap.filter((u) => u !== previous.bootstrap), mine.bootstrap] : r.bootstrap
  let out = identity
  // Friends added before friendship secrets were sealed in the roster get theirs now (saveRoster seals them).
  const unsealed = r.friends.some((f) => !f.secret)
  if (identity.owner && (trackers !== r.trackers || bootstrap !== r.bootstrap || unsealed)) {
    out = await saveRoster(identity, { ...r, seq: r.seq + 1, created: Date.now(), trackers, bootstrap })
  }
  if (mine.tracker) await writeFile(files.tracker, mine.tracker + '\n', { mode: 0o600 })
  if (mine.bootstrap) await writeFile(files.bootstrap, mine.bootstrap + '\n', { mode: 0o600 })
  return out
}

export function startNode(opts: NodeOptions): Promise<Node> {
  return Node.start(opts)
}
