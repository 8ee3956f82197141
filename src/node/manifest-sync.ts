// Keeps the manifest book in step with the other own devices while the node
// runs. Two paths, both verified the same way by the book:
// - push: a device that publishes tells its linked devices at once (a notice
//   over the device channel) and they fetch the blobs from it;
// - pull: the DHT, polled regularly and whenever a device link comes up, has
//   each device's pointers (and the roster under the owner key), so versions
//   published while two devices were apart are found after either restarts.
// Our own items are re-put every 30-60 minutes (BEP 44 items expire).
// A browser device has no DHT item: its library root travels by notice over
// its links only, so this device passes on the roots of browsers it took in
// (to its other links when one arrives, and to every device that links), and
// serves their blobs from its home as any other it holds.
import { EventEmitter } from 'node:events'
import type { Identity, Roster } from '../identity/index.ts'
import { waveformLevels, type LocalLibrary, type TrackRecord } from '../library/index.ts'
import {
  manifestSalt, type BlobFetcher, type DhtNode, type ManifestAnalysis, type ManifestBook, type ManifestTrack, type Publication, type ManifestKind,
} from '../manifest/index.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../swarm/index.ts'
import type { Address } from './discovery.ts'

export const POLL_INTERVAL = 60_000 // ms between DHT checks for newer versions
export const MANIFEST_REPUT = 30 * 60_000 // ms before our items are put again: BEP 44 items expire after about two hours
export const MANIFEST_REPUT_JITTER = 30 * 60_000 // ms, random, added to MANIFEST_REPUT so devices do not re-put in step
export const PUBLISH_DELAY = 200 // ms: a scan's or a burst of edits' changes go out as one version
export const LINK_WAIT = 2_000 // ms to wait for devices found on the DHT to link
const MAX_TAKEN = 10_000 // versions remembered as taken in (then forgotten, harmlessly)

export interface ManifestSyncOptions {
  identity: () => Identity
  book: ManifestBook
  swarm: Swarm
  dht: DhtNode | null
  library: LocalLibrary
  /** A newer roster arrived: store it and apply it (tracker, wires). */
  adoptRoster: (roster: Roster, signed: Uint8Array) => Promise<void>
  /** Device addresses found on the DHT, to be dialled. */
  learn?: (a: Address) => void
  /** ms between DHT checks for newer versions (default POLL_INTERVAL). */
  pollMs?: number
  /** ms changes to the library are gathered into one version (default PUBLISH_DELAY). */
  publishDelayMs?: number
  /** ms a blob fetch waits for devices found on the DHT to link (default LINK_WAIT). */
  linkWaitMs?: number
  /** ms before our items are put again, plus up to `reputJitterMs` at random (defaults MANIFEST_REPUT, MANIFEST_REPUT_JITTER). */
  reputMs?: number
  reputJitterMs?: number
  onWarning?: (err: Error) => void
}

interface Events {
  published: [p: Publication, stored: number]
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export function toManifestTrack(t: TrackRecord, overview?: ManifestAnalysis['overview']): ManifestTrack {
  const { hasCover, comment: _c, codec: _k, ...tags } = t.tags
  const out: ManifestTrack = { sha256: t.sha256, audioHash: t.audioHash, size: t.size, format: t.format, tags: { ...tags, ...(hasCover ? { hasCover } : {}) } }
  if (t.analysis) out.analysis = { ...t.analysis, ...(overview ? { overview } : {}) }
  return out
}

/** The coarsest waveform level of an analysed recording, to ship in the manifest. */
async function overviewOf(library: LocalLibrary, audioHash: string): Promise<ManifestAnalysis['overview']> {
  const w = await library.waveformOf(audioHash)
  const level = w && [...waveformLevels(w)].sort((a, b) => a.columns - b.columns)[0]
  return level && level.columns <= 512 ? level : undefined
}

export class ManifestSync extends EventEmitter<Events> {
  private pollTimer: NodeJS.Timeout | null = null
  private reputTimer: NodeJS.Timeout | null = null
  private publishTimer: NodeJS.Timeout | null = null
  private stopped = false
  /** Versions (root infohashes) being taken in, and taken in already. */
  private readonly taking = new Map<string, Promise<boolean>>()
  private readonly taken = new Set<string>()

