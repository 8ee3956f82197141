// The node: one device's running djcloud. It wires identity, library, swarm,
// discovery, the DHT node (the circle's bootstrap when this device serves the
// circle), the embedded tracker, manifests and the local API together, and
// owns the home's LevelDB while it runs.
import { join } from 'node:path'
import { access, readFile, stat, writeFile } from 'node:fs/promises'
import { addDevice, adoptRoster, encodeCertificate, lanAddress, loadIdentity, saveRoster, verifyRoster, type Identity, type Roster } from '../identity/index.ts'
import { LocalLibrary, openLibrary, type Library, type ScanOptions, type TrackRecord } from '../library/index.ts'
import { Swarm, announceSigner, cachePaths, metaFromTrack } from '../swarm/index.ts'
import { createApiServer, firstTrackSource, LocalFileTrackSource, loadOrCreateApiToken, type ApiServer } from '../player/index.ts'
import { createAdmissionTracker, loadOrCreateTrackerToken, type AdmissionTracker } from '../../tracker/index.ts'
import { homePaths } from '../home.ts'
import { Discovery, type Address } from './discovery.ts'
import { nodeRoutes } from './routes.ts'
import { playlistRoutes } from './playlist-routes.ts'
import { cueRoutes } from './cue-routes.ts'
import { cacheRoutes } from './cache-routes.ts'
import { ManifestSync } from './manifest-sync.ts'
import { Sharing } from './sharing.ts'
import { NodeBackups } from './backups.ts'
import { FriendRosters } from './friend-rosters.ts'
import { backupRoutes } from './backup-routes.ts'
import { NodeAnalysis } from './analysis-routes.ts'
import { UiRoutes } from './ui-routes.ts'
import { PullService } from './pull-service.ts'
import { pullNoncesPath } from './pull-request.ts'
import { DhtNode, ManifestBook, ManifestStore, listUnion, parseHostPort, unionTrack, unionTracks, type UnionEntry } from '../manifest/index.ts'
import { removeNodeInfo, writeNodeInfo, type NodeInfo } from './node-file.ts'

/** Default ports, chosen clear of BitTorrent's 6881-6889 and common dev servers. */
export const DEFAULT_PORTS = { peer: 7461, api: 7462, tracker: 7463, dht: 7464 } as const
const ROSTER_RELOAD = 5_000 // ms: `djcloud trust revoke` on this home takes effect within this
const PUBLISH_DURING_ANALYSIS = 60_000 // ms: how often a long analysis run republishes the library manifest

export interface NodeOptions {
  home: string
  peerPort?: number
  peerHost?: string
  apiPort?: number
  /** API address; anything but loopback is remote access and needs the token for every request. */
  apiHost?: string
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
  /** ms between polls of friends' backup pointers (default 10 minutes; also DJCLOUD_BACKUP_POLL_MS). */
  backupPollMs?: number
  /** Analyse new tracks in the background (default true). */
  analyze?: boolean
  /** The built web UI served at / (default: dist/ui of this package; null: none). */
  uiDir?: string | null
  /** Put the API token in the page served to browsers on this machine (default true); see ApiServerOptions.pageToken. */
  pageToken?: boolean
  onWarning?: (err: Error) => void
}

export class Node {
  private constructor(
    readonly home: string,
    private readonly current: { identity: Identity },
    readonly library: LocalLibrary,
    readonly swarm: Swarm,
    readonly api: ApiServer,
    readonly discovery: Discovery,
    readonly tracker: AdmissionTracker | null,
    readonly dht: DhtNode | null,
    readonly book: ManifestBook,
    readonly sync: ManifestSync,
    readonly sharing: Sharing,
    readonly analysis: NodeAnalysis,
    readonly info: NodeInfo,
    private readonly reload: NodeJS.Timeout,
    readonly ui: UiRoutes,
    readonly pulls: PullService,
    readonly backups: NodeBackups,
    readonly friendRosters: FriendRosters,
  ) {}

  private get identity(): Identity {
    return this.current.identity
  }

  get roster(): Roster {
    return this.identity.roster
  }

