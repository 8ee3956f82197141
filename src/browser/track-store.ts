// The browser device's track store: tracks fetched into the page, kept in
// OPFS within a byte budget the user sets. The browser's PartialFile /
// CompleteFile (src/swarm/piece-file.ts), behind the same PartialStore /
// PieceSource interfaces, so the same Torrent fetches into it and serves
// from it. Each piece is SHA-1-checked before it is written (by Torrent, as
// the wire does) and again when an earlier run's piece is first used; a
// track is complete only once its whole SHA-256 (its id) checks.
//
// Bytes: OPFS <name>/<sha256>/<piece index>, one file per piece. In a page
// (not a worker) OPFS writes only through createWritable(), which copies a
// file to a swap file and back on close: one small file per piece keeps
// each write the size of a piece, not of the track (docs/browser.md).
// Index: IndexedDB (track-index.ts). Budget: a track being fetched reserves
// its whole size before its first piece; room is made by evicting the least
// recently used tracks that are neither pinned nor open. When that is not
// enough the fetch is refused (ERR_BUDGET) and nothing is evicted.
import { createHash } from 'node:crypto' // in the page: shims/node-crypto.ts (WebAssembly once loaded)
import { Bitfield, PieceFileError, pieceHash, pieceSize, type PartialStore, type PieceSource, type TorrentMeta } from '../swarm/browser.ts'
import { TrackIndex, type TrackRecord } from './track-index.ts'

export type TrackStoreErrorCode = 'ERR_BUDGET' | 'ERR_BAD_BUDGET' | 'ERR_NOT_HELD' | 'ERR_IN_USE' | 'ERR_MISMATCH'

