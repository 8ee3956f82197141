// One device's swarm: the peer port, the device channel, and the torrents of
// tracks it serves or fetches. Tracks are served on demand: an incoming
// connection for a known infohash opens that track's torrent then; nothing
// is verified or announced per track at start-up.
import { EventEmitter } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { access, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Roster } from '../identity/index.ts'
import { authenticate, type PeerSession } from './protocol/session.ts'
import type { LocalCredentials } from './protocol/auth.ts'
import { DeviceChannel, deviceChannelInfoHash, LOOKUP_EXTENSION, type DeviceLink } from './device-channel.ts'
import { Torrent } from './torrent.ts'
import { CompleteFile, PartialFile, cachePaths } from './piece-file.ts'
import { encodeInfoDict, metaFromInfoDict, type TorrentMeta } from './torrent-meta.ts'
import { BanList } from './ban-list.ts'

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
}

export class SwarmError extends Error {
  override name = 'SwarmError'
  constructor(
    readonly code: 'ERR_NO_HOLDER' | 'ERR_NOT_RUNNING' | 'ERR_BAD_INFO',
    message: string,
  ) {
    super(message)
  }
}

interface Offer {
  sha256: string
  /** Loaded when a peer first asks: piece hashes are not read at start-up. */
  load: () => Promise<{ meta: TorrentMeta; path: string }>
}

interface Events {
  warning: [err: Error]
  device: [link: DeviceLink]
  'device-gone': [link: DeviceLink]
  refused: [host: string, reason: string]
}

const EXTENSIONS = [LOOKUP_EXTENSION]
const isLoopback = (host: string) => host.startsWith('127.') || host === '::1' || host.startsWith('::ffff:127.')
const ALL_SOURCES_WAIT = 1_000 // ms a whole-track fetch waits for slow holders before starting (a dead one fails faster)

export class Swarm extends EventEmitter<Events> {
  readonly devices: DeviceChannel
  readonly channel: Buffer
  private server: Server | null = null
  private readonly offers = new Map<string, Offer>() // by infohash hex
  private readonly bySha = new Map<string, string>() // sha256 -> infohash hex
  private readonly torrents = new Map<string, Promise<Torrent>>()
  private readonly bans = new BanList()
  private readonly sockets = new Set<Socket>()
  private closed = false
  port = 0

  constructor(private readonly opts: SwarmOptions) {
    super()
    this.channel = deviceChannelInfoHash(opts.circleSecret)
    this.devices = new DeviceChannel({ peerPort: () => this.port, answer: (sha) => this.answer(sha), blob: opts.blob })
    this.devices.on('link', (l) => this.emit('device', l))
    this.devices.on('link-gone', (l) => this.emit('device-gone', l))
  }

  async start(): Promise<number> {
    await this.indexCache()
    const server = createServer((sock) => this.onIncoming(sock))
    server.on('error', (err) => this.emit('warning', err))
    server.listen(this.opts.port ?? 0, this.opts.host ?? '0.0.0.0')
    await once(server, 'listening')
    this.server = server
    this.port = (server.address() as { port: number }).port
    return this.port
  }

  /** Makes a track servable. Nothing is opened until a peer asks for it. */
  offer(meta: TorrentMeta, path: string): void {
    this.offerLazy(meta.infoHash.toString('hex'), meta.sha256, async () => ({ meta, path }))
  }

  /** Like offer(), with the torrent's details loaded only on first use (library tracks). */
  offerLazy(infoHash: string, sha256: string, load: Offer['load']): void {
    this.offers.set(infoHash, { sha256, load })
    this.bySha.set(sha256, infoHash)
  }

  /** Torrents opened so far (served or fetched); offers alone open none. */
  get openTorrents(): number {
    return this.torrents.size
  }

  /** Whether this device holds the track (library or verified cache). */
  holds(sha256: string): boolean {
    return this.bySha.has(sha256)
  }

  // ---- connections -------------------------------------------------------

  private track(sock: Socket): void {
    this.sockets.add(sock)
    sock.on('close', () => this.sockets.delete(sock))
    sock.on('error', () => {})
  }

  private onIncoming(sock: Socket): void {
    const host = sock.remoteAddress ?? ''
    this.track(sock)
    if (this.closed || this.bans.banned(host)) return void sock.destroy()
    const local = isLoopback(host)
    authenticate(sock, {
      credentials: this.opts.credentials,
      roster: this.opts.roster,
      extensions: EXTENSIONS,
      accept: (ih) => (ih.equals(this.channel) || this.offers.has(ih.toString('hex')) || this.torrents.has(ih.toString('hex')) ? {} : null),
    }).then(
      (s) => this.onSession(s),
      (err: Error & { reason?: string }) => {
        const reason = err.reason ?? err.message
        // A dropped connection is not a failed proof; everything else counts.
        // Loopback is exempt: every process on this machine shares it (several
        // devices in one demo), and a local attacker has other ways in anyway.
        if (!reason.startsWith('connection closed') && !local) this.bans.failure(host)
        this.emit('refused', host, reason)
      },
    )
  }

  private onSession(s: PeerSession): void {
    if (this.closed) return void s.wire.destroy()
    if (s.infoHash.equals(this.channel)) {
      this.devices.add(s)
      return
    }
    this.torrentFor(s.infoHash.toString('hex')).then(
      (t) => t.addPeer(s),
      (err: Error) => {
        this.emit('warning', err)
        s.wire.destroy()
      },
    )
  }