  constructor(private readonly opts: ManifestSyncOptions) {
    super()
    opts.swarm.devices.on('notice', (link, n) => void this.onNotice(link, n).catch((e) => this.warn(e)))
    opts.swarm.devices.on('link', (link) => void this.onLink(link).catch((e) => this.warn(e)))
  }

  private get id(): Identity {
    return this.opts.identity()
  }

  private warn(err: unknown): void {
    this.opts.onWarning?.(err as Error)
  }

  private started = false

  /** Publishes the roster and library, then polls. Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started || this.stopped) return
    this.started = true
    await this.publishRoster()
    await this.publishLibrary()
    if (this.stopped || signal?.aborted) return
    void this.poll().catch((e) => this.warn(e))
    this.pollTimer = setInterval(() => void this.poll().catch((e) => this.warn(e)), this.opts.pollMs ?? POLL_INTERVAL)
    this.pollTimer.unref()
    this.scheduleReput()
  }

  stop(): void {
    this.stopped = true
    for (const t of [this.pollTimer, this.publishTimer]) if (t) clearInterval(t)
    if (this.reputTimer) clearTimeout(this.reputTimer)
  }

  /** Names of the own devices linked now. */
  linkedDevices(): string[] {
    return this.opts.swarm.devices.online().map((l) => l.name)
  }

  // ---- publishing -------------------------------------------------------

