// The paired browser as a live device of the circle (docs/browser.md, "The
// runtime"): it signals through the node that served the page
// (signal.ts), offers WebRTC links to the circle's Node devices (browsers
// offer, Node devices answer: docs/rtc.md), runs the device channel on
// stream 0 of each (hello, pings, lookups answered for tracks the page
// holds), re-offers when a link drops, fetches tracks from the linked
// holders at once into its OPFS store, and serves what it holds on the
// streams a Node device opens to it. dj_auth runs on every stream, signed by
// the device's (WebCrypto) key and bound to that stream.
import { loadFastHashes } from './shims/node-crypto.ts'
import { createOffer, MAX_OFFERS, RtcError, type PeerConnectionFactory, type RtcConnection, type TrackerSignal, type MuxStream } from '../rtc/index.ts'
import {
  authenticateWire, DeviceChannel, deviceChannelInfoHash, LOOKUP_EXTENSION, metaFromInfoDict, streamDuplex, Torrent,
  type DeviceLink, type DeviceSigner, type PeerSession, type TorrentMeta, type VerifiedPeer,
} from '../swarm/browser.ts'
import { verifyRoster, type Roster } from '../identity/browser.ts'
import { Emitter } from '../rtc/index.ts'
import { pageSignal } from './signal.ts'
import { InfoDicts } from './info-dicts.ts'
import type { BrowserTrackStore } from './track-store.ts'
import type { PagePlaylists, PlaylistNotice } from './playlists.ts'
import { takeRoster, type RosterNotice } from './roster-updates.ts'

/** Node devices linked at most (each is a PeerConnection: browsers cap them). */
export const MAX_LINKS = 4
/** ms between rounds that offer to own Node devices not linked (and re-offer to one whose link dropped). */
export const OFFER_ROUND = 15_000
/** Rounds skipped at most while the swarm's count stays as it was when a round linked nothing new. */
export const QUIET_ROUNDS = 8
/** ms a fetch waits for the linked devices to say who holds a track. */
export const FETCH_LOOKUP_TIMEOUT = 5_000
/** Blocks a track wire keeps requested at least (Node keeps 32): bench/browser seeks to 75% p50 ~270-450 ms with 16, ~320-850 ms with 32, under load. */
export const BROWSER_QUEUE_MIN = 16
const RTC_HOST = 'webrtc'

/** What pairing gave this browser (src/ui/device keeps it in IndexedDB): its certificate, roster, circle secret, token and node. */
export interface PairedDevice {
  /** Signs with the device key (a non-extractable WebCrypto key). */
  signer: DeviceSigner
  certificate: Uint8Array
  /** The owner-signed roster, as received. */
  roster: Uint8Array
  circleSecret: Uint8Array
  /** This browser's API token on `node`: it opens the signaling relay. */
  token: string
  /** The origin of the node that paired it (and carries its signaling). */
  node: string
}

export interface BrowserDeviceOptions {
  device: PairedDevice
  store: BrowserTrackStore
  /** Default: the page's RTCPeerConnection. */
  peerConnection?: PeerConnectionFactory
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>
  maxLinks?: number
  roundMs?: number
  rttPingMs?: number
  answerTimeoutMs?: number
  /** A tracker of the circle to signal at (default the node's first). */
  tracker?: string
  /**
   * Start without waiting for signaling: a join that fails is a warning and
   * is retried every round, and the tracks held whole play meanwhile (the
   * page with its node offline). Default false: start rejects then.
   */
  joinLater?: boolean
  /**
   * Keeps a newer roster a linked device told of (its owner-signed bytes),
   * so the next page load starts from it (the app writes it into the
   * device's IndexedDB record). Without it, the roster is taken in again
   * from the first link after a reload.
   */
  onRoster?: (signed: Uint8Array) => Promise<void>
  /**
   * This page's playlists (playlists.ts): its root is sent to every device
   * on linking and after each edit, its blobs are served on the device
   * channel, and the roots linked devices announce are taken in.
   */
  playlists?: PagePlaylists
}

export interface LinkView {
  name: string
  device: string
  path: 'webrtc'
  rttMs?: number
  setupMs: number
}

export interface FetchResult {
  sha256: string
  /** opfs:<store>/<sha256> */
  path: string
  /** Bytes per device name, as /api/streams reports them. */
  sources: Record<string, number>
}

