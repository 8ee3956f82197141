// The cache of tracks fetched from other devices: a byte budget, LRU
// eviction and pins. Every byte a track's files take in the cache dir is
// accounted before it is written: a download reserves its whole footprint
// before its first piece, and the reservation becomes the cached track when
// the download is done. A reservation that does not fit evicts the least
// recently used unpinned tracks first (their files are deleted before the
// reservation is granted); when even that is not enough, the download is
// refused. So the cache dir never holds more than the budget, at any instant.
//
// The state (last use per track, pins, the budget) is one JSON file in the
// cache dir, rewritten coalesced and atomically (temp file, fsync, rename).
// What is cached is not in it: the files are, and they are read at open().
import { EventEmitter } from 'node:events'
import { mkdir, open as openFile, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { cachePaths } from './piece-file.ts'
import { SwarmError } from './errors.ts'

export const CACHE_STATE_FILE = 'cache-state.json'
/** Default budget cap: a gig's worth of lossless tracks (300 x ~35 MB FLAC) with room for LRU. */
export const DEFAULT_CACHE_BUDGET_MAX = 20_000_000_000 // bytes
const SAVE_DELAY = 1_000 // ms: last-use updates are written at most this often
const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * The budget a cache gets at its first start when none is configured: 20 GB,
 * or half the free space of its disk when that is less (a phone or a nearly
 * full laptop). Computed once and saved: the cache filling the disk must not
 * shrink its own budget at the next start.
 */
export function defaultCacheBudget(freeBytes: number): number {
  return Math.max(0, Math.min(DEFAULT_CACHE_BUDGET_MAX, Math.floor(freeBytes / 2)))
}

export type CacheEntryState =
  /** Whole and SHA-256-verified. */
  | 'cached'
  /** A download in flight in this run: its whole footprint is reserved. */
  | 'fetching'
  /** A partial file left by an earlier run, not being fetched now: resumed by the next fetch; evicted first unless pinned. */
  | 'partial'

export interface CacheEntry {
  sha256: string
  state: CacheEntryState
  /** Bytes accounted: the file and its sidecars (a reservation while fetching). */
  bytes: number
  /** ms since the epoch: last served to the player or a peer, or fetched. */
  lastUse: number
  pinned: boolean
}

export interface CacheStats {
  budget: number
  /** Everything accounted: cached + fetching + partial. Never above budget. */
  used: number
  cached: number
  fetching: number
  partial: number
  /** Bytes of pinned tracks present (cached, being fetched, or partial). */
  pinned: number
  tracks: number
  /** Pins, including pins of tracks not cached yet. */
  pins: number
}

export interface TrackCacheOptions {
  dir: string
  /** Bytes. Wins over the saved budget for this run (not saved). Default: the saved one, else defaultCacheBudget(). */
  budget?: number
  /**
   * Called before a cached track's (or a stalled download's) files are
   * deleted: stop serving or fetching it and close what reads it. The track
   * is evicted even if this throws.
   */
  beforeEvict?: (sha256: string) => Promise<void>
  /**
   * Whether a download in flight is stalled (nobody has fed it for a while):
   * it may then be evicted like a partial file of an earlier run. Without
   * this, downloads in flight are never evicted.
   */
  stalled?: (sha256: string) => boolean
  /** ms between coalesced writes of last-use times. */
  saveDelay?: number
}

interface Events {
  /** A cached track's files were deleted to make room (sha256, bytes freed). */
  evicted: [sha256: string, bytes: number]
  warning: [err: Error]
}

interface Entry {
  state: CacheEntryState
  bytes: number
}

interface SavedState {
  v: 1
  budget?: number
  pins: string[]
  lastUse: Record<string, number>
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB']

/** Bytes as people read them, three significant digits: "512 B", "10.5 MB", "20.0 GB". */
export function formatBytes(n: number): string {
  let v = n
  let u = 0
  // Rounded first: 999,950 bytes read "1.00 MB", not "1.00e+3 kB".
  while (u < UNITS.length - 1 && Number(v.toPrecision(3)) >= 1000) {
    v /= 1000
    u++
  }
  if (u === 0) return `${n} B`
  return `${v >= 1000 ? Math.round(v) : v.toPrecision(3)} ${UNITS[u]}`
}

/** Two figures to compare in one message: when they would read the same, in bytes. */
function figures(a: number, b: number): [string, string] {
  const [x, y] = [formatBytes(a), formatBytes(b)]
  return x === y ? [`${a} bytes`, `${b} bytes`] : [x, y]
}

export class TrackCache extends EventEmitter<Events> {
  private readonly entries = new Map<string, Entry>()
  private readonly lastUse = new Map<string, number>()
  private readonly pinSet = new Set<string>()
  private used = 0
  private savedBudget: number | undefined
  private budgetBytes = 0
  private opened = false
  private closed = false
  /** Reservations, budget changes and evictions run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve()
  private saveTimer: NodeJS.Timeout | undefined
  private saving: Promise<void> | null = null
  private dirty = false

  constructor(private readonly opts: TrackCacheOptions) {
    super()
  }

  private get statePath(): string {
    return join(this.opts.dir, CACHE_STATE_FILE)
  }

  /**
   * Reads the saved state and accounts every track file in the dir; evicts
   * down to the budget if it is over. Throws ERR_CACHE_BUDGET when the
   * configured budget is smaller than the pinned tracks present.
   */
  async open(): Promise<void> {
    if (this.opened) return
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 })
    await this.load()
    await this.scan()
    const budget = this.opts.budget ?? this.savedBudget ?? defaultCacheBudget(await this.freeSpace())
    checkBudget(budget)
    if (this.opts.budget === undefined && this.savedBudget === undefined) this.savedBudget = budget
    this.opened = true
    try {
      await this.exclusive(async () => {
        this.refuseBelowKept(budget)
        this.budgetBytes = budget
        if (this.used > budget) await this.makeRoom(this.used - budget, null)
      })
      await this.save()
    } catch (err) {
      this.opened = false
      throw err
    }
  }

  get budget(): number {
    return this.budgetBytes
  }

  /** Whether the track is whole and verified here. */
  has(sha256: string): boolean {
    return this.entries.get(sha256)?.state === 'cached'
  }

  isPinned(sha256: string): boolean {
    return this.pinSet.has(sha256)
  }

  /** Pinned SHA-256s, cached or not. */
  pins(): string[] {
    return [...this.pinSet].sort()
  }

  /** Every accounted track, in eviction order: least recently used first. */
  list(): CacheEntry[] {
    return [...this.entries]
      .map(([sha256, e]) => ({ sha256, state: e.state, bytes: e.bytes, lastUse: this.lastUse.get(sha256) ?? 0, pinned: this.pinSet.has(sha256) }))
      .sort((a, b) => a.lastUse - b.lastUse || (a.sha256 < b.sha256 ? -1 : 1))
  }

  stats(): CacheStats {
    const s: CacheStats = { budget: this.budgetBytes, used: this.used, cached: 0, fetching: 0, partial: 0, pinned: 0, tracks: 0, pins: this.pinSet.size }
    for (const [sha, e] of this.entries) {
      s[e.state] += e.bytes
      if (e.state === 'cached') s.tracks++
      if (this.pinSet.has(sha)) s.pinned += e.bytes
    }
    return s
  }

  /** The track was served (to the player or a peer): it moves to the end of the eviction order. */
  touch(sha256: string): void {
    const e = this.entries.get(sha256)
    if (!e || e.state === 'partial') return
    this.lastUse.set(sha256, Date.now())
    this.scheduleSave()
  }

  /**
   * Keeps the track: never evicted. A track not cached yet may be pinned; it
   * is kept once fetched. Its size is unknown until then, so it does not
   * count toward the budget check (its download is refused with
   * ERR_CACHE_FULL when it cannot fit).
   */
  async pin(sha256: string): Promise<void> {
    this.assertOpen()
    if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a SHA-256: ${sha256}`)
    // In the queue: an eviction under way finishes first (it chose its tracks before the pin).
    await this.exclusive(async () => {
      if (this.pinSet.has(sha256)) return
      this.pinSet.add(sha256)
      await this.save()
    })
  }

  async unpin(sha256: string): Promise<void> {
    this.assertOpen()
    await this.exclusive(async () => {
      if (!this.pinSet.delete(sha256)) return
      await this.save()
    })
  }

  /**
   * Sets and saves the budget. A smaller one evicts least recently used
   * unpinned tracks at once; one smaller than the pinned tracks (plus
   * downloads in flight, which cannot be evicted) is refused with
   * ERR_CACHE_BUDGET and changes nothing.
   */
  async setBudget(bytes: number): Promise<void> {
    this.assertOpen()
    checkBudget(bytes)
    return this.exclusive(async () => {
      this.refuseBelowKept(bytes)
      if (this.used > bytes) await this.makeRoom(this.used - bytes, null)
      this.budgetBytes = bytes
      this.savedBudget = bytes
      await this.save()
    })
  }

  /**
   * Reserves `bytes` (a track's whole footprint in the cache dir) for its
   * download, before anything is written. A partial file of an earlier run
   * is taken over (resumed). Evicts least recently used unpinned tracks when
   * needed; throws ERR_CACHE_FULL, evicting nothing, when that cannot make
   * room.
   */
  async reserve(sha256: string, bytes: number): Promise<void> {
    this.assertOpen()
    return this.exclusive(async () => {
      this.assertOpen()
      const e = this.entries.get(sha256)
      if (e?.state === 'cached') throw new Error(`${sha256} is cached already`)
      if (e?.state === 'fetching') return // one download per track (its files are named by SHA-256): reserved once
      const have = e?.bytes ?? 0
      const total = Math.max(bytes, have)
      const over = this.used - have + total - this.budgetBytes
      if (over > 0) await this.makeRoom(over, sha256, total)
      if (this.used - have + total > this.budgetBytes) throw new Error('the cache is over its budget after eviction') // a broken invariant
      this.set(sha256, { state: 'fetching', bytes: total })
      this.lastUse.set(sha256, Date.now())
    })
  }

  /**
   * The download is whole and verified: its reservation becomes the cached
   * track, `bytes` (what its files take now, not more than was reserved).
   */
  complete(sha256: string, bytes: number): void {
    const e = this.entries.get(sha256)
    if (e?.state !== 'fetching') return
    if (bytes > e.bytes) this.emit('warning', new Error(`${sha256.slice(0, 12)} takes ${bytes} bytes, ${e.bytes} were reserved`))
    this.set(sha256, { state: 'cached', bytes })
    this.lastUse.set(sha256, Date.now())
    this.scheduleSave()
  }

  /** The download was abandoned (failed, refused by the disk): its partial files are deleted and its bytes freed. */
  release(sha256: string): Promise<void> {
    // In the queue: a new reservation for the same track, asked after this, is not released by it.
    return this.exclusive(async () => {
      const e = this.entries.get(sha256)
      if (!e || e.state === 'cached') return
      const p = cachePaths(this.opts.dir, sha256)
      // The whole file too: a download that failed after its rename (it could not be reopened) leaves it.
      for (const path of [p.part, p.have, p.haveTmp, p.final]) await rm(path, { force: true })
      this.set(sha256, null)
      this.lastUse.delete(sha256)
      this.scheduleSave()
    })
  }

  /**
   * A download stops with its partial file kept: `stop` closes what writes
   * it (and says whether it did) while no reservation can run, then the
   * entry becomes 'partial': evictable, and taken over (resumed) by the next
   * reservation of the track.
   */
  park(sha256: string, stop: () => Promise<boolean>): Promise<void> {
    return this.exclusive(async () => {
      if (this.entries.get(sha256)?.state !== 'fetching' || !(await stop())) return
      const e = this.entries.get(sha256)
      if (e?.state !== 'fetching') return
      this.set(sha256, { state: 'partial', bytes: e.bytes })
      this.scheduleSave()
    })
  }

  /** Writes pending state. Downloads in flight stay on disk as partial files, accounted at the next open(). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.catch(() => {})
    clearTimeout(this.saveTimer)
    if (this.opened) await this.save()
  }

  // ---- inside ------------------------------------------------------------

  private assertOpen(): void {
    if (!this.opened || this.closed) throw new SwarmError('ERR_NOT_RUNNING', 'the track cache is not open')
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  private set(sha256: string, e: Entry | null): void {
    this.used -= this.entries.get(sha256)?.bytes ?? 0
    if (e) {
      this.entries.set(sha256, e)
      this.used += e.bytes
    } else this.entries.delete(sha256)
  }

  /** Bytes that no eviction can free: pinned tracks present (whole or not), and downloads in flight not stalled. */
  private kept(): { pinned: number; fetching: number } {
    let pinned = 0
    let fetching = 0
    for (const [sha, e] of this.entries) {
      if (this.pinSet.has(sha)) pinned += e.bytes
      else if (!this.evictable(sha, e)) fetching += e.bytes
    }
    return { pinned, fetching }
  }

  private evictable(sha256: string, e: Entry): boolean {
    if (this.pinSet.has(sha256)) return false
    return e.state !== 'fetching' || this.opts.stalled?.(sha256) === true
  }

  private refuseBelowKept(budget: number): void {
    const { pinned, fetching } = this.kept()
    if (budget >= pinned + fetching) return
    const [b, p] = figures(budget, pinned)
    const inFlight = fetching > 0 ? ` plus ${formatBytes(fetching)} of downloads in flight` : ''
    throw new SwarmError('ERR_CACHE_BUDGET', `cache budget ${b} is smaller than the pinned tracks (${p})${inFlight}: unpin tracks or choose a larger budget`)
  }

  /**
   * Evicts until `need` bytes are freed, never a pinned track: partial files
   * of earlier runs and stalled downloads first, then cached tracks, least
   * recently used first. Checks first that it can: when it cannot, nothing
   * is evicted and a download (`forSha`) is refused with ERR_CACHE_FULL.
   */
  private async makeRoom(need: number, forSha: string | null, forBytes = 0): Promise<void> {
    const order = this.list().filter((e) => e.sha256 !== forSha && this.evictable(e.sha256, this.entries.get(e.sha256)!))
    const whole = (e: CacheEntry) => (e.state === 'cached' ? 1 : 0)
    order.sort((a, b) => whole(a) - whole(b))
    const freeable = order.reduce((n, e) => n + e.bytes, 0)
    if (freeable < need) {
      const { pinned, fetching } = this.kept()
      const inFlight = fetching > 0 ? `, downloads in flight ${formatBytes(fetching)}` : ''
      throw new SwarmError(
        'ERR_CACHE_FULL',
        `no room in the cache for ${forSha?.slice(0, 12) ?? 'the track'} (${formatBytes(forBytes)}): budget ${formatBytes(this.budgetBytes)}, pinned ${formatBytes(pinned)}${inFlight}`,
      )
    }
    let freed = 0
    for (const e of order) {
      if (freed >= need) break
      freed += await this.evict(e.sha256)
    }
  }

  /** Deletes a track's files; its bytes leave the account only once they are gone. */
  private async evict(sha256: string): Promise<number> {
    const e = this.entries.get(sha256)
    if (!e) return 0
    if (e.state !== 'partial') {
      await this.opts.beforeEvict?.(sha256).catch((err: Error) => this.emit('warning', err))
    }
    const p = cachePaths(this.opts.dir, sha256)
    for (const path of [p.final, `${p.final}.info`, p.part, p.have, p.haveTmp]) await rm(path, { force: true })
    this.set(sha256, null)
    this.lastUse.delete(sha256)
    this.scheduleSave()
    if (e.state === 'cached') this.emit('evicted', sha256, e.bytes)
    return e.bytes
  }

  private async freeSpace(): Promise<number> {
    const s = await statfs(this.opts.dir)
    return s.bavail * s.bsize
  }

  private async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.statePath, 'utf8')
    } catch {
      return // first start
    }
    try {
      const s = JSON.parse(text) as Partial<SavedState>
      if (s.v !== 1) throw new Error(`unknown version ${String(s.v)}`)
      if (typeof s.budget === 'number' && Number.isSafeInteger(s.budget) && s.budget >= 0) this.savedBudget = s.budget
      for (const p of Array.isArray(s.pins) ? s.pins : []) if (typeof p === 'string' && SHA256_HEX.test(p)) this.pinSet.add(p)
      for (const [sha, t] of Object.entries(s.lastUse ?? {})) if (SHA256_HEX.test(sha) && typeof t === 'number') this.lastUse.set(sha, t)
    } catch (err) {
      // Kept aside, not deleted: it holds the pins, which a person may want back.
      const aside = `${this.statePath}.bad-${Date.now()}`
      await rename(this.statePath, aside).catch(() => {})
      this.emit('warning', new Error(`${this.statePath} is unreadable (${(err as Error).message}); moved to ${aside}, starting with no pins`))
    }
  }

  /** Accounts the track files in the dir; deletes sidecars whose file is gone. */
  private async scan(): Promise<void> {
    const names = new Set(await readdir(this.opts.dir))
    const size = (name: string) => stat(join(this.opts.dir, name)).then((s) => ({ size: s.size, mtime: s.mtimeMs }), () => null)
    for (const name of names) {
      const [sha, ext] = name.split('.', 2) as [string, string | undefined]
      if (!SHA256_HEX.test(sha)) {
        if (name === `${CACHE_STATE_FILE}.tmp`) await rm(join(this.opts.dir, name), { force: true })
        continue
      }
      const orphan =
        name.endsWith('.tmp') || // a sidecar save cut short
        (ext === 'info' && !names.has(sha)) ||
        (ext === 'have' && !names.has(`${sha}.part`)) ||
        (ext === 'part' && names.has(sha)) // the whole file is there: an interrupted re-fetch
      if (orphan) {
        await rm(join(this.opts.dir, name), { force: true })
        names.delete(name)
      }
    }
    for (const name of names) {
      if (SHA256_HEX.test(name)) {
        const f = await size(name)
        if (!f) continue
        const info = names.has(`${name}.info`) ? await size(`${name}.info`) : null
        this.set(name, { state: 'cached', bytes: f.size + (info?.size ?? 0) })
        if (!this.lastUse.has(name)) this.lastUse.set(name, f.mtime)
      } else if (name.endsWith('.part') && SHA256_HEX.test(name.slice(0, -5))) {
        const sha = name.slice(0, -5)
        const f = await size(name)
        if (!f) continue
        const have = names.has(`${sha}.have`) ? await size(`${sha}.have`) : null
        this.set(sha, { state: 'partial', bytes: f.size + (have?.size ?? 0) })
        this.lastUse.set(sha, f.mtime)
      }
    }
    for (const sha of this.lastUse.keys()) if (!this.entries.has(sha)) this.lastUse.delete(sha)
  }

  private scheduleSave(): void {
    if (!this.opened || this.saveTimer || this.closed) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.save().catch((err: Error) => this.emit('warning', err))
    }, this.opts.saveDelay ?? SAVE_DELAY)
    this.saveTimer.unref()
  }

  /** Writes the state; calls made while a write runs are covered by one more write. */
  private async save(): Promise<void> {
    this.dirty = true
    while (this.saving) await this.saving
    if (!this.dirty) return
    this.dirty = false
    const state: SavedState = {
      v: 1,
      ...(this.savedBudget !== undefined ? { budget: this.savedBudget } : {}),
      pins: this.pins(),
      lastUse: Object.fromEntries([...this.lastUse].filter(([sha]) => this.entries.get(sha)?.state !== 'partial')),
    }
    this.saving = (async () => {
      const tmp = `${this.statePath}.tmp`
      const fh = await openFile(tmp, 'w', 0o600)
      try {
        await fh.writeFile(JSON.stringify(state))
        await fh.sync()
      } finally {
        await fh.close()
      }
      await rename(tmp, this.statePath)
    })()
    try {
      await this.saving
    } finally {
      this.saving = null
    }
  }
}

function checkBudget(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`a cache budget is a whole number of bytes, not ${bytes}`)
}