export class TrackStoreError extends Error {
  override name = 'TrackStoreError'
  constructor(
    readonly code: TrackStoreErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** The budget until the user sets one. */
export const DEFAULT_BROWSER_BUDGET = 512 * 1024 * 1024 // bytes
/** Bytes of pieces a fetch holds past the in-order prefix of its running SHA-256 (OpfsPartialFile.feed). */
const AHEAD_BYTES = 8 * 1024 * 1024

export interface TrackStoreOptions {
  /** The IndexedDB database and the OPFS directory (default 'djcloud-tracks'). */
  name?: string
  /** The budget when the user has set none yet (DEFAULT_BROWSER_BUDGET). */
  budgetBytes?: number
}

/** What a track record says, for a page to show. */
export interface TrackInfo {
  sha256: string
  size: number
  complete: boolean
  piecesHeld: number
  lastUsed: number
  pinned: boolean
}

const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * Piece writes of one track in flight at once. A page's OPFS calls queue in
 * the browser process: a fetch starting hundreds of writes put the player's
 * next read behind all of them (1.4 s for a 20 MB track, bench/browser).
 * Writes wait their turn here; reads never do. A piece waiting to be written
 * is served from the Torrent's memory meanwhile.
 */
const WRITES_AT_ONCE = 4

/** A track's pieces as OPFS files. */
class PieceFiles {
  private writing = 0
  private readonly turns: Array<() => void> = []

  constructor(
    private readonly dir: FileSystemDirectoryHandle,
    private readonly meta: TorrentMeta,
  ) {}

  async write(index: number, data: Uint8Array): Promise<void> {
    if (this.writing >= WRITES_AT_ONCE) await new Promise<void>((go) => this.turns.push(go))
    this.writing++
    try {
      const fh = await this.dir.getFileHandle(String(index), { create: true })
      const w = await fh.createWritable()
      try {
        await w.write(data as Uint8Array<ArrayBuffer>)
        await w.close()
      } catch (err) {
        await w.abort().catch(() => {})
        throw err
      }
    } finally {
      this.writing--
      this.turns.shift()?.()
    }
  }

  async piece(index: number): Promise<File> {
    const f = await (await this.dir.getFileHandle(String(index))).getFile()
    if (f.size !== pieceSize(this.meta, index)) throw new PieceFileError('ERR_CHANGED', `piece ${index} is not its size in the store`)
    return f
  }

  async read(index: number, offset: number, length: number): Promise<Buffer> {
    const f = await this.piece(index)
    return Buffer.from(await f.slice(offset, offset + length).arrayBuffer())
  }

  async readAt(position: number, length: number): Promise<Buffer> {
    const L = this.meta.pieceLength
    const parts: Buffer[] = []
    for (let i = Math.floor(position / L); i * L < position + length; i++) {
      const from = Math.max(position, i * L) - i * L
      const to = Math.min(position + length, (i + 1) * L) - i * L
      parts.push(await this.read(i, from, to - from))
    }
    return Buffer.concat(parts)
  }
}

export class BrowserTrackStore {
  private readonly records = new Map<string, TrackRecord>()
  /** Open sources per track: an open track is never evicted. */
  private readonly inUse = new Map<string, number>()
  private clock = 0

  private constructor(
    private readonly index: TrackIndex,
    private readonly dir: FileSystemDirectoryHandle,
    readonly name: string,
    private budgetBytes: number,
  ) {}

  static async open(opts: TrackStoreOptions = {}): Promise<BrowserTrackStore> {
    const name = opts.name ?? 'djcloud-tracks'
    const index = await TrackIndex.open(name)
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name, { create: true })
    const budget = (await index.setting<number>('budget')) ?? opts.budgetBytes ?? DEFAULT_BROWSER_BUDGET
    const store = new BrowserTrackStore(index, dir, name, budget)
    for (const r of await index.all()) {
      store.records.set(r.sha256, r)
      store.clock = Math.max(store.clock, r.lastUsed)
    }
    return store
  }

  get budget(): number {
    return this.budgetBytes
  }

  /** Bytes the tracks take, a track being fetched counting its whole size. */
  get used(): number {
    let n = 0
    for (const r of this.records.values()) n += r.size
    return n
  }

  tracks(): TrackInfo[] {
    return [...this.records.values()].map((r) => ({
      sha256: r.sha256, size: r.size, complete: r.complete, piecesHeld: new Bitfield(Math.ceil(r.size / r.pieceLength), r.held).count, lastUsed: r.lastUsed, pinned: r.pinned,
    }))
  }

  /** Whether the track is here whole. */
  has(sha256: string): boolean {
    return this.records.get(sha256)?.complete === true
  }

  /** Sets the budget (kept); tracks beyond it are evicted, least recently used first. Returns those evicted. */
  async setBudget(bytes: number): Promise<string[]> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TrackStoreError('ERR_BAD_BUDGET', 'the budget is a whole number of bytes')
    this.budgetBytes = bytes
    await this.index.setSetting('budget', bytes)
    const evicted: string[] = []
    for (const r of this.evictable()) {
      if (this.used <= this.budgetBytes) break
      await this.remove(r.sha256)
      evicted.push(r.sha256)
    }
    return evicted
  }

  /** A pinned track is never evicted. */
  async pin(sha256: string, pinned = true): Promise<void> {
    const r = this.records.get(sha256)
    if (!r) throw new TrackStoreError('ERR_NOT_HELD', `track ${sha256} is not in the store`)
    r.pinned = pinned
    await this.index.put(r)
  }

  /** Opens (or resumes) the fetch of `meta`'s track: room is made first, or ERR_BUDGET. */
  async fetchInto(meta: TorrentMeta): Promise<OpfsPartialFile> {
    if (!SHA256_HEX.test(meta.sha256)) throw new TrackStoreError('ERR_MISMATCH', 'not a track id')
    let r = this.records.get(meta.sha256)
    if (r?.complete) throw new TrackStoreError('ERR_IN_USE', `track ${meta.sha256} is already here whole: open() it`)
    if (r && this.inUse.has(r.sha256)) throw new TrackStoreError('ERR_IN_USE', `track ${meta.sha256} is being fetched already`)
    if (r && (r.size !== meta.size || r.pieceLength !== meta.pieceLength)) {
      await this.remove(meta.sha256) // a record of another shape: what it holds cannot be these pieces
      r = undefined
    }
    if (!r) {
      await this.makeRoom(meta.size)
      r = { sha256: meta.sha256, size: meta.size, pieceLength: meta.pieceLength, held: new Uint8Array(Math.ceil(meta.pieceCount / 8)), complete: false, lastUsed: 0, pinned: false }
      this.records.set(r.sha256, r)
    }
    this.touch(r)
    await this.index.put(r)
    const dir = await this.dir.getDirectoryHandle(meta.sha256, { create: true })
    this.acquire(r.sha256)
    return new OpfsPartialFile(this, meta, new PieceFiles(dir, meta), new Bitfield(meta.pieceCount, r.held), r)
  }