interface Events {
  link: [link: LinkView]
  'link-gone': [link: LinkView]
  /** A stream a device opened was refused, or a link could not be made. */
  warning: [err: Error]
  /** A newer roster was taken in (a device paired or revoked since). */
  roster: [roster: Roster]
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

export class BrowserDevice extends Emitter<Events> {
  /** The roster this page trusts: pairing's, then any newer one a linked device told of (roster-updates.ts). */
  roster: Roster
  readonly self: string
  private readonly channel: DeviceChannel
  private readonly channelHash: Uint8Array
  private readonly conns = new Map<DeviceLink, RtcConnection>()
  /** Tracks being fetched, with their torrents (sources per device). */
  private readonly fetching = new Map<string, Torrent>()
  /** Torrents serving held tracks to devices, by infohash (hex). */
  private readonly seeding = new Map<string, Promise<Torrent>>()
  /** Tracks opened for the player (`open`), fetched or read from the store. */
  private readonly playing = new Map<string, Torrent>()
  private signal: TrackerSignal | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private offering = false
  /** The swarm's count when a round last offered and linked nothing new, and the rounds skipped since. */
  private quiet: { others: number; rounds: number } | undefined
  private closed = false
  private readonly published = (n: PlaylistNotice) => this.channel.notify(n)
  private readonly playlistWarning = (err: Error) => this.emit('warning', err)

  private constructor(
    private opts: BrowserDeviceOptions,
    private readonly dicts: InfoDicts,
  ) {
    super()
    // The shared code takes Buffers (Node's API, the buffer package in the page); IndexedDB gives Uint8Arrays.
    const d = opts.device
    opts = this.opts = { ...opts, device: { ...d, certificate: Buffer.from(d.certificate), roster: Buffer.from(d.roster), circleSecret: Buffer.from(d.circleSecret) } }
    this.roster = verifyRoster(opts.device.roster)
    this.channelHash = deviceChannelInfoHash(opts.device.circleSecret)
    this.self = hex(opts.device.signer.publicKey)
    this.channel = new DeviceChannel({
      peerPort: () => 0,
      answer: async (sha256) => (this.opts.store.has(sha256) ? (this.dicts.get(sha256) ?? null) : null),
      blob: async (id) => this.opts.playlists?.blob(id),
      ...(opts.rttPingMs ? { rttPingMs: opts.rttPingMs } : {}),
    })
    this.channel.on('link-gone', (l: DeviceLink) => this.emit('link-gone', this.view(l)))
    // A newer roster (a device paired or revoked since this page paired): from the notifier first.
    this.channel.on('notice', (link, n) => {
      if (n.kind !== 'roster' || n.seq <= this.roster.seq) return
      this.takeRoster(n, link).catch((err: Error) => this.emit('warning', new Error(`refused a roster from ${link.name}: ${err.message}`)))
    })
    const playlists = opts.playlists
    if (playlists) {
      playlists.on('published', this.published)
      playlists.on('warning', this.playlistWarning)
      // A linked device published: its root (and the playlists it names) from it first, then any other link.
      this.channel.on('notice', (link, n) => {
        const fetch = async (id: string) => (await this.channel.fetchBlob(id, [link]))?.data ?? null
        playlists.take(n, fetch).catch((err: Error) => this.emit('warning', err))
      })
    }
  }

  /**
   * Joins signaling through the node and links to the circle's Node devices;
   * resolves once the tracker admitted this device (links come after), or at
   * once with `joinLater` (the rounds join).
   */
  static async start(opts: BrowserDeviceOptions): Promise<BrowserDevice> {
    await loadFastHashes() // every fetched byte is hashed on this thread: WebAssembly's speed, not JavaScript's
    const dicts = await InfoDicts.open(opts.store.name)
    const d = new BrowserDevice(opts, dicts)
    if (opts.joinLater) {
      void d.round()
      return d
    }
    try {
      await d.join()
    } catch (err) {
      d.close()
      throw err
    }
    void d.round()
    return d
  }

  private rosterTaking: Promise<unknown> = Promise.resolve()

