// A browser device's playlists (docs/browser.md, "Playlists: the page writes
// as itself"): the page keeps its OWN edits of each playlist it edited, as
// any device does (src/manifest/playlist-doc.ts), signs them with its device
// key as `playlist` manifests listed in a signed `library` root of its own,
// and serves those blobs to its linked devices, which take them in exactly as
// a Node device's. It also takes in the roots and playlists its linked Node
// devices publish (verified here, as a Node device would), so its edits are
// placed and clocked against the merged playlist. Everything it keeps (its
// edits, its seqs, the blobs it published, the edits it took in) lives in
// IndexedDB, written in one transaction per change: a reload or an edit made
// while no device is linked loses nothing, and goes out on the next link.
import { encode } from '../codec/index.ts'
import { verifyRoster, type Roster } from '../identity/browser.ts'
import {
  addTracks as addToEdits, blobOf, checkBlob, compressedBlob, decodeManifest, editsFromBody, editsToBody, emptyEdits, encodeManifestAsync, ManifestError,
  MANIFEST_LIMITS, mergePlaylist, moveEntry, removeEntries, rootFromBody, rootToBody,
  type Blob, type ManifestKind, type MergedPlaylist, type PlaylistEdits, type PlaylistRef, type TrackRef,
} from '../manifest/browser.ts'
import { Emitter } from '../rtc/index.ts'
import type { DeviceSigner } from '../swarm/browser.ts'
import { compress, decompress } from './brotli.ts'

/** A manifest notice (the device channel's `m` message): what a device published. */
export interface PlaylistNotice {
  kind: string
  name?: string
  signer: string
  infoHash: string
  seq: number
}

export interface PagePlaylistsOptions {
  /** IndexedDB database name. */
  name: string
  device: { signer: DeviceSigner; certificate: Uint8Array; roster: Uint8Array; circleSecret: Uint8Array }
  /** ms since the epoch (tests). */
  now?: () => number
}

/** A playlist as this page sees it: the merge of its own edits and those it took in. */
export interface PagePlaylist {
  name: string
  entries: Array<{ id: string; track: TrackRef }>
}

interface Published {
  seq: number
  /** SHA-256 (hex) of the blob. */
  blob: string
}

/** What IndexedDB keeps (one record, written whole with the blobs it names). */
interface State {
  /** This page's own edits, by playlist name. */
  own: Record<string, PlaylistEdits>
  /** This page's last published playlist manifests, by name. */
  playlists: Record<string, Published>
  /** This page's last published library root. */
  library?: Published
  /** Edits taken in from other own devices, by device key (hex): their root's seq and each playlist's. */
  others: Record<string, { name: string; seq: number; playlists: Record<string, { seq: number; edits: PlaylistEdits }> }>
}

interface Events {
  /** A new root: linked devices are told (BrowserDevice). */
  published: [notice: PlaylistNotice]
  /** Another device's edits were taken in. */
  changed: [device: string]
  warning: [err: Error]
}

const STORE = 'playlists'
const STATE_KEY = 'state'
const BLOBS_KEY = 'blobs'
const MAX_NAME_BYTES = 256
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

const done = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })

/** A playlist name as the node's API takes it: it is one segment of /api/playlists/<name>. */
export function playlistName(raw: string): string {
  const name = String(raw ?? '').normalize('NFC').trim()
  if (!name || new TextEncoder().encode(name).length > MAX_NAME_BYTES || /[\u0000-\u001f]/.test(name)) {
    throw new ManifestError('ERR_MALFORMED', `a playlist name is 1-${MAX_NAME_BYTES} bytes of text`)
  }
  if (/[/\\]/.test(name)) throw new ManifestError('ERR_MALFORMED', 'a playlist name cannot hold "/" or "\\"')
  return name
}

export class PagePlaylists extends Emitter<Events> {
  readonly self: string
  private roster: Roster
  private readonly secret: Buffer
  private readonly certificate: Buffer
  /** The blobs published now (root, its page, each playlist's latest), by SHA-256 and by infohash. */
  private blobs = new Map<string, Blob>()
  /** Changes run one at a time, so two edits never publish the same seq. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly db: IDBDatabase,
    private state: State,
    kept: Record<string, Uint8Array>,
    private readonly opts: PagePlaylistsOptions,
  ) {
    super()
    const d = opts.device
    this.self = hex(d.signer.publicKey)
    this.roster = verifyRoster(Buffer.from(d.roster))
    this.secret = Buffer.from(d.circleSecret)
    this.certificate = Buffer.from(d.certificate)
    this.blobs = this.index(Object.values(kept).map((b) => blobOf(Buffer.from(b), this.secret)))
  }

  static async open(opts: PagePlaylistsOptions): Promise<PagePlaylists> {
    const req = indexedDB.open(opts.name, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    const db = await done(req)
    const tx = db.transaction(STORE, 'readonly').objectStore(STORE)
    const [state, blobs] = await Promise.all([done(tx.get(STATE_KEY)), done(tx.get(BLOBS_KEY))])
    const empty: State = { own: {}, playlists: {}, others: {} }
    return new PagePlaylists(db, (state as State | undefined) ?? empty, (blobs as Record<string, Uint8Array> | undefined) ?? {}, opts)
  }

  close(): void {
    this.db.close()
  }

  /** A newer roster the device took in: manifests are verified under it, and revoked devices' edits drop out of the merge. */
  setRoster(roster: Roster): void {
    if (roster.seq > this.roster.seq) this.roster = roster
  }