  static async start(opts: NodeOptions): Promise<Node> {
    const home = opts.home
    const current = { identity: await loadIdentity(home) }
    const id = () => current.identity
    const warn = opts.onWarning ?? (() => {})
    const library = (await openLibrary(home, { circleSecret: id().circleSecret })) as LocalLibrary
    const cleanup: Array<() => Promise<unknown>> = [() => library.close()]
    try {
      const store = await ManifestStore.open(home, id().circleSecret)
      const book = await ManifestBook.open({ store, identity: id })
      book.on('refused', (r) => warn(new Error(`refused a manifest from ${r.source}: ${r.reason} (${r.code})`)))

      // The circle's tracker: our own when we serve the circle.
      let tracker: AdmissionTracker | null = null
      let trackerUrl: string | undefined
      const wantTracker = opts.tracker !== undefined ? opts.tracker !== false : !!id().owner && id().roster.trackers.length === 0 && !opts.trackers?.length
      if (wantTracker) {
        const t = opts.tracker || {}
        tracker = createAdmissionTracker({ roster: id().roster, token: await loadOrCreateTrackerToken(home) })
        tracker.on('warning', warn)
        const { httpPort } = await tracker.listen(t.port ?? DEFAULT_PORTS.tracker, t.host ?? '0.0.0.0')
        cleanup.push(() => tracker!.close())
        trackerUrl = `http://${t.advertise ?? lanAddress()}:${httpPort}/announce`
      }

      // The DHT node. On the device that serves the circle it is the circle's bootstrap node.
      let dht: DhtNode | null = null
      let bootstrapAddress: string | undefined
      if (opts.dht !== false) {
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
        dht = await DhtNode.start({
          port: d.port ?? DEFAULT_PORTS.dht,
          host,
          advertise,
          bootstrap,
          stateFile: join(home, 'dht-state.json'),
          onWarning: warn,
        })
        cleanup.push(() => dht!.close())
        const serveCircle = !!id().owner && (wantTracker || id().roster.bootstrap.length === 0) && !opts.bootstrap?.length
        if (serveCircle) bootstrapAddress = `${advertise}:${dht.port}`
      }

      // Devices learn the circle's tracker and bootstrap addresses from the
      // roster. This device's previous ones (another port or LAN address) are
      // replaced, not kept.
      current.identity = await advertise(home, id(), { tracker: trackerUrl, bootstrap: bootstrapAddress })
      tracker?.setRoster(id().roster)

      let swarmRef: Swarm | undefined
      const sharing = new Sharing({
        identity: id,
        book,
        swarm: () => swarmRef!,
        dht,
        union: () => union(),
        onWarning: warn,
      })
      const envPoll = Number(process.env.DJCLOUD_BACKUP_POLL_MS)
      const backups = new NodeBackups({
        home,
        identity: id,
        swarm: () => swarmRef!,
        dht,
        stores: () => ({ identity: id(), library, store, book }),
        ...(opts.backupPollMs ?? (envPoll > 0 ? envPoll : undefined) ? { pollMs: opts.backupPollMs ?? envPoll } : {}),
        onWarning: warn,
      })
      // Friends' rosters, followed: their owners' revocations hold here too.
      const envRosterPoll = Number(process.env.DJCLOUD_FRIEND_ROSTER_POLL_MS)
      const friendRosters = new FriendRosters({
        home, identity: id, swarm: () => swarmRef!, dht, onWarning: warn, ...(envRosterPoll > 0 ? { pollMs: envRosterPoll } : {}),
      })
      await friendRosters.load()
      await friendRosters.refreshOwn()
      tracker?.setFriendRevoked(friendRosters.revoked)
      const swarm = new Swarm({
        friendRevoked: friendRosters.revoked,
        signedRoster: () => friendRosters.own,
        credentials: { deviceSeed: id().device.seed, certificate: encodeCertificate(id().certificate) },
        roster: () => id().roster,
        circleSecret: id().circleSecret,
        cacheDir: join(home, 'cache'),
        port: opts.peerPort ?? DEFAULT_PORTS.peer,
        host: opts.peerHost ?? '0.0.0.0',
        blob: (blobId) => store.getBlob(blobId),
        sharing,
        backups,
      })
      swarmRef = swarm
      swarm.on('warning', warn)
      const peerPort = await swarm.start()
      cleanup.push(() => swarm.close())
      await offerLibrary(swarm, library, id().circleSecret)

      let node: Node | undefined
      const discovery = new Discovery({
        swarm,
        home,
        dht,
        trackers: () => [...new Set([...(opts.trackers ?? []), ...id().roster.trackers])],
        signer: announceSigner(id()),
        self: Buffer.from(id().device.publicKey).toString('hex'),
        peers: opts.peers,
        onWarning: warn,
      })
      const sync = new ManifestSync({
        identity: id,
        book,
        swarm,
        dht,
        library,
        learn: (a) => discovery.learn(a),
        adoptRoster: async (_roster, signed) => {
          current.identity = await adoptRoster(id(), signed)
          // An admin device recovered from the phrase is not on the roster its
          // lost devices published: it adds itself, as version max + 1.
          const me = id()
          if (me.owner && !me.roster.devices.some((c) => Buffer.from(c.device).equals(me.device.publicKey))) {
            current.identity = await saveRoster(me, addDevice(me.roster, me.certificate))
          }
          await node?.applyRoster()
          await sync.publishRoster()
        },
        onWarning: warn,
      })
      cleanup.push(async () => sync.stop())
      cleanup.push(async () => sharing.stop())
      cleanup.push(async () => backups.stop())
      cleanup.push(async () => friendRosters.stop())
      friendRosters.on('changed', () => {
        tracker?.setFriendRevoked(friendRosters.revoked)
        void swarm.enforceRoster().catch(warn)
      })

      // The API sees the union library; a scan also makes new tracks servable and publishes them.
      // The union is built once and kept until something in it changes: a
      // scan, a manifest taken in, a device coming or going (its online flag).
      let unionCache: Promise<Map<string, UnionEntry>> | null = null
      const unionChanged = () => void (unionCache = null)
      const union = (): Promise<Map<string, UnionEntry>> =>
        (unionCache ??= (async () =>
          unionTracks({
            self: { device: Buffer.from(id().device.publicKey).toString('hex'), name: id().certificate.name },
            local: await library.list(),
            remotes: book.remoteLibraries(),
            online: new Set(swarm.devices.online().map((l) => l.device)),
          }))().catch((err: unknown) => {
          unionCache = null
          throw err
        }))
      book.on('changed', unionChanged)
      swarm.on('device', unionChanged)
      swarm.on('device-gone', unionChanged)
      swarm.on('cached', unionChanged) // a fetched track is whole here now: the listing shows it cached
      swarm.on('evicted', unionChanged) // and no longer, once the cache budget evicted it
      // A library track cached too was offered from the cache (offerLibrary skips what the
      // swarm holds): once that copy is gone, the library copy is offered in its place.
      swarm.on('evicted', (sha) => void offerLibraryTrack(swarm, library, sha, id().circleSecret).catch(warn))
      let lastPublished = Date.now()
      const analysis = new NodeAnalysis({
        library,
        // Looked up per run: the book's view changes as manifests come in.
        shared: (() => {
          let cache: Map<string, import('../manifest/index.ts').ManifestAnalysis> | null = null
          book.on('changed', () => void (cache = null))
          return (audioHash: string) => (cache ??= book.sharedAnalyses()).get(audioHash)
        })(),
        onWarning: warn,
        // Results show in the listing as they come; other devices get them
        // every minute of a long run, and all at its end.
        onProgress: () => {
          unionChanged()
          if (Date.now() - lastPublished < PUBLISH_DURING_ANALYSIS) return
          lastPublished = Date.now()
          void sync.publishLibrary().catch(warn)
        },
        onAnalysed: () => {
          unionChanged()
          lastPublished = Date.now()
          void sync.publishLibrary().catch(warn)
        },
      })
      cleanup.push(() => analysis.close())
      // Another device's manifest may bring analyses of tracks held here: take them in.
      if (opts.analyze !== false) book.on('changed', (kind) => kind === 'library' && analysis.background())
      const served: Library = {
        list: async (o) => listUnion((await union()).values(), o).map(unionTrack),
        track: async (s) => {
          const u = (await union()).get(s)
          return u ? unionTrack(u) : undefined
        },
        stats: () => library.stats(),
        close: async () => {},
        scan: async (roots: string[], o?: Omit<ScanOptions, 'circleSecret'>) => {
          const summary = await library.scan(roots, o).finally(unionChanged)
          await offerLibrary(swarm, library, id().circleSecret)
          await sync.publishLibrary().catch(warn)
          sharing.changed()
          if (opts.analyze !== false) analysis.background()
          return summary
        },
      }
      const ui = new UiRoutes({
        identity: id, swarm, book, library, union, onWarning: warn,
        ...(opts.peerHost ? { pairListen: opts.peerHost } : {}),
        onPaired: async () => node?.reloadRoster(),
      })
      cleanup.push(() => ui.close())
      // Gig preparation: pulls of a playlist here, or asked of / by another own device.
      const pulls = new PullService({
        identity: id, swarm, book, union, onWarning: warn,
        locate: (sha) => locateTrack(library, join(home, 'cache'), sha),
        nonceFile: pullNoncesPath(home),
        // Pulled tracks stay: the cache never evicts a pinned track (`djcloud cache unpin` lets it go).
        pin: (sha) => swarm.cache.pin(sha),
      })
      pulls.start()
      cleanup.push(async () => pulls.stop())
      const apiHost = opts.apiHost ?? '127.0.0.1'
      const api = createApiServer({
        library: served,
        libraryEntries: (o) => ui.entries(o),
        cachedTrack: (sha) => swarm.holds(sha),
        // Wrapped so /api/streams sees every stream and which devices feed it.
        tracks: firstTrackSource([
          ui.streams.local(new LocalFileTrackSource(library)),
          ui.streams.swarm((sha) => swarm.open(sha)),
          ui.streams.swarm((sha) => sharing.open(sha)),
        ]),
        ...(opts.uiDir !== undefined ? { uiDir: opts.uiDir } : {}),
        ...(opts.pageToken === false ? { pageToken: false } : {}),
        token: await loadOrCreateApiToken(home),
        allowRemote: !['127.0.0.1', 'localhost', '::1'].includes(apiHost),
        routes: [
          ...nodeRoutes(swarm),
          ...playlistRoutes({ book, sync, union, sharing }),
          ...analysis.routes(),
          ...cueRoutes({ library, book, sync, union }),
          ...cacheRoutes(swarm),
          ...ui.routes(),
          ...pulls.routes(),
          ...backupRoutes(backups),
        ],
      })
      const bound = await api.listen(opts.apiPort ?? DEFAULT_PORTS.api, apiHost)
      cleanup.push(() => api.close())

      const info: NodeInfo = {
        pid: process.pid,
        api: `http://${bound.host}:${bound.port}`,
        peerPort,
        tracker: trackerUrl,
        ...(dht ? { dhtPort: dht.port } : {}),
        ...(bootstrapAddress ? { bootstrap: bootstrapAddress } : {}),
      }
      await writeNodeInfo(home, info)
      const reload = setInterval(() => void node?.reloadRoster().catch(warn), ROSTER_RELOAD)
      reload.unref()
      node = new Node(home, current, library, swarm, api, discovery, tracker, dht, book, sync, sharing, analysis, info, reload, ui, pulls, backups, friendRosters)
      await discovery.start()
      await sync.start()
      sharing.start()
      backups.start()
      friendRosters.start()
      if (opts.analyze !== false) analysis.background()
      return node
    } catch (err) {
      for (const fn of cleanup.reverse()) await fn().catch(() => {})
      throw err
    }
  }