  /** Takes a newer roster in (one at a time): trusted from now on, kept, and its revocations applied to the links. */
  private takeRoster(n: RosterNotice, link: DeviceLink): Promise<unknown> {
    this.rosterTaking = this.rosterTaking.then(async () => {
      if (this.closed || n.seq <= this.roster.seq) return
      const fetch = async (id: string) => (await this.channel.fetchBlob(id, [link]))?.data ?? null
      const got = await takeRoster(n, this.roster, this.opts.device.circleSecret, fetch)
      if (!got || got.roster.seq <= this.roster.seq || this.closed) return
      this.roster = got.roster
      this.quiet = undefined // a device paired since is worth an offer
      this.opts.device = { ...this.opts.device, roster: Buffer.from(got.signed) }
      this.opts.playlists?.setRoster(got.roster)
      await this.opts.onRoster?.(got.signed).catch((err: Error) => this.emit('warning', new Error(`the new roster was not kept: ${err.message}`)))
      this.emit('roster', got.roster)
      const revoked = new Set(got.roster.revoked.map(hex))
      // (Node devices cut a revoked browser's links before they tell anyone, so this is seldom met.)
      if (revoked.has(this.self)) {
        this.emit('warning', new Error('this browser was revoked from the circle: it links to no device any more'))
        return this.close()
      }
      // Links to devices revoked now end (their wires' proofs were checked against the roster of then).
      for (const [l, conn] of this.conns) if (revoked.has(l.device)) conn.close()
    })
    return this.rosterTaking
  }

  /** The devices linked now. */
  links(): LinkView[] {
    return this.channel.online().map((l) => this.view(l))
  }

  /** Per track being fetched, bytes per source device. */
  streams(): Array<{ sha256: string; sources: Record<string, number> }> {
    return [...this.fetching].map(([sha256, t]) => ({ sha256, sources: t.sources() }))
  }

  /** Offers now to the own Node devices not linked (a round runs every `roundMs` anyway). */
  async offer(): Promise<LinkView[]> {
    if (this.offering || this.closed) return []
    this.offering = true
    try {
      return (await this.offerRound()).map((l) => this.view(l))
    } finally {
      this.offering = false
    }
  }

  /**
   * A WebRTC connection this page offered over other signaling (handed over
   * by hand, as a test does): linked as the rounds' links are (dj_auth on
   * stream 0, one link per device), or refused and closed.
   */
  async adopt(conn: RtcConnection): Promise<LinkView> {
    return this.view(await this.link(conn))
  }

  /**
   * The track into the page's store, from every linked device that holds it
   * at once: each piece SHA-1-checked, the whole SHA-256 checked by the store.
   */
  async fetch(sha256: string, opts: { lookupTimeoutMs?: number } = {}): Promise<FetchResult> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError('a track is named by its SHA-256 (64 hex)')
    const store = this.opts.store
    if (store.has(sha256)) return { sha256, path: `opfs:${store.name}/${sha256}`, sources: {} }
    const { torrent, done } = await this.begin(sha256, opts.lookupTimeoutMs)
    try {
      const path = await done
      return { sha256, path, sources: torrent.sources() }
    } finally {
      this.fetching.delete(sha256)
      await torrent.close()
    }
  }

  /** Starts fetching the track into the store from the linked holders; `done` settles when it is whole (its info dict kept: served from then on). */
  private async begin(sha256: string, lookupTimeoutMs?: number): Promise<{ torrent: Torrent; done: Promise<string> }> {
    const store = this.opts.store
    const holders = (await this.channel.lookup(sha256, lookupTimeoutMs ?? FETCH_LOOKUP_TIMEOUT)).filter((h) => this.conns.has(h.link))
    if (holders.length === 0) throw new RtcError('ERR_CONNECT', 'no linked device holds this track')
    const info = holders[0]!.info
    const meta = metaFromInfoDict(info, sha256, this.opts.device.circleSecret)
    const same = holders.filter((h) => {
      try {
        return Buffer.from(metaFromInfoDict(h.info, sha256, this.opts.device.circleSecret).infoHash).equals(meta.infoHash)
      } catch {
        return false
      }
    })
    // A smaller request queue than Node's (16 blocks a wire, not 32): on a short path a
    // seek waits behind what is queued, and the page, not the path, sets the rate.
    const torrent = new Torrent(meta, await store.fetchInto(meta), { queueMin: BROWSER_QUEUE_MIN })
    this.fetching.set(sha256, torrent)
    let dialling = same.length
    const done = new Promise<string>((resolve, reject) => {
      torrent.once('done', resolve)
      torrent.once('failed', reject)
      torrent.once('closed', () => reject(new RtcError('ERR_CLOSED', 'the fetch was stopped')))
      // Every holder gone (or never reached) with the track unfinished: nothing more will come.
      const stranded = () => dialling === 0 && torrent.peerCount === 0 && reject(new RtcError('ERR_CONNECT', 'every device holding this track went away before it was fetched'))
      torrent.on('peer-gone', stranded)
      for (const h of same) {
        this.dial(h.link, meta.infoHash).then(
          (s) => (dialling--, torrent.addPeer(s, h.link.rttMs)),
          (err: Error) => (dialling--, this.emit('warning', err), stranded()),
        )
      }
    }).then(async (path) => {
      await this.dicts.put(sha256, info)
      return path
    })
    done.catch(() => {})
    return { torrent, done }
  }