  /** Names of every playlist this page knows (its own and those taken in). */
  names(): string[] {
    const names = new Set(Object.keys(this.state.own))
    for (const d of this.liveOthers()) for (const n of Object.keys(d.playlists)) names.add(n)
    return [...names].sort((a, b) => a.localeCompare(b))
  }

  /** The merged playlist, or null when no device has edited one of that name. */
  playlist(name: string): PagePlaylist | null {
    const sets = this.sets(name)
    if (sets.size === 0) return null
    return { name, entries: mergePlaylist(sets).entries.map((e) => ({ id: e.id, track: e.track })) }
  }

  /** The root linked devices should hold now, as a notice (null before the first edit). */
  notice(): PlaylistNotice | null {
    const lib = this.state.library
    const blob = lib && this.blobs.get(lib.blob)
    return lib && blob ? { kind: 'library', signer: this.self, infoHash: blob.infoHash, seq: lib.seq } : null
  }

  /** A blob this page published and still lists, by SHA-256 (64 hex) or infohash (40 hex). */
  blob(id: string): Uint8Array | undefined {
    return this.blobs.get(id)?.data
  }

  create(name: string): Promise<PagePlaylist> {
    const n = playlistName(name)
    return this.edit(n, true, (own) => ({ ...own, clock: own.clock + 1 }))
  }

  /** Adds tracks at `at` of the merged order (default: the end). */
  addTracks(name: string, tracks: TrackRef[], at?: number): Promise<PagePlaylist> {
    return this.edit(playlistName(name), false, (own, merged) =>
      addToEdits(own, merged, this.self, tracks, at === undefined ? merged.entries.length : Math.min(at, merged.entries.length)),
    )
  }

  remove(name: string, ids: string[]): Promise<PagePlaylist> {
    return this.edit(playlistName(name), false, (own, merged) => removeEntries(own, merged, ids))
  }

  move(name: string, id: string, to: number): Promise<PagePlaylist> {
    return this.edit(playlistName(name), false, (own, merged) => moveEntry(own, merged, id, to))
  }

  /**
   * Takes in another own device's library root from a notice, and the
   * playlists it names: fetched through `fetch` (the device channel),
   * checked against the hashes asked for, verified (signer, certificate,
   * seq) as a Node device does. Resolves true when something new was kept;
   * a refusal is a warning and keeps nothing.
   */
  async take(n: PlaylistNotice, fetch: (id: string) => Promise<Uint8Array | null>): Promise<boolean> {
    if (n.kind !== 'library' || n.signer === this.self || !/^[0-9a-f]{40}$/.test(n.infoHash)) return false
    if (n.seq <= (this.state.others[n.signer]?.seq ?? 0)) return false
    try {
      const data = await fetch(n.infoHash)
      if (!data) return false
      const rootBlob = checkBlob(data, n.infoHash, this.secret)
      const m = decodeManifest(await decompress(rootBlob.data, MANIFEST_LIMITS.library.maxBytes), this.context('library'))
      const device = hex(m.signer)
      if (device === this.self) return false
      const root = rootFromBody(m.body)
      const before = this.state.others[device]?.playlists ?? {}
      const playlists: Record<string, { seq: number; edits: PlaylistEdits }> = {}
      for (const ref of root.playlists) {
        const had = before[ref.name]
        playlists[ref.name] = had && had.seq >= ref.seq ? had : await this.takePlaylist(ref, device, fetch)
      }
      return await this.serial(async () => {
        // Another notice may have brought a newer root meanwhile.
        if (m.seq <= (this.state.others[device]?.seq ?? 0)) return false
        const next: State = { ...this.state, others: { ...this.state.others, [device]: { name: m.certificate!.name, seq: m.seq, playlists } } }
        await this.save(next, this.blobs)
        this.emit('changed', device)
        return true
      })
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err
      this.emit('warning', new Error(`refused a library from ${n.signer.slice(0, 12)}: ${err.code}: ${err.message}`))
      return false
    }
  }

