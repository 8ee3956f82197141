// The node: one device's running djcloud. It wires identity, library, swarm,
// discovery, the embedded tracker (when this device serves the circle) and
// the local API together, and owns the home's LevelDB while it runs.
import { join } from 'node:path'
import { readFile, writeFile } from 'node:fs/promises'
import { encodeCertificate, lanAddress, loadIdentity, saveRoster, verifyRoster, type Identity, type Roster } from '../identity/index.ts'
import { LocalLibrary, openLibrary, type Library, type ScanOptions } from '../library/index.ts'
import { Swarm, metaFromTrack } from '../swarm/index.ts'
import { announceSigner } from '../swarm/announce.ts'
import { createApiServer, firstTrackSource, LocalFileTrackSource, loadOrCreateApiToken, type ApiServer } from '../player/index.ts'
import { createAdmissionTracker, loadOrCreateTrackerToken, type AdmissionTracker } from '../../tracker/index.ts'
import { homePaths } from '../home.ts'
import { Discovery, type Address } from './discovery.ts'
import { SwarmTrackSource } from './swarm-track-source.ts'
import { nodeRoutes } from './routes.ts'
import { removeNodeInfo, writeNodeInfo, type NodeInfo } from './node-file.ts'

/** Default ports, chosen clear of BitTorrent's 6881-6889 and common dev servers. */
export const DEFAULT_PORTS = { peer: 7461, api: 7462, tracker: 7463 } as const
const ROSTER_RELOAD = 5_000 // ms: `djcloud trust revoke` on this home takes effect within this

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
  onWarning?: (err: Error) => void
}

export class Node {
  private constructor(
    readonly home: string,
    private identity: Identity,
    readonly library: LocalLibrary,
    readonly swarm: Swarm,
    readonly api: ApiServer,
    readonly discovery: Discovery,
    readonly tracker: AdmissionTracker | null,
    readonly info: NodeInfo,
    private readonly reload: NodeJS.Timeout,
  ) {}

  get roster(): Roster {
    return this.identity.roster
  }