  private dial(host: string, port: number, infoHash: Buffer): Promise<PeerSession> {
    const sock = connect(port, host)
    this.track(sock)
    return authenticate(sock, { credentials: this.opts.credentials, roster: this.opts.roster, extensions: EXTENSIONS, infoHash, remote: { host, port } })
  }

  /** Joins another own device's channel (addresses come from trackers, pairing or config). */
  async connectDevice(host: string, port: number): Promise<DeviceLink> {
    const s = await this.dial(host, port, this.channel)
    const link = this.devices.add(s)
    if (link.peerPort === undefined) await once(this.devices, 'link')
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
    let dropped = 0
    for (const link of this.devices.online()) {
      if (isRevoked(link.session.peer.certificate.device)) {
        link.session.wire.destroy()
        dropped++
      }
    }
    for (const t of await Promise.allSettled(this.torrents.values())) {
      if (t.status !== 'fulfilled') continue
      for (const p of t.value.peers) {
        if (isRevoked(p.session.peer.certificate.device)) {
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
      t = offer.load().then(async ({ meta, path }) => this.register(new Torrent(meta, await CompleteFile.open(path, meta))))
      this.torrents.set(ih, t)
      t.catch(() => this.torrents.delete(ih))
    }
    return t
  }

  private register(t: Torrent): Torrent {
    t.on('warning', (err) => this.emit('warning', err))
    t.on('banned', (peer) => {
      if (!isLoopback(peer.remote.host)) this.bans.ban(peer.remote.host)
    })
    return t
  }

  private async answer(sha256: string): Promise<Uint8Array | null> {
    const ih = this.bySha.get(sha256)
    const offer = ih ? this.offers.get(ih) : undefined
    if (!offer) return null
    const { meta } = await offer.load()
    return encodeInfoDict(meta, this.opts.circleSecret)
  }

  /**
   * The torrent of a track: served from here when held, otherwise fetched
   * from the own devices that hold it (found over the device channel).
   */
  async open(sha256: string, opts: { allSources?: boolean } = {}): Promise<Torrent> {
    if (this.closed) throw new SwarmError('ERR_NOT_RUNNING', 'the swarm is stopped')
    const known = this.bySha.get(sha256)
    if (known) return this.torrentFor(known)
    const holders = await this.devices.lookup(sha256)
    let meta: TorrentMeta | undefined
    const sources: DeviceLink[] = []
    for (const h of holders) {
      try {
        const m = metaFromInfoDict(h.info, sha256, this.opts.circleSecret)
        if (meta && !meta.infoHash.equals(m.infoHash)) continue
        meta = m
        sources.push(h.link)
      } catch (err) {
        this.emit('warning', new SwarmError('ERR_BAD_INFO', `${h.link.name} sent a bad info dict: ${(err as Error).message}`))
      }
    }
    if (!meta) throw new SwarmError('ERR_NO_HOLDER', `no online own device holds ${sha256.slice(0, 12)}`)
    const ih = meta.infoHash.toString('hex')
    let t = this.torrents.get(ih)
    if (!t) {
      const m = meta
      t = PartialFile.open(this.opts.cacheDir, m).then((store) => {
        const torrent = this.register(new Torrent(m, store))
        torrent.once('done', (path) => {
          void writeFile(cachePaths(this.opts.cacheDir, m.sha256).final + '.info', encodeInfoDict(m, this.opts.circleSecret)).catch(() => {})
          this.offer(m, path)
        })
        return torrent
      })
      this.torrents.set(ih, t)
    }
    const torrent = await t
    const dials = sources
      .filter((link) => link.peerPort !== undefined)
      .map((link) => this.dial(link.host, link.peerPort!, meta!.infoHash))
    if (opts.allSources) {
      // A whole-track fetch starts once every holder answered (or a moment
      // passed), so the first to connect does not take every piece.
      const settled = Promise.allSettled(dials)
      await Promise.race([settled, new Promise((r) => setTimeout(r, ALL_SOURCES_WAIT).unref())])
    }
    for (const d of dials) d.then((s) => torrent.addPeer(s), (err: Error) => this.emit('warning', err))
    return torrent
  }

  /** Fetches a whole track into the cache; resolves once its SHA-256 is verified. */
  async fetch(sha256: string): Promise<{ path: string; sources: Record<string, number>; ms: number; bytes: number }> {
    const started = performance.now()
    const torrent = await this.open(sha256, { allSources: true })
    let path: string
    if (torrent.complete) path = (await this.offers.get(torrent.meta.infoHash.toString('hex'))!.load()).path
    else [path] = (await once(torrent, 'done')) as [string]
    return { path, sources: torrent.sources(), ms: performance.now() - started, bytes: torrent.meta.size }
  }

  /** Tracks fetched earlier are served again after a restart: their info dicts sit beside them. */
  private async indexCache(): Promise<void> {
    const names = await readdir(this.opts.cacheDir).catch(() => [] as string[])
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      const path = join(this.opts.cacheDir, name)
      try {
        const meta = metaFromInfoDict(await readFile(`${path}.info`), name, this.opts.circleSecret)
        await access(path)
        this.offer(meta, path)
      } catch {
        // an unfinished or foreign file: not served
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.devices.close()
    const torrents = await Promise.allSettled(this.torrents.values())
    await Promise.all(torrents.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)))
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}