  /**
   * The track as a live Torrent for the player (docs/browser.md, "The page
   * as a device"): from the store when it holds it whole, else fetched into
   * the store from every linked holder at once, read while it comes (the
   * player's reads put their pieces first). Once whole it is held and served
   * to the circle as a fetched track is. Open until `release` or `close`,
   * or until its fetch fails (it is closed then: 'closed').
   */
  async open(sha256: string, opts: { lookupTimeoutMs?: number } = {}): Promise<Torrent> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError('a track is named by its SHA-256 (64 hex)')
    const had = this.playing.get(sha256)
    if (had) return had
    const store = this.opts.store
    const info = this.dicts.get(sha256)
    if (store.has(sha256) && info) {
      const meta = metaFromInfoDict(info, sha256, this.opts.device.circleSecret)
      const torrent = new Torrent(meta, await store.open(meta))
      this.playing.set(sha256, torrent)
      return torrent
    }
    const { torrent, done } = await this.begin(sha256, opts.lookupTimeoutMs)
    this.playing.set(sha256, torrent)
    done.then(
      () => this.fetching.delete(sha256),
      (err: Error) => {
        // Closed: the player's reads stop waiting, and the next open starts again (the pieces held are kept).
        this.fetching.delete(sha256)
        if (this.playing.get(sha256) === torrent) this.playing.delete(sha256)
        void torrent.close()
        this.emit('warning', err)
      },
    )
    return torrent
  }

  /** Closes the Torrent `open` gave for this track (its store entry may be evicted again). */
  async release(sha256: string): Promise<void> {
    const t = this.playing.get(sha256)
    this.playing.delete(sha256)
    this.fetching.delete(sha256)
    await t?.close()
  }

  /** Serves a track the store holds complete (one fetched outside `fetch`): lookups find it from now on. */
  async hold(sha256: string, infoDict: Uint8Array): Promise<void> {
    metaFromInfoDict(infoDict, sha256, this.opts.device.circleSecret)
    if (!this.opts.store.has(sha256)) throw new RangeError('the store does not hold this track complete')
    await this.dicts.put(sha256, infoDict)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    this.signal?.close()
    this.channel.close()
    for (const c of this.conns.values()) c.close()
    this.conns.clear()
    for (const t of this.fetching.values()) void t.close()
    for (const t of this.playing.values()) void t.close()
    for (const t of this.seeding.values()) void t.then((x) => x.close(), () => {})
    this.opts.playlists?.off('published', this.published).off('warning', this.playlistWarning)
    this.dicts.close()
  }

  private view(l: DeviceLink): LinkView {
    return { name: l.name, device: l.device, path: 'webrtc', ...(l.rttMs !== undefined ? { rttMs: l.rttMs } : {}), setupMs: l.setupMs ?? 0 }
  }

  private async join(): Promise<void> {
    const d = this.opts.device
    const signal = await pageSignal({ node: d.node, token: d.token, signer: d.signer, certificate: d.certificate, infoHash: this.channelHash, ...(this.opts.tracker ? { tracker: this.opts.tracker } : {}) })
    if (this.closed) return void signal.close()
    this.signal = signal
    signal.on('warning', (err) => this.emit('warning', err))
    // Browsers do not answer (docs/rtc.md): an offer forwarded here is left to time out.
    signal.once('close', () => {
      if (this.signal === signal) this.signal = undefined
    })
  }

  /** Own Node devices (not this one, not browsers, not revoked) this page is not linked to. */
  private missing(): number {
    const linked = new Set(this.channel.online().map((l) => l.device))
    const revoked = new Set(this.roster.revoked.map(hex))
    return this.roster.devices.filter((c) => c.role !== 'browser' && !revoked.has(hex(c.device)) && !linked.has(hex(c.device))).length
  }

  private async round(): Promise<void> {
    if (this.closed) return
    try {
      if (!this.signal) await this.join()
      await this.offer()
    } catch (err) {
      this.emit('warning', err as Error)
    }
    if (this.closed) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.round(), this.opts.roundMs ?? OFFER_ROUND)
  }

  private async offerRound(): Promise<DeviceLink[]> {
    const signal = this.signal
    const linked = this.channel.online().length
    const missing = Math.min(this.missing(), (this.opts.maxLinks ?? MAX_LINKS) - linked)
    if (!signal || missing <= 0) return []
    // A device of the roster is off, and the swarm is as it was when a round last linked
    // nothing new: offers would only reach linked devices, a throwaway connection each round
    // on a phone's battery. A plain announce (one message) counts the swarm afresh; every
    // QUIET_ROUNDS the page offers anyway, in case one peer left and another came between two
    // counts. (The count cannot be compared with the links: a Node device is in the swarm twice,
    // its TCP announce and its WebRTC one.)
    const others = await signal.recount(this.opts.answerTimeoutMs).catch(() => undefined)
    if (others !== undefined && this.quiet?.others === others && this.quiet.rounds < QUIET_ROUNDS) {
      this.quiet.rounds++
      return []
    }
    // The tracker hands each offer to a peer of the swarm it picks at random, other browsers
    // (which never answer) and devices linked already among them: with one offer per missing
    // device, a second page in the swarm made a missing device wait round after round. One
    // offer per other peer the tracker counts reaches each of them (docs/rtc.md).
    const count = Math.min(MAX_OFFERS, Math.max(missing, signal.others ?? 0))
    const rtc = { peerConnection: this.opts.peerConnection ?? ((c: { iceServers: unknown[] }) => new RTCPeerConnection(c as RTCConfiguration) as never), ...(this.opts.iceServers ? { iceServers: this.opts.iceServers } : {}) }
    const offers = await Promise.all(Array.from({ length: count }, () => createOffer(rtc)))
    let answers
    try {
      answers = await signal.offer(offers.map((o) => o.sdp), { device: this.self, ...(this.opts.answerTimeoutMs ? { timeoutMs: this.opts.answerTimeoutMs } : {}) })
    } catch (err) {
      offers.forEach((o) => o.cancel())
      throw err
    }
    const links = await Promise.all(
      answers.map(async (answer, i) => {
        const pending = offers[i]!
        try {
          const a = await answer
          if (!a) return (pending.cancel(), null)
          return await this.link(await pending.accept(a.sdp))
        } catch (err) {
          // A round's spare offers (one per peer of the swarm) reach linked devices too: not a fault.
          if (!(err as { linked?: boolean }).linked) this.emit('warning', err as Error)
          return null
        }
      }),
    )
    const made = links.filter((l): l is DeviceLink => l !== null)
    this.quiet = others !== undefined && made.length === 0 ? { others, rounds: 0 } : undefined
    return made
  }

  /** dj_auth on a new stream of `conn`, bound to it. */
  private auth(conn: RtcConnection, stream: MuxStream, outgoing: { infoHash: Uint8Array; allow: (p: VerifiedPeer) => boolean } | null): Promise<PeerSession> {
    const d = this.opts.device
    return authenticateWire(
      streamDuplex(stream),
      {
        credentials: { signer: d.signer, certificate: d.certificate },
        roster: () => this.roster,
        extensions: [LOOKUP_EXTENSION],
        ...(outgoing
          ? { infoHash: Buffer.from(outgoing.infoHash), allow: outgoing.allow }
          : { accept: (ih: Buffer) => (this.served(ih) ? {} : null) }),
      },
      { binding: () => conn.binding(stream.id), remote: { host: RTC_HOST, port: stream.id } },
    )
  }

  /** A connection whose data channel opened: the device channel on stream 0, then its streams taken. */
  private async link(conn: RtcConnection): Promise<DeviceLink> {
    const ownNode = (p: VerifiedPeer) => p.kind === 'own' && p.certificate.role !== 'browser' && hex(p.certificate.device) !== this.self
    let link: DeviceLink
    try {
      const session = await this.auth(conn, conn.mux.open(), { infoHash: this.channelHash, allow: ownNode })
      const device = hex(session.peer.certificate.device)
      // The tracker may hand an offer to a device linked already: one link per device, and at most maxLinks.
      const linked = this.channel.online().some((l) => l.device === device)
      if (linked || this.channel.online().length >= (this.opts.maxLinks ?? MAX_LINKS)) {
        const why = linked ? `${session.peer.certificate.name} is linked already` : `${this.opts.maxLinks ?? MAX_LINKS} devices are linked already`
        throw Object.assign(new RtcError('ERR_CONNECT', why), { linked: true })
      }
      link = this.channel.add(session, { path: 'webrtc' })
      link.setupMs = conn.setupMs
      this.conns.set(link, conn)
      session.wire.once('close', () => {
        this.conns.delete(link)
        conn.close()
        // Re-offer soon: the device may be back (a restart) or reachable again, whatever the swarm's count says.
        this.quiet = undefined
        if (!this.closed) {
          clearTimeout(this.timer)
          this.timer = setTimeout(() => void this.round(), Math.min(1_000, this.opts.roundMs ?? OFFER_ROUND))
        }
      })
      await this.channel.ready(link)
    } catch (err) {
      conn.close()
      throw err
    }
    conn.mux.on('stream', (stream) => void this.incoming(conn, stream))
    // As a Node device does on every new link: our current root, so edits made while apart go out now.
    const root = this.opts.playlists?.notice()
    if (root) this.channel.notify(root, [link])
    this.emit('link', this.view(link))
    return link
  }

  /** A stream a linked device opened: a track this page serves, authenticated and admitted like any wire. */
  private async incoming(conn: RtcConnection, stream: MuxStream): Promise<void> {
    let session: PeerSession
    try {
      session = await this.auth(conn, stream, null)
    } catch (err) {
      return void this.emit('warning', new Error(`refused stream ${stream.id}: ${(err as { reason?: string }).reason ?? (err as Error).message}`))
    }
    try {
      const torrent = await this.seed(session.infoHash)
      torrent.addPeer(session)
    } catch (err) {
      session.wire.destroy()
      this.emit('warning', err as Error)
    }
  }

  /** The held track with this infohash, if any. */
  private served(infoHash: Uint8Array): { sha256: string; meta: TorrentMeta } | null {
    const want = hex(infoHash)
    for (const t of this.opts.store.tracks()) {
      if (!t.complete) continue
      const info = this.dicts.get(t.sha256)
      if (!info) continue
      const meta = metaFromInfoDict(info, t.sha256, this.opts.device.circleSecret)
      if (hex(meta.infoHash) === want) return { sha256: t.sha256, meta }
    }
    return null
  }

  private seed(infoHash: Uint8Array): Promise<Torrent> {
    const key = hex(infoHash)
    let t = this.seeding.get(key)
    if (!t) {
      const found = this.served(infoHash)
      if (!found) return Promise.reject(new RtcError('ERR_CLOSED', 'this track is no longer held here'))
      t = this.opts.store.open(found.meta).then((source) => {
        const torrent = new Torrent(found.meta, source)
        // Served while some device reads it: the store may evict a track only when no Torrent has it open.
        torrent.on('peer-gone', () => {
          if (torrent.peerCount > 0 || this.seeding.get(key) !== t) return
          this.seeding.delete(key)
          void torrent.close()
        })
        return torrent
      })
      t.catch(() => this.seeding.delete(key))
      this.seeding.set(key, t)
    }
    return t
  }

  /** A wire to a linked holder for a track: another stream of its data channel. */
  private dial(link: DeviceLink, infoHash: Uint8Array): Promise<PeerSession> {
    const conn = this.conns.get(link)
    if (!conn) return Promise.reject(new RtcError('ERR_CLOSED', `${link.name} is not linked`))
    return this.auth(conn, conn.mux.open(), { infoHash, allow: (p) => p.kind === 'own' && hex(p.certificate.device) === link.device })
  }
}