  /** Picks up roster changes made on this home (e.g. `djcloud trust revoke`, pairing). */
  async reloadRoster(): Promise<void> {
    const bytes = await readFile(join(homePaths(this.home).identity, 'roster'))
    const roster = verifyRoster(bytes, this.identity.certificate.owner)
    if (roster.seq <= this.identity.roster.seq) return
    this.current.identity = { ...this.identity, roster }
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

  private closing: Promise<void> | null = null

  /** Graceful shutdown: wires closed, state flushed, node.json removed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reload)
      this.pulls.stop()
      this.sync.stop()
      this.sharing.stop()
      this.backups.stop()
      this.friendRosters.stop()
      await this.analysis.close()
      await this.ui.close()
      this.discovery.stop()
      await this.api.close().catch(() => {})
      await this.swarm.close().catch(() => {})
      await this.tracker?.close().catch(() => {})
      await this.dht?.close().catch(() => {})
      await this.library.close().catch(() => {})
      await removeNodeInfo(this.home)
    })()
    return this.closing
  }
}

/** Makes every present library track servable; piece hashes load on first request. */
async function offerLibrary(swarm: Swarm, library: LocalLibrary, circleSecret: Uint8Array): Promise<void> {
  for (const t of await library.list({ includeMissing: false })) offerTrack(swarm, library, t, circleSecret)
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
 * (admin devices only), replacing the ones it advertised before, and seals
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
  const trackers = mine.tracker && !r.trackers.includes(mine.tracker) ? [...r.trackers.filter((u) => u !== previous.tracker), mine.tracker] : r.trackers
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