  /** A whole track to play or serve; it counts as used now. */
  async open(meta: TorrentMeta): Promise<OpfsCompleteFile> {
    const r = this.records.get(meta.sha256)
    if (!r?.complete) throw new TrackStoreError('ERR_NOT_HELD', `track ${meta.sha256} is not here whole`)
    if (r.size !== meta.size || r.pieceLength !== meta.pieceLength) throw new TrackStoreError('ERR_MISMATCH', 'the track here has another size or piece length')
    this.touch(r)
    await this.index.put(r)
    const dir = await this.dir.getDirectoryHandle(meta.sha256)
    this.acquire(r.sha256)
    return new OpfsCompleteFile(this, meta, new PieceFiles(dir, meta))
  }

  /** Deletes a track (not one open now). */
  async remove(sha256: string): Promise<void> {
    if (this.inUse.has(sha256)) throw new TrackStoreError('ERR_IN_USE', `track ${sha256} is open`)
    this.records.delete(sha256)
    await this.index.delete(sha256)
    await this.dir.removeEntry(sha256, { recursive: true }).catch((err: DOMException) => {
      if (err.name !== 'NotFoundError') throw err
    })
  }

  close(): void {
    this.index.close()
  }

  // ---- for the files -------------------------------------------------------

  /** @internal */ async save(r: TrackRecord): Promise<void> {
    if (this.records.get(r.sha256) === r) await this.index.put(r)
  }

  /** @internal */ release(sha256: string): void {
    const n = (this.inUse.get(sha256) ?? 0) - 1
    if (n > 0) this.inUse.set(sha256, n)
    else this.inUse.delete(sha256)
  }

  /** @internal */ async completed(meta: TorrentMeta, r: TrackRecord): Promise<OpfsCompleteFile> {
    r.complete = true
    r.held = Bitfield.full(meta.pieceCount).bytes
    await this.save(r)
    return this.open(meta)
  }

  private acquire(sha256: string): void {
    this.inUse.set(sha256, (this.inUse.get(sha256) ?? 0) + 1)
  }

  private touch(r: TrackRecord): void {
    r.lastUsed = this.clock = Math.max(Date.now(), this.clock + 1)
  }

  /** Tracks that may go, least recently used first. */
  private evictable(): TrackRecord[] {
    return [...this.records.values()].filter((r) => !r.pinned && !this.inUse.has(r.sha256)).sort((a, b) => a.lastUsed - b.lastUsed)
  }

  /** Evicts what it takes for `bytes` more to fit, or evicts nothing and refuses. */
  private async makeRoom(bytes: number): Promise<void> {
    let free = this.budgetBytes - this.used
    const victims: string[] = []
    for (const r of this.evictable()) {
      if (free >= bytes) break
      free += r.size
      victims.push(r.sha256)
    }
    if (free < bytes) {
      throw new TrackStoreError('ERR_BUDGET', `${bytes} bytes do not fit in the budget of ${this.budgetBytes} (${this.used} used, pinned or open tracks stay)`)
    }
    for (const sha of victims) await this.remove(sha)
  }
}

const sha1Matches = (meta: TorrentMeta, index: number, data: Uint8Array) => {
  const want = pieceHash(meta, index)
  const got = createHash('sha1').update(data).digest()
  return got.length === want.length && got.every((b, i) => b === want[i])
}

/** A complete track in the store. */
export class OpfsCompleteFile implements PieceSource {
  readonly have: Bitfield
  private closed = false

  constructor(
    private readonly store: BrowserTrackStore,
    readonly meta: TorrentMeta,
    private readonly files: PieceFiles,
  ) {
    this.have = Bitfield.full(meta.pieceCount)
  }

