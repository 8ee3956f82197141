// Gig preparation: one pull job over a playlist's tracks on this device.
// Phases: (1) each track already here (library or verified cache) is
// present; (2) the rest are fetched from the own devices that hold them,
// two at a time, each verified by SHA-256 as it completes; (3) every track
// that is here is read again and hashed, so the report says "verified" of
// the bytes on disk at its end; (4) the gig-ready report: every track
// present and verified, or exactly which are missing and why. A re-run
// finds what the last one fetched present, and resumes partial fetches
// from the cache's .part/.have files.
import { EventEmitter } from 'node:events'
import { createReadStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { SwarmError, type Torrent } from '../swarm/index.ts'

export type TrackState = 'pending' | 'fetching' | 'verifying' | 'present' | 'fetched' | 'missing'
export type MissingReason =
  | 'not held by any own device'
  | 'no online holder'
  | 'verification failed'
  | 'disk full'
  | 'cache full'
  | 'fetch stalled'
  | 'fetch failed'
  | 'streaming only' // a collaborative playlist's owner does not allow pulls of its tracks
  | 'not held by any participant' // a collaborative playlist's entry no circle taking part lists

export interface PullTrack {
  sha256: string
  title: string
  artist?: string
  /** 1-based places in the playlist (a track may be in it twice). */
  positions: number[]
  state: TrackState
  reason?: MissingReason
  /** What went wrong, for people (a missing track). */
  detail?: string
  /** Size of the file; 0 when no own device lists it. */
  size: number
  /** Bytes of it on this device now (a fetch in progress counts verified pieces). */
  bytes: number
  /** Bytes this run received, per device name. */
  sources: Record<string, number>
  /** Its SHA-256 was checked against the bytes on disk at the end of the run. */
  verified: boolean
}

export interface GigReport {
  playlist: string
  device: { id: string; name: string }
  tracks: PullTrack[]
  /** Tracks here and verified (fetched ones included). */
  present: number
  /** Of those, fetched by this run. */
  fetched: number
  missing: number
  /** Bytes received by this run. */
  bytes: number
  ms: number
  /** Every track present and verified. */
  ready: boolean
  /** Present tracks were pinned (kept from cache eviction); false when this build has no pins. */
  pinned: boolean
  finishedAt: number
}

export interface PullEntry {
  sha256: string
  title: string
  artist?: string
  position: number
  /** From the union library; 0 when no own device lists the track. */
  size: number
  /** Some own device lists it (online or not). */
  listed: boolean
  /** Known missing before the run (a collaborative playlist's rules), with why. */
  missing?: { reason: MissingReason; detail: string }
}

/** What a pull needs from the swarm (Swarm has these). */
export interface PullSwarm {
  holds(sha256: string): boolean
  open(sha256: string, opts: { allSources?: boolean; signal?: AbortSignal }): Promise<Torrent>
}

export interface GigPullOptions {
  playlist: string
  device: { id: string; name: string }
  entries: PullEntry[]
  swarm: PullSwarm
  /** Where the bytes of a track held here are (library file or cache), for the final check. */
  locate: (sha256: string) => Promise<string | undefined>
  /** Keeps a track from cache eviction. Default: none (this build has no pins). */
  pin?: (sha256: string) => void | Promise<void>
  concurrency?: number
  /** ms without a verified piece before a fetch that still has wires gives up (default PULL_STALL). */
  stallMs?: number
  /** ms between checks of a fetch for progress, wires and a stall (default PULL_WATCH). */
  watchMs?: number
  /** ms without wires (nor pieces) before a fetch's holders are looked up again (default NO_WIRES_GRACE). */
  noWiresGraceMs?: number
}

interface Events {
  progress: []
  done: [report: GigReport]
}

export const PULL_CONCURRENCY = 2
export const PULL_STALL = 20_000 // ms without a piece while wires are open
export const NO_WIRES_GRACE = 2_000 // ms without wires (nor pieces) before holders are looked up again
export const PULL_WATCH = 500 // ms between checks of a fetch

class Missing extends Error {
  constructor(
    readonly reason: MissingReason,
    message: string = reason,
  ) {
    super(message)
  }
}

function reasonOf(err: unknown): Missing {
  if (err instanceof Missing) return err
  const e = err as Error & { code?: string }
  if (err instanceof SwarmError && e.code === 'ERR_NO_HOLDER') return new Missing('no online holder', e.message)
  if (e.code === 'ENOSPC') return new Missing('disk full', e.message)
  // The cache budget is taken by pinned tracks: `djcloud cache budget` or unpin some.
  if (err instanceof SwarmError && e.code === 'ERR_CACHE_FULL') return new Missing('cache full', e.message)
  if (e.code === 'ERR_VERIFY') return new Missing('verification failed', e.message)
  return new Missing('fetch failed', e.message ?? String(err))
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export class GigPull extends EventEmitter<Events> {
  readonly tracks: PullTrack[]
  phase: 'fetching' | 'verifying' | 'done' = 'fetching'
  readonly startedAt = Date.now()
  report: GigReport | null = null
  private readonly started = performance.now()
  private pinned: boolean

  constructor(private readonly opts: GigPullOptions) {
    super()
    const bySha = new Map<string, PullTrack>()
    for (const e of opts.entries) {
      const known = bySha.get(e.sha256)
      if (known) known.positions.push(e.position)
      else {
        bySha.set(e.sha256, {
          sha256: e.sha256,
          title: e.title,
          ...(e.artist ? { artist: e.artist } : {}),
          positions: [e.position],
          state: 'pending',
          size: e.size,
          bytes: 0,
          sources: {},
          verified: false,
          ...(e.listed ? {} : { state: 'missing' as const, reason: 'not held by any own device' as const }),
          ...(e.missing ? { state: 'missing' as const, reason: e.missing.reason, detail: e.missing.detail } : {}),
        })
      }
    }
    this.tracks = [...bySha.values()]
    this.pinned = !!opts.pin
  }

  get active(): PullTrack[] {
    return this.tracks.filter((t) => t.state === 'fetching' || t.state === 'verifying')
  }

  /** Runs the job once; resolves with the report (also emitted as 'done'). */
  async run(signal?: AbortSignal): Promise<GigReport> {
    const queue = this.tracks.filter((t) => t.state === 'pending')
    await this.pool(queue, (t) => this.bring(t, signal), signal)
    this.phase = 'verifying'
    this.emit('progress')
    const here = this.tracks.filter((t) => t.state === 'present' || t.state === 'fetched')
    await this.pool(here, (t) => this.verify(t, signal), signal)
    // Stopped (the node is closing): no report, since not every track was checked.
    if (signal?.aborted) throw Object.assign(new Error('the pull was stopped (the node is closing)'), { name: 'AbortError' })
    this.phase = 'done'
    const ok = this.tracks.filter((t) => (t.state === 'present' || t.state === 'fetched') && t.verified)
    this.report = {
      playlist: this.opts.playlist,
      device: this.opts.device,
      tracks: this.tracks,
      present: ok.length,
      fetched: ok.filter((t) => t.state === 'fetched').length,
      missing: this.tracks.length - ok.length,
      bytes: this.tracks.reduce((n, t) => n + Object.values(t.sources).reduce((a, b) => a + b, 0), 0),
      ms: Math.round(performance.now() - this.started),
      ready: ok.length === this.tracks.length,
      pinned: this.pinned,
      finishedAt: Date.now(),
    }
    this.emit('done', this.report)
    return this.report
  }

  private async pool(items: PullTrack[], fn: (t: PullTrack) => Promise<void>, signal?: AbortSignal): Promise<void> {
    let next = 0
    const worker = async () => {
      while (next < items.length && !signal?.aborted) await fn(items[next++]!)
    }
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? PULL_CONCURRENCY) }, worker))
  }

  private missing(t: PullTrack, m: Missing): void {
    t.state = 'missing'
    t.reason = m.reason
    if (m.message !== m.reason) t.detail = m.message
    this.emit('progress')
  }

  /** Phase 1 and 2 for one track: present already, or fetched and pinned. */
  private async bring(t: PullTrack, signal?: AbortSignal): Promise<void> {
    const { swarm } = this.opts
    if (swarm.holds(t.sha256)) {
      t.state = 'present'
      t.bytes = t.size
    } else {
      t.state = 'fetching'
      this.emit('progress')
      try {
        await this.fetch(t, signal)
        t.state = 'fetched'
        t.bytes = t.size
      } catch (err) {
        // Stopped mid-track: the track is not missing, the job is stopped (run() says so).
        if (signal?.aborted) return
        return this.missing(t, reasonOf(err))
      }
    }
    await this.pin(t)
    this.emit('progress')
  }

  private async pin(t: PullTrack): Promise<void> {
    if (!this.opts.pin) return
    try {
      await this.opts.pin(t.sha256)
    } catch {
      this.pinned = false
    }
  }

  /**
   * Fetches one track: waits for its torrent's 'done' (SHA-256 verified into
   * the cache). Holders gone with no wires left are looked up again; a disk
   * full or a failed whole-file check ends it at once.
   */
  private async fetch(t: PullTrack, signal?: AbortSignal): Promise<void> {
    const { swarm } = this.opts
    let torrent = await swarm.open(t.sha256, { allSources: true, signal })
    if (t.size === 0) t.size = torrent.meta.size
    await new Promise<void>((resolve, reject) => {
      let lastPiece = Date.now()
      let reopening = false
      let settled = false
      const onPiece = () => {
        lastPiece = Date.now()
        t.bytes = Math.min(torrent.meta.size, torrent.have.count * torrent.meta.pieceLength)
        this.emit('progress')
      }
      const onDone = () => finish()
      const onWarning = (err: Error & { code?: string }) => {
        if (err.code === 'ENOSPC' || err.code === 'ERR_VERIFY') finish(reasonOf(err))
      }
      const attach = (x: Torrent) => {
        x.on('piece', onPiece)
        x.on('done', onDone)
        x.on('warning', onWarning)
      }
      const detach = (x: Torrent) => {
        t.sources = { ...t.sources, ...x.sources() }
        x.off('piece', onPiece)
        x.off('done', onDone)
        x.off('warning', onWarning)
      }
      const onAbort = () => finish(signal!.reason as Missing)
      const finish = (err?: Missing) => {
        if (settled) return
        settled = true
        clearInterval(timer)
        signal?.removeEventListener('abort', onAbort)
        detach(torrent)
        if (err) reject(err)
        else resolve()
      }
      const timer = setInterval(() => {
        if (torrent.complete || swarm.holds(t.sha256)) return finish()
        const quiet = Date.now() - lastPiece
        if (torrent.peerCount === 0 && quiet > (this.opts.noWiresGraceMs ?? NO_WIRES_GRACE) && !reopening) {
          // Every holder went: ask who holds it now (a restarted device, another one).
          reopening = true
          swarm.open(t.sha256, { allSources: true, signal }).then(
            (x) => {
              reopening = false
              if (settled) return
              lastPiece = Date.now()
              if (x !== torrent) {
                detach(torrent)
                torrent = x
                attach(x)
              }
            },
            (err: unknown) => finish(reasonOf(err)),
          )
        } else if (quiet > (this.opts.stallMs ?? PULL_STALL)) {
          finish(new Missing('fetch stalled', `no data for ${Math.round(quiet / 1000)} s from ${torrent.peerCount} holder(s)`))
        }
      }, this.opts.watchMs ?? PULL_WATCH)
      timer.unref()
      attach(torrent)
      // Stopped mid-transfer: give up the wait at once, not at the next track.
      signal?.addEventListener('abort', onAbort, { once: true })
      if (signal?.aborted) onAbort()
      if (torrent.complete) finish()
    })
  }

  /** Phase 3: the bytes on disk hash to the track's id. */
  private async verify(t: PullTrack, signal?: AbortSignal): Promise<void> {
    const was = t.state as 'present' | 'fetched'
    t.state = 'verifying'
    this.emit('progress')
    const path = await this.opts.locate(t.sha256)
    let got: string | undefined
    let why = 'the file is not on this device'
    if (path) {
      try {
        got = await sha256File(path, signal)
        why = 'the bytes on disk do not match the track id'
      } catch (err) {
        why = `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
      }
    }
    if (signal?.aborted) return
    if (got !== t.sha256) return this.missing(t, new Missing('verification failed', why))
    t.state = was
    t.verified = true
    this.emit('progress')
  }
}
