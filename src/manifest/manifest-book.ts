// The book of manifests a device holds: its own (library root, playlist
// edits, the roster on admin devices) and the verified ones of its other own
// devices. It turns received blobs into state only after everything checks
// out (signature, signer, seq, every page and playlist the root names), so a
// refused manifest leaves the known state exactly as it was. No networking:
// the caller hands in a fetcher for the blobs a root refers to.
import { EventEmitter } from 'node:events'
import { createHash } from 'node:crypto'
import { decode, encode } from '../codec/index.ts'
import { encodeCertificate, signRoster, type DeviceRole, type Identity, type Roster } from '../identity/index.ts'
import { pieceLengthFor, type CueRegister, type NoteRegister, type TrackRecord } from '../library/index.ts'
import { blobOf, checkBlob, packBlob, unpackBlob, type Blob } from './blob.ts'
import { decodeManifest, encodeManifest, MANIFEST_LIMITS, type DeviceSigner, type ManifestKind } from './envelope.ts'
import { ManifestError } from './errors.ts'
import {
  decodeLibraryPage, encodePages, LIBRARY_CAPS, rootFromBody, rootPageCount, rootToBody, type LibraryRoot, type ManifestAnalysis, type ManifestTrack, type PlaylistRef,
} from './library-manifest.ts'
import { knownKey, type ManifestStore } from './manifest-store.ts'
import type { CueSets } from './cue-manifest.ts'
import type { NoteSets } from './note-manifest.ts'
import { editsFromBody, editsToBody, emptyEdits, type MergedPlaylist, type PlaylistEdits } from './playlist-doc.ts'
import { mergeCollaborative, type CollabPlaylist, type GuestEdits } from './collab-doc.ts'
import type { RemoteLibraryView } from './union.ts'

/** Fetches a blob by SHA-256 (64 hex) or infohash (40 hex) from wherever it can; the book checks it. */
export type BlobFetcher = (id: string) => Promise<Buffer | null>

export interface Refusal {
  at: number
  code: string
  reason: string
  /** Where the bytes came from (a device name, "dht", "store"). */
  source: string
}

interface RemoteDevice {
  device: string
  name: string
  /** Its certificate's role: a browser's roots are passed on (`browserRoots`). */
  role: DeviceRole
  seq: number
  root: LibraryRoot
  tracks: TrackRecord[]
  /** The records of each page, by "<sha256>:<index>:<page count>", so an update reads only new pages. */
  pages: Map<string, PageRead>
  /** The device's cue registers, by audio hash. */
  cues: Map<string, CueRegister[]>
  /** The device's note registers, by audio hash. */
  notes: Map<string, NoteRegister[]>
  playlists: Map<string, { seq: number; edits: PlaylistEdits }>
}

interface PageRead {
  tracks: TrackRecord[]
  cues: Map<string, CueRegister[]>
  notes: Map<string, NoteRegister[]>
}

export interface Publication {
  kind: ManifestKind
  name?: string
  seq: number
  blob: Blob
}

/** A verified library root of another device, as a notice would name it. */
export interface RootRef {
  /** The signing device's key (hex). */
  signer: string
  /** Infohash (hex) of the root blob. */
  infoHash: string
  seq: number
}

export interface BookOptions {
  store: ManifestStore
  identity: () => Identity
  now?: () => number
}

interface Events {
  refused: [r: Refusal]
  changed: [kind: ManifestKind, device: string]
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const MAX_REFUSALS = 100

const NO_PATHS: readonly string[] = Object.freeze([])

export class ManifestBook extends EventEmitter<Events> {
  private readonly devices = new Map<string, RemoteDevice>()
  /** One record per track content, shared by every device that lists it (memory: a union of 30,000). */
  private readonly records = new Map<string, TrackRecord>()
  /** Analyses seen in other devices' manifests, by audio hash (with overviews). */
  private readonly analyses = new Map<string, ManifestAnalysis>()
  /** This device's page blobs of its last library, by digest of their plain bytes. */
  private readonly ownPages = new Map<string, Blob>()
  /** One copy of each tag text (artists, albums, genres repeat across a library). */
  private readonly texts = new Map<string, string>()
  private readonly intern = (s: string): string => {
    const have = this.texts.get(s)
    if (have !== undefined) return have
    this.texts.set(s, s)
    return s
  }
  readonly refusals: Refusal[] = []
  /** Applications run one at a time, so two versions never race into the state. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly opts: BookOptions) {
    super()
  }

  get store(): ManifestStore {
    return this.opts.store
  }

  private get id(): Identity {
    return this.opts.identity()
  }

  private get self(): string {
    return hex(this.id.device.publicKey)
  }

  /** This device's key, hex: the author id of its playlist edits. */
  get selfId(): string {
    return this.self
  }