  read(index: number, offset: number, length: number): Promise<Buffer> {
    return this.readAt(index * this.meta.pieceLength + offset, length)
  }

  readAt(position: number, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the track is closed'))
    return this.files.readAt(position, length)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.store.release(this.meta.sha256)
  }
}

/** A track being fetched into the store (PartialFile's twin, piece-file.ts). */
export class OpfsPartialFile implements PartialStore {
  readonly partial = true
  readonly have: Bitfield
  onVerified: ((index: number, ok: boolean) => void) | null = null
  /** Pieces the index lists from an earlier run, not checked again yet. */
  private readonly unverified = new Set<number>()
  private readonly checking = new Map<number, Promise<boolean>>()
  private readonly inflight = new Set<Promise<void>>()
  private reverifying: Promise<void> | null = null
  private closed = false
  private finishing = false
  private saving: Promise<void> | null = null
  private dirty = false
  /**
   * The whole-file SHA-256 over pieces 0..hashed-1, fed from the bytes
   * writePiece is handed as the in-order prefix grows, so complete() reads
   * back from OPFS only what is left (reading all of a 50 MB track back
   * after the last piece took ~2.3 s of its ~7 s fetch: bench/browser).
   */
  private readonly prefix = createHash('sha256')
  private hashed = 0
  /** Pieces written past the prefix, held until it reaches them (at most AHEAD_BYTES). */
  private readonly ahead = new Map<number, Uint8Array>()
  private aheadBytes = 0

  constructor(
    private readonly store: BrowserTrackStore,
    readonly meta: TorrentMeta,
    private readonly files: PieceFiles,
    claimed: Bitfield,
    private readonly record: TrackRecord,
  ) {
    this.have = new Bitfield(meta.pieceCount)
    for (let i = 0; i < meta.pieceCount; i++) if (claimed.get(i)) this.unverified.add(i)
  }

  get unverifiedCount(): number {
    return this.unverified.size
  }

  /** Pieces already in the running whole-file SHA-256 (complete() reads back the rest). */
  get hashedPieces(): number {
    return this.hashed
  }

  /** Adds a piece written this run to the running hash, or holds it until the prefix reaches it. */
  private feed(index: number, data: Uint8Array): void {
    if (index < this.hashed || this.ahead.has(index)) return
    if (index > this.hashed) {
      // Beyond the window it is read back at the end instead.
      if (this.aheadBytes + data.length <= AHEAD_BYTES) {
        this.ahead.set(index, data.slice())
        this.aheadBytes += data.length
      }
      return
    }
    this.prefix.update(data)
    this.hashed++
    for (let next = this.ahead.get(this.hashed); next; next = this.ahead.get(this.hashed)) {
      this.ahead.delete(this.hashed)
      this.aheadBytes -= next.length
      this.prefix.update(next)
      this.hashed++
    }
  }

  isUnverified(index: number): boolean {
    return this.unverified.has(index)
  }

  read(index: number, offset: number, length: number): Promise<Buffer> {
    return this.readAt(index * this.meta.pieceLength + offset, length)
  }

  /** Bytes of verified pieces only: a resumed piece is checked first, one not held is refused. */
  readAt(position: number, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial track is closed'))
    if (this.finishing) return Promise.reject(new PieceFileError('ERR_CHANGED', 'the partial track is being finished'))
    const L = this.meta.pieceLength
    const pending: Array<Promise<boolean>> = []
    for (let i = Math.floor(position / L); i <= Math.floor((position + length - 1) / L); i++) {
      if (this.unverified.has(i)) pending.push(this.verifyPiece(i))
      else if (!this.have.get(i)) return Promise.reject(new PieceFileError('ERR_NOT_HELD', `piece ${i} is not held here`))
    }
    if (pending.length === 0) return this.track(this.files.readAt(position, length))
    return Promise.all(pending).then((oks) => {
      if (!oks.every(Boolean)) throw new PieceFileError('ERR_NOT_HELD', 'a resumed piece under these bytes failed its SHA-1')
      return this.readAt(position, length)
    })
  }