  private async takePlaylist(ref: PlaylistRef, device: string, fetch: (id: string) => Promise<Uint8Array | null>) {
    const data = await fetch(ref.blob)
    if (!data) throw new ManifestError('ERR_UNAVAILABLE', `no linked device has blob ${ref.blob.slice(0, 12)}`)
    const blob = blobOf(data, this.secret)
    if (blob.sha256 !== ref.blob) throw new ManifestError('ERR_MISMATCH', `the bytes received for blob ${ref.blob.slice(0, 12)} hash to something else`)
    const pm = decodeManifest(await decompress(blob.data, MANIFEST_LIMITS.playlist.maxBytes), { ...this.context('playlist'), known: undefined })
    if (hex(pm.signer) !== device || pm.name !== ref.name || pm.seq !== ref.seq) {
      throw new ManifestError('ERR_MISMATCH', `the playlist blob for "${ref.name}" is not the one the root names`)
    }
    return { seq: pm.seq, edits: editsFromBody(pm.body) }
  }

  private context(kind: ManifestKind) {
    return {
      roster: this.roster,
      expectedKind: kind,
      known: (k: ManifestKind, signer: Uint8Array) => (k === 'library' ? this.state.others[hex(signer)]?.seq : undefined),
      now: this.now(),
    }
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now()
  }

  private liveOthers() {
    const revoked = new Set(this.roster.revoked.map(hex))
    return Object.entries(this.state.others)
      .filter(([device]) => !revoked.has(device))
      .map(([, d]) => d)
  }

  /** Every edit set of a playlist, by author: this page's and the ones taken in. */
  private sets(name: string): Map<string, PlaylistEdits> {
    const sets = new Map<string, PlaylistEdits>()
    const own = this.state.own[name]
    if (own) sets.set(this.self, own)
    const revoked = new Set(this.roster.revoked.map(hex))
    for (const [device, d] of Object.entries(this.state.others)) {
      const p = d.playlists[name]
      if (p && !revoked.has(device)) sets.set(device, p.edits)
    }
    return sets
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  /** Applies an edit to this page's own edits, signs them and a new root, keeps both, and tells the linked devices. */
  private edit(name: string, create: boolean, fn: (own: PlaylistEdits, merged: MergedPlaylist) => PlaylistEdits): Promise<PagePlaylist> {
    return this.serial(async () => {
      const sets = this.sets(name)
      if (create && sets.size > 0) throw new ManifestError('ERR_EXISTS', `a playlist named "${name}" already exists`)
      if (!create && sets.size === 0) throw new ManifestError('ERR_NOT_FOUND', `no playlist named "${name}"`)
      const own = this.state.own[name] ?? emptyEdits()
      let next: PlaylistEdits
      try {
        next = fn(own, mergePlaylist(sets))
      } catch (err) {
        if (err instanceof ManifestError) throw err
        throw new ManifestError('ERR_MALFORMED', (err as Error).message)
      }
      const signer = { signer: this.opts.device.signer, certificate: this.certificate }
      const seq = (this.state.playlists[name]?.seq ?? 0) + 1
      const plain = await encodeManifestAsync({ kind: 'playlist', name, seq, created: this.now(), body: editsToBody(next) }, signer)
      const playlistBlob = compressedBlob(await compress(plain), this.secret)
      const playlists = { ...this.state.playlists, [name]: { seq, blob: playlistBlob.sha256 } }
      // The root: no tracks (one empty page), this page's playlists. docs/browser.md says why no tracks.
      const page = compressedBlob(await compress(encode({ tracks: [] })), this.secret)
      const refs = Object.keys(playlists).sort().map((n) => ({ name: n, seq: playlists[n]!.seq, blob: playlists[n]!.blob }))
      const librarySeq = (this.state.library?.seq ?? 0) + 1
      const body = rootToBody({ pages: [page.sha256], count: 0, playlists: refs })
      const rootBlob = compressedBlob(await compress(await encodeManifestAsync({ kind: 'library', seq: librarySeq, created: this.now(), body }, signer)), this.secret)
      const kept = new Map<string, Blob>()
      for (const b of [rootBlob, page, ...Object.values(playlists).map((p) => (p.blob === playlistBlob.sha256 ? playlistBlob : this.blobs.get(p.blob)))]) {
        if (b) kept.set(b.sha256, b)
      }
      const state: State = { ...this.state, own: { ...this.state.own, [name]: next }, playlists, library: { seq: librarySeq, blob: rootBlob.sha256 } }
      await this.save(state, this.index([...kept.values()]))
      this.emit('published', this.notice()!)
      return this.playlist(name)!
    })
  }

  private index(blobs: Blob[]): Map<string, Blob> {
    const out = new Map<string, Blob>()
    for (const b of blobs) out.set(b.sha256, b).set(b.infoHash, b)
    return out
  }

  /** Writes the state and the blobs it names in one transaction; memory follows only once it is kept. */
  private async save(state: State, blobs: Map<string, Blob>): Promise<void> {
    const bySha: Record<string, Uint8Array> = {}
    for (const [k, b] of blobs) if (k === b.sha256) bySha[k] = new Uint8Array(b.data)
    const tx = this.db.transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    store.put(state, STATE_KEY)
    store.put(bySha, BLOBS_KEY)
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'))
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'))
    })
    this.state = state
    this.blobs = blobs
  }
}