  /** Whether an owner key (hex) is a friend on the roster. */
  isFriend(ownerHex: string): boolean {
    return this.id.roster.friends.some((f) => hex(f.owner) === ownerHex)
  }

  private get circleSecret(): Uint8Array {
    return this.id.circleSecret
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now()
  }

  /** Opens the book and rebuilds the other devices' views from the blobs kept in the home. */
  static async open(opts: BookOptions): Promise<ManifestBook> {
    const book = new ManifestBook(opts)
    const known = opts.store.state.known
    const fromStore: BlobFetcher = async (id) => (await opts.store.getBlob(id)) ?? null
    for (const [key, pub] of Object.entries(known)) {
      if (!key.startsWith('library:')) continue
      delete known[key] // re-applied below, through the same checks as anything received
      const data = await opts.store.getBlob(pub.root)
      if (!data || !(await book.applyLibrary(data, fromStore, 'store'))) continue
    }
    for (const [key, pub] of Object.entries(known)) {
      if (!key.startsWith('playlist:')) continue
      const data = await opts.store.getBlob(pub.root)
      delete known[key]
      if (data) await book.applyPlaylist(data, 'store')
    }
    return book
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  private refuse(err: unknown, source: string): false {
    if (!(err instanceof ManifestError)) throw err
    const r: Refusal = { at: this.now(), code: err.code, reason: err.message, source }
    this.refusals.push(r)
    if (this.refusals.length > MAX_REFUSALS) this.refusals.shift()
    this.emit('refused', r)
    return false
  }

  /** Whether bytes fetched for a blob (by SHA-256 or infohash, hex) are that blob; a mismatch is logged as refused. */
  checkFetched(data: Buffer, id: string, source: string): boolean {
    try {
      if (id.length === 40) checkBlob(data, id, this.circleSecret)
      else if (digest(data) !== id) throw new ManifestError('ERR_MISMATCH', `the bytes received for blob ${id.slice(0, 12)} hash to something else`)
      return true
    } catch (err) {
      return this.refuse(err, source)
    }
  }

  /** The last seq seen for a manifest (own or another device's), for the replay rule. */
  known(kind: ManifestKind, signer: string, name?: string): number | undefined {
    if (kind === 'roster') return this.id.roster.seq
    if (signer === this.self) return this.opts.store.state.own[name === undefined ? kind : `${kind}:${name}`]?.seq
    return this.opts.store.state.known[knownKey(kind, signer, name)]?.seq
  }

  private decodeContext(kind: ManifestKind) {
    return {
      roster: this.id.roster,
      expectedKind: kind,
      known: (k: ManifestKind, signer: Uint8Array, name?: string) => this.known(k, hex(signer), name),
      now: this.now(),
    }
  }

  // ---- reading ------------------------------------------------------------

  /**
   * Not revoked. A device missing from our roster is still ours when its
   * certificate is the owner's (it paired after our roster was made): its
   * manifests count until a roster revokes it.
   */
  private isLive(device: string): boolean {
    return !this.id.roster.revoked.some((k) => hex(k) === device)
  }

  /** The other own devices' libraries (revoked devices left out). */
  remoteLibraries(): RemoteLibraryView[] {
    return [...this.devices.values()].filter((d) => this.isLive(d.device)).map((d) => ({ device: d.device, name: d.name, tracks: d.tracks }))
  }

  /** Last verified library seq of each other device. */
  deviceSeqs(): Record<string, number> {
    return Object.fromEntries([...this.devices.values()].map((d) => [d.device, d.seq]))
  }

  /**
   * The library roots of live browser devices taken in (docs/manifests.md,
   * "How manifests travel"): a page publishes by notice over its links only,
   * so the Node devices that took its root in pass it on. `only` narrows to
   * one device.
   */
  browserRoots(only?: string): RootRef[] {
    const out: RootRef[] = []
    for (const d of this.devices.values()) {
      if (d.role !== 'browser' || !this.isLive(d.device) || (only !== undefined && d.device !== only)) continue
      const pub = this.opts.store.state.known[knownKey('library', d.device)]
      const infoHash = pub && this.opts.store.infoHashOf(pub.root)
      if (pub && infoHash) out.push({ signer: d.device, infoHash, seq: pub.seq })
    }
    return out
  }

  playlistNames(): string[] {
    const names = new Set(Object.keys(this.opts.store.state.playlists))
    for (const d of this.devices.values()) if (this.isLive(d.device)) for (const n of d.playlists.keys()) names.add(n)
    return [...names].sort((a, b) => a.localeCompare(b))
  }

  /** Every live own device's edits of a playlist, by author. */
  playlistEdits(name: string): Map<string, PlaylistEdits> {
    const sets = new Map<string, PlaylistEdits>()
    const own = this.opts.store.state.playlists[name]
    if (own) sets.set(this.self, own)
    for (const d of this.devices.values()) {
      const p = d.playlists.get(name)
      if (p && this.isLive(d.device)) sets.set(d.device, p.edits)
    }
    return sets
  }

  /** Every other live own device's cue registers of a recording, by author (devices without any left out). */
  cueEdits(audioHash: string): Map<string, CueRegister[]> {
    const out = new Map<string, CueRegister[]>()
    for (const d of this.devices.values()) {
      const regs = d.cues.get(audioHash)
      if (regs && this.isLive(d.device)) out.set(d.device, regs)
    }
    return out
  }

  /** The audio hashes every other live own device has cue registers (`cues`) or note registers (`notes`) of. */
  editedRecordings(what: 'cues' | 'notes'): Set<string> {
    const out = new Set<string>()
    for (const d of this.devices.values()) if (this.isLive(d.device)) for (const [h, regs] of d[what]) if (regs.length) out.add(h)
    return out
  }

  /** Every other live own device's note registers of a recording, by author (devices without any left out). */
  noteEdits(audioHash: string): Map<string, NoteRegister[]> {
    const out = new Map<string, NoteRegister[]>()
    for (const d of this.devices.values()) {
      const regs = d.notes.get(audioHash)
      if (regs?.length && this.isLive(d.device)) out.set(d.device, regs)
    }
    return out
  }

  playlist(name: string): CollabPlaylist | undefined {
    const sets = this.playlistEdits(name)
    return sets.size ? mergeCollaborative(sets, this.guests?.(name) ?? new Map()) : undefined
  }

  private guests: ((name: string) => ReadonlyMap<string, GuestEdits>) | undefined

  /**
   * Where collaborators' edit sets of our playlists come from (the node's
   * Collab service, which verified them): merged with our devices' edits in
   * every read of a playlist, under the owner's grants (collab-doc.ts).
   */
  setGuests(guests: (name: string) => ReadonlyMap<string, GuestEdits>): void {
    this.guests = guests
  }

  /** Every live own device's edits of a playlist with the seq of the manifest that carried them. */
  playlistVersions(name: string): Map<string, { seq: number; edits: PlaylistEdits }> {
    const out = new Map<string, { seq: number; edits: PlaylistEdits }>()
    const own = this.opts.store.state.playlists[name]
    const seq = this.opts.store.state.own[`playlist:${name}`]?.seq
    if (own && seq) out.set(this.self, { seq, edits: own })
    for (const d of this.devices.values()) {
      const p = d.playlists.get(name)
      if (p && this.isLive(d.device)) out.set(d.device, p)
    }
    return out
  }

  // ---- publishing our own ---------------------------------------------------

  private signer(): DeviceSigner {
    return { deviceSeed: this.id.device.seed, certificate: encodeCertificate(this.id.certificate) }
  }

  private ownPlaylistRefs(): PlaylistRef[] {
    const own = this.opts.store.state.own
    return Object.keys(this.opts.store.state.playlists)
      .filter((n) => own[`playlist:${n}`])
      .sort()
      .map((name) => ({ name, seq: own[`playlist:${name}`]!.seq, blob: own[`playlist:${name}`]!.root }))
  }

  /**
   * Publishes this device's library root when the tracks, its cue edits or
   * its playlists changed. Returns the new root, or null when nothing changed.
   */
  publishLibrary(tracks: readonly ManifestTrack[], cues?: CueSets, notes?: NoteSets): Promise<Publication | null> {
    return this.serial(async () => {
      // A page whose bytes did not change is the blob it was: not compressed again.
      const pages = encodePages(tracks, cues, notes).map((p) => {
        const key = digest(p)
        let blob = this.ownPages.get(key)
        if (!blob) this.ownPages.set(key, (blob = packBlob(p, this.circleSecret)))
        return { key, blob }
      })
      const keys = new Set(pages.map((p) => p.key))
      for (const k of this.ownPages.keys()) if (!keys.has(k)) this.ownPages.delete(k)
      const cued = cues ? [...cues.values()].filter((r) => r.length > 0).length : 0
      const noted = notes ? [...notes.values()].filter((r) => r.length > 0).length : 0
      return this.publishRoot(tracks.length, cued, noted, pages.map((p) => p.blob))
    })
  }

  /** Signs and stores a new root over these pages, unless it would say what the last one said. */
  private async publishRoot(count: number, cued: number, noted: number, pages: Blob[]): Promise<Publication | null> {
    const root: LibraryRoot = { pages: pages.map((b) => b.sha256), count, ...(cued ? { cued } : {}), ...(noted ? { noted } : {}), playlists: this.ownPlaylistRefs() }
    const body = rootToBody(root)
    const state = this.opts.store.state
    const bodyHash = digest(encode(body))
    if (state.own.library?.body === bodyHash) return null
    const seq = (state.own.library?.seq ?? 0) + 1
    const blob = packBlob(encodeManifest({ kind: 'library', seq, created: this.now(), body }, this.signer()), this.circleSecret)
    for (const p of pages) await this.opts.store.putBlob(p)
    await this.opts.store.putBlob(blob)
    state.own.library = { seq, root: blob.sha256, body: bodyHash }
    await this.opts.store.save()
    await this.collect()
    return { kind: 'library', seq, blob }
  }

  /** Applies an edit to this device's own edits of a playlist and publishes them. */
  editPlaylist(
    name: string,
    edit: (own: PlaylistEdits, merged: CollabPlaylist) => PlaylistEdits,
    opts: { create?: boolean } = {},
  ): Promise<{ merged: MergedPlaylist; publication: Publication }> {
    return this.serial(async () => {
      const state = this.opts.store.state
      const exists = this.playlistEdits(name).size > 0
      if (!exists && !opts.create) throw new ManifestError('ERR_NOT_FOUND', `no playlist named "${name}"`)
      if (exists && opts.create) throw new ManifestError('ERR_EXISTS', `a playlist named "${name}" already exists`)
      const own = state.playlists[name] ?? emptyEdits()
      const merged = this.playlist(name) ?? mergeCollaborative(new Map([[this.self, own]]), new Map())
      const next = edit(own, merged)
      const seq = (state.own[`playlist:${name}`]?.seq ?? 0) + 1
      const blob = packBlob(
        encodeManifest({ kind: 'playlist', name, seq, created: this.now(), body: editsToBody(next) }, this.signer()),
        this.circleSecret,
      )
      await this.opts.store.putBlob(blob)
      state.playlists[name] = next
      state.own[`playlist:${name}`] = { seq, root: blob.sha256 }
      await this.opts.store.save()
      this.emit('changed', 'playlist', this.self)
      return { merged: this.playlist(name)!, publication: { kind: 'playlist', name, seq, blob } }
    })
  }

  /** The current publication of one of our items ("library", "roster", "playlist:<name>"). */
  async ownPublication(item: string): Promise<Publication | null> {
    const pub = this.opts.store.state.own[item]
    const data = pub && (await this.opts.store.getBlob(pub.root))
    if (!pub || !data) return null
    const [kind, ...rest] = item.split(':') as [ManifestKind, ...string[]]
    const out: Publication = { kind, seq: pub.seq, blob: checkBlob(data, this.opts.store.infoHashOf(pub.root) ?? '', this.circleSecret) }
    if (rest.length) out.name = rest.join(':')
    return out
  }

  /** On an admin device: the roster manifest, made anew when the roster changed. */
  publishRoster(): Promise<Publication | null> {
    return this.serial(async () => {
      const id = this.id
      if (!id.owner) return null
      const state = this.opts.store.state
      if ((state.own.roster?.seq ?? 0) >= id.roster.seq) return null
      const body = decode(signRoster(id.roster, id.owner.seed))
      const blob = packBlob(
        encodeManifest({ kind: 'roster', seq: id.roster.seq, created: this.now(), body }, { ownerSeed: id.owner.seed, ownerPublicKey: id.owner.publicKey }),
        this.circleSecret,
      )
      await this.opts.store.putBlob(blob)
      state.own.roster = { seq: id.roster.seq, root: blob.sha256 }
      await this.opts.store.save()
      return { kind: 'roster', seq: id.roster.seq, blob }
    })
  }

  /** The newest roster manifest this device holds (its own or one it adopted), to pass on. */
  async rosterPublication(): Promise<Publication | null> {
    const owner = hex(this.id.roster.owner)
    const own = this.opts.store.state.own.roster
    const seen = this.opts.store.state.known[knownKey('roster', owner)]
    const best = [own, seen].filter((p) => p && p.seq === this.id.roster.seq)[0]
    const data = best && (await this.opts.store.getBlob(best.root))
    if (!best || !data) return null
    return { kind: 'roster', seq: best.seq, blob: checkBlob(data, this.opts.store.infoHashOf(best.root) ?? '', this.circleSecret) }
  }

  // ---- receiving ------------------------------------------------------------

  /** Reads a roster manifest; returns the newer verified roster and its signed bytes, or null (refused or not newer). */
  readRoster(data: Buffer, source: string): { roster: Roster; signed: Uint8Array; blob: Blob } | null {
    try {
      const plain = unpackBlob(data, MANIFEST_LIMITS.roster.maxBytes)
      const m = decodeManifest(plain, this.decodeContext('roster'))
      return { roster: m.roster!, signed: encode(m.body), blob: blobOf(data, this.circleSecret) }
    } catch (err) {
      return this.refuse(err, source) || null
    }
  }

  /** Records a roster manifest adopted by the caller, so it can be passed on. */
  async keepRoster(blob: Blob, seq: number): Promise<void> {
    await this.opts.store.putBlob(blob)
    this.opts.store.state.known[knownKey('roster', hex(this.id.roster.owner))] = { seq, root: blob.sha256 }
    await this.opts.store.save()
  }

  /**
   * Verifies a library root and everything it names, then takes it in.
   * Resolves true when the state changed; false when refused or not newer.
   */
  applyLibrary(data: Buffer, fetch: BlobFetcher, source: string): Promise<boolean> {
    return this.serial(async () => {
      try {
        const plain = unpackBlob(data, MANIFEST_LIMITS.library.maxBytes)
        const m = decodeManifest(plain, this.decodeContext('library'))
        const device = hex(m.signer)
        if (device === this.self) return false // our own, come back to us
        const root = rootFromBody(m.body)
        const pageCount = rootPageCount(root)
        const tracks: TrackRecord[] = []
        const cues = new Map<string, CueRegister[]>()
        const notes = new Map<string, NoteRegister[]>()
        const blobs: Blob[] = [blobOf(data, this.circleSecret)]
        const readBefore = this.devices.get(device)?.pages
        const pages = new Map<string, PageRead>()
        for (let i = 0; i < root.pages.length; i++) {
          // A page this device sent before, at the same place: already checked and read.
          const key = `${root.pages[i]}:${i}:${pageCount}`
          let read = readBefore?.get(key)
          if (!read) {
            const page = await this.fetchChecked(root.pages[i]!, fetch)
            blobs.push(page)
            const got = decodeLibraryPage(unpackBlob(page.data, LIBRARY_CAPS.pageBytes), i, pageCount, this.intern)
            read = { tracks: got.tracks.map((t) => this.record(t)), cues: got.cues, notes: got.notes }
          }
          pages.set(key, read)
          for (const t of read.tracks) tracks.push(t)
          for (const [audio, regs] of read.cues) cues.set(audio, regs)
          for (const [audio, regs] of read.notes) notes.set(audio, regs)
        }
        if (tracks.length !== root.count) throw new ManifestError('ERR_MISMATCH', `the root says ${root.count} tracks, its pages hold ${tracks.length}`)
        if (cues.size !== (root.cued ?? 0)) throw new ManifestError('ERR_MISMATCH', `the root says cues of ${root.cued ?? 0} recordings, its pages hold ${cues.size}`)
        if (notes.size !== (root.noted ?? 0)) throw new ManifestError('ERR_MISMATCH', `the root says notes of ${root.noted ?? 0} recordings, its pages hold ${notes.size}`)
        const prev = this.devices.get(device)
        const playlists = new Map(prev?.playlists ?? [])
        for (const ref of root.playlists) {
          const have = playlists.get(ref.name)
          if (have && have.seq >= ref.seq) continue
          const blob = await this.fetchChecked(ref.blob, fetch)
          const pm = decodeManifest(unpackBlob(blob.data, MANIFEST_LIMITS.playlist.maxBytes), { ...this.decodeContext('playlist'), known: undefined })
          if (hex(pm.signer) !== device || pm.name !== ref.name || pm.seq !== ref.seq) {
            throw new ManifestError('ERR_MISMATCH', `the playlist blob for "${ref.name}" is not the one the root names`)
          }
          playlists.set(ref.name, { seq: pm.seq, edits: editsFromBody(pm.body) })
          blobs.push(blob)
        }
        // Everything checked: now the state changes.
        for (const b of blobs) await this.opts.store.putBlob(b)
        const known = this.opts.store.state.known
        known[knownKey('library', device)] = { seq: m.seq, root: blobs[0]!.sha256 }
        for (const ref of root.playlists) {
          const p = playlists.get(ref.name)!
          if (p.seq === ref.seq) known[knownKey('playlist', device, ref.name)] = { seq: ref.seq, root: ref.blob }
        }
        this.devices.set(device, { device, name: m.certificate!.name, role: m.certificate!.role, seq: m.seq, root, tracks, pages, cues, notes, playlists })
        if (prev) this.pruneRecords()
        await this.opts.store.save()
        this.emit('changed', 'library', device)
        return true
      } catch (err) {
        return this.refuse(err, source)
      }
    })
  }

  /** Verifies one playlist manifest (from its own DHT item or a notice) and takes it in. */
  applyPlaylist(data: Buffer, source: string): Promise<boolean> {
    return this.serial(async () => {
      try {
        const m = decodeManifest(unpackBlob(data, MANIFEST_LIMITS.playlist.maxBytes), this.decodeContext('playlist'))
        const device = hex(m.signer)
        if (device === this.self || m.name === undefined) return false
        const edits = editsFromBody(m.body)
        const blob = blobOf(data, this.circleSecret)
        await this.opts.store.putBlob(blob)
        let d = this.devices.get(device)
        if (!d) {
          d = { device, name: m.certificate!.name, role: m.certificate!.role, seq: 0, root: { pages: [], count: 0, playlists: [] }, tracks: [], pages: new Map(), cues: new Map(), notes: new Map(), playlists: new Map() }
          this.devices.set(device, d)
        }
        d.playlists.set(m.name, { seq: m.seq, edits })
        this.opts.store.state.known[knownKey('playlist', device, m.name)] = { seq: m.seq, root: blob.sha256 }
        await this.opts.store.save()
        this.emit('changed', 'playlist', device)
        return true
      } catch (err) {
        return this.refuse(err, source)
      }
    })
  }

  private async fetchChecked(sha256: string, fetch: BlobFetcher): Promise<Blob> {
    const data = (await this.opts.store.getBlob(sha256)) ?? (await fetch(sha256))
    if (!data) throw new ManifestError('ERR_UNAVAILABLE', `no online own device has blob ${sha256.slice(0, 12)}`)
    const blob = blobOf(data, this.circleSecret)
    if (blob.sha256 !== sha256) throw new ManifestError('ERR_MISMATCH', `the bytes received for blob ${sha256.slice(0, 12)} hash to something else`)
    return blob
  }

  /** The record of a manifest track, shared with any device listing the very same track. */
  private record(t: ManifestTrack): TrackRecord {
    const have = this.records.get(t.sha256)
    if (have && sameTrack(have, t)) return have
    if (t.analysis) this.analyses.set(t.audioHash, t.analysis)
    const record: TrackRecord = {
      sha256: t.sha256,
      audioHash: t.audioHash,
      size: t.size,
      format: t.format,
      pieceLength: pieceLengthFor(t.size),
      // The decoded tags object becomes the record's (it is fresh from decodePage).
      tags: Object.assign(t.tags, { hasCover: t.tags.hasCover ?? false }),
      ...(t.analysis ? { analysis: summaryOf(t.analysis) } : {}),
      paths: NO_PATHS as string[],
      missing: false,
      added: 0,
      updated: 0,
    }
    this.records.set(t.sha256, record)
    return record
  }

  /**
   * Analyses other own devices made, by audio hash (the newest analyser
   * version seen), with their overview waveform: what this device need not
   * compute again.
   */
  sharedAnalyses(): Map<string, ManifestAnalysis> {
    const out = new Map<string, ManifestAnalysis>()
    for (const [audioHash, a] of this.analyses) {
      const have = out.get(audioHash)
      if (!have || a.version > have.version) out.set(audioHash, a)
    }
    return out
  }

  /** Drops records no device lists any more. */
  private pruneRecords(): void {
    const used = new Set<string>()
    for (const d of this.devices.values()) for (const t of d.tracks) used.add(t.sha256)
    for (const sha of this.records.keys()) if (!used.has(sha)) this.records.delete(sha)
    const recordings = new Set([...this.records.values()].map((r) => r.audioHash))
    for (const ah of this.analyses.keys()) if (!recordings.has(ah)) this.analyses.delete(ah)
  }

  /** Forgets the manifests of devices the roster revoked. */
  async dropRevoked(): Promise<number> {
    let n = 0
    for (const d of [...this.devices.values()]) {
      if (this.isLive(d.device)) continue
      this.devices.delete(d.device)
      for (const key of Object.keys(this.opts.store.state.known)) if (key.split(':')[1] === d.device) delete this.opts.store.state.known[key]
      n++
    }
    if (n) await this.opts.store.save()
    this.emit('changed', 'roster', hex(this.id.roster.owner)) // what counts as live may have changed
    return n
  }

  /** Removes blobs that no current root, page or playlist refers to. */
  private async collect(): Promise<void> {
    const keep = new Set<string>()
    const { own, known } = this.opts.store.state
    for (const p of [...Object.values(own), ...Object.values(known)]) keep.add(p.root)
    for (const d of this.devices.values()) for (const p of d.root.pages) keep.add(p)
    const mine = own.library && (await this.opts.store.getBlob(own.library.root))
    if (mine) {
      const m = decodeManifest(unpackBlob(mine, MANIFEST_LIMITS.library.maxBytes), { roster: this.id.roster, expectedKind: 'library', now: this.now() })
      for (const p of rootFromBody(m.body).pages) keep.add(p)
    }
    await this.opts.store.collect(keep)
  }
}

/** The analysis summary of a manifest track (its overview waveform stays with the book's analyses). */
function summaryOf(a: ManifestAnalysis): NonNullable<TrackRecord['analysis']> {
  const { overview: _o, ...summary } = a
  return summary
}

/** Whether a record made earlier says exactly what this manifest track says. */
function sameTrack(r: TrackRecord, t: ManifestTrack): boolean {
  if (r.audioHash !== t.audioHash || r.size !== t.size || r.format !== t.format) return false
  if (JSON.stringify(r.analysis ?? null) !== JSON.stringify(t.analysis ? summaryOf(t.analysis) : null)) return false
  const a = r.tags as unknown as Record<string, unknown>
  const b = { ...t.tags, hasCover: t.tags.hasCover ?? false } as Record<string, unknown>
  const keys = Object.keys(b)
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k])
}