  /** Publishes the library root soon (several changes in a row make one version). */
  libraryChanged(): void {
    if (this.stopped || this.publishTimer) return
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null
      void this.publishLibrary().catch((e) => this.warn(e))
    }, this.opts.publishDelayMs ?? PUBLISH_DELAY)
    this.publishTimer.unref()
  }

  /** Publishes the library root if it changed; linked devices are told at once, the DHT put runs on. */
  async publishLibrary(): Promise<Publication | null> {
    const tracks: ManifestTrack[] = []
    for (const t of await this.opts.library.list({ includeMissing: false })) {
      tracks.push(toManifestTrack(t, t.analysis ? await overviewOf(this.opts.library, t.audioHash) : undefined))
    }
    const p = await this.opts.book.publishLibrary(tracks, await this.opts.library.allCueEdits(), await this.opts.library.allNoteEdits())
    if (p) void this.announce(p)
    return p
  }

  async publishRoster(): Promise<Publication | null> {
    const p = await this.opts.book.publishRoster()
    if (p) void this.announce(p)
    return p
  }

  /** After a playlist edit: its own item, then the library root that lists it. */
  async publishPlaylist(p: Publication): Promise<number> {
    const stored = await this.announce(p)
    await this.publishLibrary()
    return stored
  }

  private saltFor(p: { kind: ManifestKind; name?: string }): Buffer {
    return manifestSalt(this.id.circleSecret, p.kind, p.name)
  }

  /**
   * Tells linked devices, and puts the pointer on the DHT; resolves with the
   * number of DHT nodes that stored it. Never rejects (a DHT failure is a
   * warning: the next re-put tries again).
   */
  private async announce(p: Publication): Promise<number> {
    const id = this.id
    const signer = p.kind === 'roster' ? id.roster.owner : id.device.publicKey
    this.opts.swarm.devices.notify({ kind: p.kind, name: p.name, signer: hex(signer), infoHash: p.blob.infoHash, seq: p.seq })
    const dht = this.opts.dht
    if (!dht) return 0
    const seed = p.kind === 'roster' ? id.owner?.seed : id.device.seed
    if (!seed) return 0
    try {
      const { stored } = await dht.putPointer({ seed, salt: this.saltFor(p), seq: p.seq, infoHash: Buffer.from(p.blob.infoHash, 'hex') })
      await dht.announce(Buffer.from(p.blob.infoHash, 'hex'), this.opts.swarm.port).catch(() => {})
      this.emit('published', p, stored)
      return stored
    } catch (err) {
      this.warn(err)
      return 0
    }
  }

  private scheduleReput(): void {
    if (this.stopped) return
    this.reputTimer = setTimeout(() => {
      void this.reput().finally(() => this.scheduleReput())
    }, (this.opts.reputMs ?? MANIFEST_REPUT) + Math.random() * (this.opts.reputJitterMs ?? MANIFEST_REPUT_JITTER))
    this.reputTimer.unref()
  }

  /**
   * Puts every item of ours again: DHT nodes forget items after a while, and
   * nodes come and go. Resolves with what was put and how many nodes stored it.
   */
  async reput(): Promise<Array<{ item: string; seq: number; stored: number }>> {
    const items = ['library', ...Object.keys(this.opts.book.store.state.own).filter((k) => k.startsWith('playlist:'))]
    if (this.id.owner) items.push('roster')
    const out: Array<{ item: string; seq: number; stored: number }> = []
    for (const item of items) {
      const p = await this.opts.book.ownPublication(item)
      if (p) out.push({ item, seq: p.seq, stored: await this.announce(p) })
    }
    return out
  }

  // ---- receiving -------------------------------------------------------------

  /**
   * A blob from the device that told us, else any linked device, else devices
   * found on the DHT. Bytes that do not hash to what was asked for are
   * refused (and logged); the next holder is asked.
   */
  private fetcher(prefer: DeviceLink[]): BlobFetcher {
    const devices = this.opts.swarm.devices
    const tryLinks = async (id: string, links: DeviceLink[]): Promise<Buffer | null> => {
      const tried = new Set<DeviceLink>()
      for (;;) {
        const rest = links.filter((l) => !tried.has(l))
        if (rest.length === 0) return null
        const got = await devices.fetchBlob(id, [rest[0]!])
        if (!got) return null
        tried.add(got.link)
        if (this.opts.book.checkFetched(got.data, id, got.link.name)) return got.data
        if (got.link !== rest[0]) tried.add(rest[0]!)
      }
    }
    return async (id) => {
      const got = await tryLinks(id, [...new Set([...prefer, ...devices.online()])])
      if (got) return got
      const dht = this.opts.dht
      if (!dht || id.length !== 40 || !this.opts.learn) return null
      // Nobody linked holds it: find holders of its torrent on the DHT, link to them, ask again.
      const peers = await dht.lookup(Buffer.from(id, 'hex'))
      if (peers.length === 0) return null
      for (const a of peers) this.opts.learn(a)
      // Ask again as links come up, for a little while.
      const end = Date.now() + (this.opts.linkWaitMs ?? LINK_WAIT)
      while (Date.now() < end && !this.stopped) {
        await new Promise((r) => setTimeout(r, 100).unref())
        const again = await tryLinks(id, devices.online())
        if (again) return again
      }
      return null
    }
  }

  /**
   * Takes in one version, once: a notice and a DHT poll often bring the same
   * version at the same time, and the second would be refused as a replay.
   */
  private take(kind: ManifestKind, infoHash: string, prefer: DeviceLink[], source: string): Promise<boolean> {
    if (this.taken.has(infoHash)) return Promise.resolve(false)
    let running = this.taking.get(infoHash)
    if (!running) {
      running = this.takeOnce(kind, infoHash, prefer, source).then((ok) => {
        if (ok) {
          if (this.taken.size >= MAX_TAKEN) this.taken.clear()
          this.taken.add(infoHash)
        }
        return ok
      })
      this.taking.set(infoHash, running)
      void running.finally(() => this.taking.delete(infoHash)).catch(() => {})
    }
    return running
  }

  private async takeOnce(kind: ManifestKind, infoHash: string, prefer: DeviceLink[], source: string): Promise<boolean> {
    const book = this.opts.book
    const fetch = this.fetcher(prefer)
    const data = (await book.store.getBlob(infoHash)) ?? (await fetch(infoHash)) // checked against the infohash
    if (!data) return false
    if (kind === 'library') return book.applyLibrary(data, fetch, source)
    if (kind === 'playlist') return book.applyPlaylist(data, source)
    if (kind === 'roster') {
      const r = book.readRoster(data, source)
      if (!r || r.roster.seq <= this.id.roster.seq) return false
      await this.opts.adoptRoster(r.roster, r.signed)
      await book.keepRoster(r.blob, r.roster.seq)
      // Passed on at once: a revocation should reach every device that is linked.
      this.opts.swarm.devices.notify({ kind: 'roster', signer: hex(r.roster.owner), infoHash: r.blob.infoHash, seq: r.roster.seq })
      await book.dropRevoked()
      return true
    }
    return false
  }

  private async onNotice(link: DeviceLink, n: ManifestNotice): Promise<void> {
    if (n.kind !== 'library' && n.kind !== 'playlist' && n.kind !== 'roster') return
    const kind = n.kind as ManifestKind
    const known = this.opts.book.known(kind, n.signer, n.name)
    if (known !== undefined && n.seq <= known) return
    if (!(await this.take(kind, n.infoHash, [link], link.name)) || kind !== 'library') return
    // A browser's root, newly taken in: passed on to every other link. The
    // book's verified record decides (a notice is not trusted), and only what
    // this device took in goes out, so it never echoes back.
    const root = this.opts.book.browserRoots(n.signer).find((r) => r.infoHash === n.infoHash)
    if (!root) return
    const devices = this.opts.swarm.devices
    const others = devices.online().filter((l) => l !== link && l.device !== root.signer)
    if (others.length) devices.notify({ kind: 'library', ...root }, others)
  }

  /** A device came online: tell it what we have (it tells us what it has), and the browsers' roots we took in. */
  private async onLink(link: DeviceLink): Promise<void> {
    const book = this.opts.book
    const pubs = [await book.ownPublication('library'), await book.rosterPublication()]
    for (const p of pubs) {
      if (!p) continue
      const signer = p.kind === 'roster' ? this.id.roster.owner : this.id.device.publicKey
      this.opts.swarm.devices.notify({ kind: p.kind, signer: hex(signer), infoHash: p.blob.infoHash, seq: p.seq }, [link])
    }
    for (const root of book.browserRoots()) {
      if (root.signer !== link.device) this.opts.swarm.devices.notify({ kind: 'library', ...root }, [link])
    }
  }

  /** Asks the DHT for every own device's library and for the roster; takes in what is newer. */
  async poll(): Promise<void> {
    const dht = this.opts.dht
    if (!dht || this.stopped) return
    const id = this.id
    const self = hex(id.device.publicKey)
    const owner = id.roster.owner
    const tasks: Promise<unknown>[] = []
    // Kept (see DhtNode): this node serves its owner's roster and its devices' pointers whatever strangers put.
    const rosterPtr = dht.getPointer({ publicKey: owner, salt: this.saltFor({ kind: 'roster' }), keep: true })
    tasks.push(
      rosterPtr.then((ptr) => (ptr && ptr.seq > this.id.roster.seq ? this.take('roster', ptr.infoHash.toString('hex'), [], 'dht') : false)),
    )
    for (const cert of id.roster.devices) {
      const device = hex(cert.device)
      if (device === self || id.roster.revoked.some((k) => hex(k) === device)) continue
      tasks.push(
        dht.getPointer({ publicKey: cert.device, salt: this.saltFor({ kind: 'library' }), keep: true }).then((ptr) => {
          const known = this.opts.book.known('library', device)
          if (!ptr || (known !== undefined && ptr.seq <= known)) return false
          return this.take('library', ptr.infoHash.toString('hex'), [], 'dht')
        }),
      )
    }
    for (const r of await Promise.allSettled(tasks)) if (r.status === 'rejected') this.warn(r.reason)
  }

  /** One playlist straight from each own device's DHT item (a reader that knows the name). */
  async pollPlaylist(name: string): Promise<number> {
    const dht = this.opts.dht
    if (!dht) return 0
    const id = this.id
    const self = hex(id.device.publicKey)
    let taken = 0
    await Promise.all(
      id.roster.devices.map(async (cert) => {
        const device = hex(cert.device)
        if (device === self) return
        const ptr = await dht.getPointer({ publicKey: cert.device, salt: this.saltFor({ kind: 'playlist', name }) }).catch(() => null)
        const known = this.opts.book.known('playlist', device, name)
        if (!ptr || (known !== undefined && ptr.seq <= known)) return
        if (await this.take('playlist', ptr.infoHash.toString('hex'), [], 'dht')) taken++
      }),
    )
    return taken
  }
}