  verifyPiece(index: number): Promise<boolean> {
    if (!this.unverified.has(index)) return Promise.resolve(this.have.get(index))
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial track is closed'))
    let p = this.checking.get(index)
    if (!p) {
      p = this.track(
        this.files.read(index, 0, pieceSize(this.meta, index)).then(
          (data) => this.settle(index, data),
          () => this.settle(index, new Uint8Array(0)), // missing or cut short: fetched again
        ),
      )
      this.checking.set(index, p)
      void p.finally(() => this.checking.delete(index)).catch(() => {})
    }
    return p
  }

  private settle(index: number, data: Uint8Array): boolean {
    if (!this.unverified.delete(index)) return this.have.get(index)
    const ok = sha1Matches(this.meta, index, data)
    if (ok) this.have.set(index)
    else this.saveIndex()
    this.onVerified?.(index, ok)
    return ok
  }

  reverify(): Promise<void> {
    this.reverifying ??= this.track(
      (async () => {
        for (const i of [...this.unverified].sort((a, b) => a - b)) {
          if (this.closed) return
          await this.verifyPiece(i).catch(() => {})
        }
      })(),
    )
    return this.reverifying
  }

  writePiece(index: number, data: Uint8Array): Promise<void> {
    if (data.length !== pieceSize(this.meta, index)) return Promise.reject(new RangeError('piece of the wrong size'))
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial track is closed'))
    this.unverified.delete(index)
    this.feed(index, data)
    return this.track(
      this.files.write(index, data).then(() => {
        this.have.set(index)
        this.saveIndex()
      }),
    )
  }

  /** Checks the whole track's SHA-256 (its id), reading its pieces in order; then it is complete. */
  async complete(): Promise<{ path: string; source: PieceSource }> {
    if (this.closed) throw new PieceFileError('ERR_CLOSED', 'the partial track is closed')
    this.finishing = true
    try {
      await this.drain()
      const h = this.prefix.copy() // a failed check leaves the prefix for another try
      for (let i = this.hashed; i < this.meta.pieceCount; i++) {
        if (this.closed) throw new PieceFileError('ERR_CLOSED', 'closed during the check')
        h.update(await this.files.read(i, 0, pieceSize(this.meta, i)))
      }
      if (Buffer.from(h.digest()).toString('hex') !== this.meta.sha256) throw new PieceFileError('ERR_VERIFY', 'the fetched track does not match its SHA-256')
    } catch (err) {
      this.finishing = false
      throw err
    }
    const source = await this.store.completed(this.meta, this.record)
    await this.close()
    return { path: `opfs:${this.store.name}/${this.meta.sha256}`, source }
  }

  async recheck(): Promise<number[]> {
    const bad: number[] = []
    for (let i = 0; i < this.meta.pieceCount; i++) {
      if (this.closed) throw new PieceFileError('ERR_CLOSED', 'closed during the check')
      if (!this.have.get(i)) continue
      const ok = await this.files.read(i, 0, pieceSize(this.meta, i)).then((d) => sha1Matches(this.meta, i, d), () => false)
      if (!ok) bad.push(i)
    }
    for (const i of bad) this.have.clear(i)
    if (bad.length) this.saveIndex()
    return bad
  }

  async discard(): Promise<void> {
    await this.close()
    await this.store.remove(this.meta.sha256)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.ahead.clear()
    this.aheadBytes = 0
    await this.drain()
    this.store.release(this.meta.sha256)
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(() => {}, () => {})
    this.inflight.add(settled)
    void settled.finally(() => this.inflight.delete(settled))
    return p
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0 || this.saving) await Promise.allSettled([...this.inflight, this.saving])
  }

  /** Rewrites the index record (coalesced), after the pieces it lists were written. */
  private saveIndex(): void {
    this.dirty = true
    if (this.saving) return
    this.saving = (async () => {
      while (this.dirty) {
        this.dirty = false
        const list = new Bitfield(this.meta.pieceCount, this.have.bytes)
        for (const i of this.unverified) list.set(i)
        this.record.held = Uint8Array.from(list.bytes)
        await this.store.save(this.record).catch(() => {}) // the old record stays: it lists less, never more
      }
      this.saving = null
    })()
  }
}