  static async start(opts: NodeOptions): Promise<Node> {
    const home = opts.home
    let identity = await loadIdentity(home)
    const warn = opts.onWarning ?? (() => {})
    const library = (await openLibrary(home, { circleSecret: identity.circleSecret })) as LocalLibrary
    const cleanup: Array<() => Promise<unknown>> = [() => library.close()]
    // Assigned once everything is up; closures below read the live roster through it.
    let node: Node | undefined
    try {
      // The circle's tracker: our own when we serve the circle.
      let tracker: AdmissionTracker | null = null
      let trackerUrl: string | undefined
      const wantTracker = opts.tracker !== undefined ? opts.tracker !== false : !!identity.owner && identity.roster.trackers.length === 0 && !opts.trackers?.length
      if (wantTracker) {
        const t = opts.tracker || {}
        tracker = createAdmissionTracker({ roster: identity.roster, token: await loadOrCreateTrackerToken(home) })
        tracker.on('warning', warn)
        const { httpPort } = await tracker.listen(t.port ?? DEFAULT_PORTS.tracker, t.host ?? '0.0.0.0')
        cleanup.push(() => tracker!.close())
        trackerUrl = `http://${t.advertise ?? lanAddress()}:${httpPort}/announce`
        // Devices learn the circle's trackers from the roster. This device's
        // previous URL (another port or LAN address) is replaced, not kept.
        const mine = join(home, 'embedded-tracker')
        const previous = (await readFile(mine, 'utf8').catch(() => '')).trim()
        if (identity.owner && !identity.roster.trackers.includes(trackerUrl)) {
          const trackers = [...identity.roster.trackers.filter((u) => u !== previous), trackerUrl]
          identity = await saveRoster(identity, { ...identity.roster, seq: identity.roster.seq + 1, created: Date.now(), trackers })
          tracker.setRoster(identity.roster)
        }
        await writeFile(mine, trackerUrl + '\n', { mode: 0o600 })
      }

      const swarm = new Swarm({
        credentials: { deviceSeed: identity.device.seed, certificate: encodeCertificate(identity.certificate) },
        roster: () => node?.identity.roster ?? identity.roster,
        circleSecret: identity.circleSecret,
        cacheDir: join(home, 'cache'),
        port: opts.peerPort ?? DEFAULT_PORTS.peer,
        host: opts.peerHost ?? '0.0.0.0',
      })
      swarm.on('warning', warn)
      const peerPort = await swarm.start()
      cleanup.push(() => swarm.close())
      await offerLibrary(swarm, library, identity.circleSecret)

      // The API sees a library whose scans also make new tracks servable.
      const served: Library = {
        list: (o) => library.list(o),
        track: (s) => library.track(s),
        stats: () => library.stats(),
        close: async () => {},
        scan: async (roots: string[], o?: Omit<ScanOptions, 'circleSecret'>) => {
          const summary = await library.scan(roots, o)
          await offerLibrary(swarm, library, identity.circleSecret)
          return summary
        },
      }
      const apiHost = opts.apiHost ?? '127.0.0.1'
      const api = createApiServer({
        library: served,
        tracks: firstTrackSource([new LocalFileTrackSource(library), new SwarmTrackSource(swarm)]),
        token: await loadOrCreateApiToken(home),
        allowRemote: !['127.0.0.1', 'localhost', '::1'].includes(apiHost),
        routes: nodeRoutes(swarm),
      })
      const bound = await api.listen(opts.apiPort ?? DEFAULT_PORTS.api, apiHost)
      cleanup.push(() => api.close())

      const discovery = new Discovery({
        swarm,
        home,
        trackers: () => [...new Set([...(opts.trackers ?? []), ...(node?.identity.roster.trackers ?? identity.roster.trackers)])],
        signer: announceSigner(identity),
        self: Buffer.from(identity.device.publicKey).toString('hex'),
        peers: opts.peers,
        onWarning: warn,
      })
      const info: NodeInfo = { pid: process.pid, api: `http://${bound.host}:${bound.port}`, peerPort, tracker: trackerUrl }
      await writeNodeInfo(home, info)
      const reload = setInterval(() => void node?.reloadRoster().catch(warn), ROSTER_RELOAD)
      reload.unref()
      node = new Node(home, identity, library, swarm, api, discovery, tracker, info, reload)
      await discovery.start()
      return node
    } catch (err) {
      for (const fn of cleanup.reverse()) await fn().catch(() => {})
      throw err
    }
  }

  /** Picks up roster changes made on this home (e.g. `djcloud trust revoke`). */
  async reloadRoster(): Promise<void> {
    const bytes = await readFile(join(homePaths(this.home).identity, 'roster'))
    const roster = verifyRoster(bytes, this.identity.certificate.owner)
    if (roster.seq <= this.identity.roster.seq) return
    this.identity = { ...this.identity, roster }
    this.tracker?.setRoster(roster)
    await this.swarm.enforceRoster()
  }

  private closing: Promise<void> | null = null

  /** Graceful shutdown: wires closed, state flushed, node.json removed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reload)
      this.discovery.stop()
      await this.api.close().catch(() => {})
      await this.swarm.close().catch(() => {})
      await this.tracker?.close().catch(() => {})
      await this.library.close().catch(() => {})
      await removeNodeInfo(this.home)
    })()
    return this.closing
  }
}

/** Makes every present library track servable; piece hashes load on first request. */
async function offerLibrary(swarm: Swarm, library: LocalLibrary, circleSecret: Uint8Array): Promise<void> {
  for (const t of await library.list({ includeMissing: false })) {
    if (!t.infohash || swarm.holds(t.sha256)) continue
    swarm.offerLazy(t.infohash, t.sha256, async () => {
      const pieces = await library.pieces(t.sha256)
      if (!pieces) throw new Error(`no piece hashes stored for ${t.sha256}`)
      return { meta: metaFromTrack({ ...t, pieces }, circleSecret), path: t.paths[0]! }
    })
  }
}

export function startNode(opts: NodeOptions): Promise<Node> {
  return Node.start(opts)
}
