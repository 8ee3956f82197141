// Gig pulls on a node: jobs that bring a playlist's tracks to this device
// (GigPull), or ask another own device to do so over the device channel and
// follow its progress. One job at a time per node. Another device's request
// is signed (pull-request.ts) and checked before anything runs; its status
// and report are read back with unsigned commands, which only own devices
// may send (the device channel admits nobody else).
//
// Commands (device channel `cq`, bodies bencoded unless said):
//   pull         {req, sig}            -> {job} | {err: code, msg} | refused: reason
//   pull-status  {job}                 -> JSON PullJobView (no report)
//   pull-report  {job, from}           -> JSON {report (no tracks), tracks: [...], next: index | null}
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { asDict, asInt, asString, decode, encode } from '../codec/index.ts'
import { formatId, parseId, type Identity } from '../identity/index.ts'
import type { CollabPlaylist, ManifestBook, UnionEntry } from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, type ApiErrorCode, type Route } from '../player/index.ts'
import { CommandError, MAX_COMMAND_BODY, type CommandAnswer, type DeviceLink, type Swarm } from '../swarm/index.ts'
import { GigPull, type GigReport, type PullEntry, type PullSwarm, type PullTrack } from './gig-pull.ts'
import { checkPullRequest, NonceBook, RequestRefused, signPullRequest } from './pull-request.ts'
import { resolveEntries } from './playlist-view.ts'

export interface PullServiceOptions {
  identity: () => Identity
  swarm: Swarm
  book: ManifestBook
  union: () => Promise<Map<string, UnionEntry>>
  locate: (sha256: string) => Promise<string | undefined>
  /** Keeps a pulled track from cache eviction; none in this build (see docs/gig.md). */
  pin?: (sha256: string) => void | Promise<void>
  /** Where accepted requests' nonces are kept across restarts (pullNoncesPath(home)); default memory only. */
  nonceFile?: string
  /** ms without wires before a pull looks a track's holders up again (GigPullOptions.noWiresGraceMs). */
  noWiresGraceMs?: number
  /** ms without a piece before a pull's fetch with wires gives up (GigPullOptions.stallMs). */
  stallMs?: number
  /** ms between checks of a pull's fetch (GigPullOptions.watchMs). */
  watchMs?: number
  /** A pull to this device finished with a report (its time is a gig's window: docs/plays.md). */
  onPulled?: (r: { playlist: string; finishedAt: number; ready: boolean }) => void
  onWarning?: (err: Error) => void
  /** Friends' collaborative playlists we take part in (collab.ts): `pull(name, undefined, owner)`. */
  collab?: CollabPulls
}

/** What a pull of a friend's collaborative playlist asks (Collab has it). */
export interface CollabPulls {
  view(owner: string, name: string): CollabPlaylist | undefined
}

export interface PullJobView {
  id: string
  playlist: string
  /** The device the tracks are pulled to. */
  device: { id: string; name: string; self: boolean }
  /** Run by another own device at this node's request. */
  remote: boolean
  /** Name of the own device that asked for it, when another one did. */
  requestedBy?: string
  state: 'running' | 'done' | 'failed'
  phase: 'starting' | 'fetching' | 'verifying' | 'done'
  startedAt: number
  /** Distinct tracks in the playlist. */
  total: number
  /** Tracks finished in this phase (fetching: here or missing; verifying: verified or missing). */
  done: number
  missing: number
  bytesDone: number
  bytesTotal: number
  /** Tracks being fetched or verified now. */
  active: Array<{ sha256: string; title: string; state: string; bytes: number; size: number }>
  error?: string
  report?: GigReport
}

const PULL_COMMANDS = ['pull', 'pull-status', 'pull-report'] as const
const MAX_JOBS_KEPT = 16
const REMOTE_POLL = 500 // ms between status questions to the target
const LINK_GRACE = 30_000 // ms a remote job waits for a lost link to come back
const REPORT_PAGE_BYTES = 48 * 1024 // of JSON per pull-report answer (the command cap is 64 KiB)
const MAX_REPORT_TRACKS = 20_000

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref())

interface Job extends EventEmitter {
  readonly id: string
  view(withReport?: boolean): PullJobView
}

class LocalJob extends EventEmitter implements Job {
  readonly id = randomBytes(8).toString('hex')
  state: PullJobView['state'] = 'running'
  error?: string
  constructor(
    readonly gig: GigPull,
    readonly playlist: string,
    readonly device: PullJobView['device'],
    readonly requestedBy?: string,
  ) {
    super()
  }

  view(withReport = true): PullJobView {
    const g = this.gig
    const ts = g.tracks
    const done =
      g.phase === 'fetching'
        ? ts.filter((t) => t.state !== 'pending' && t.state !== 'fetching').length
        : ts.filter((t) => t.verified || t.state === 'missing').length
    return {
      id: this.id,
      playlist: this.playlist,
      device: this.device,
      remote: false,
      ...(this.requestedBy ? { requestedBy: this.requestedBy } : {}),
      state: this.state,
      phase: g.phase,
      startedAt: g.startedAt,
      total: ts.length,
      done,
      missing: ts.filter((t) => t.state === 'missing').length,
      bytesDone: ts.reduce((n, t) => n + t.bytes, 0),
      bytesTotal: ts.reduce((n, t) => n + t.size, 0),
      active: g.active.map((t) => ({ sha256: t.sha256, title: t.title, state: t.state, bytes: t.bytes, size: t.size })),
      ...(this.error ? { error: this.error } : {}),
      ...(withReport && g.report ? { report: g.report } : {}),
    }
  }
}

class RemoteJob extends EventEmitter implements Job {
  readonly id = randomBytes(8).toString('hex')
  status: PullJobView
  constructor(
    readonly remoteId: string,
    playlist: string,
    device: PullJobView['device'],
  ) {
    super()
    this.status = {
      id: this.id, playlist, device, remote: true, state: 'running', phase: 'starting', startedAt: Date.now(),
      total: 0, done: 0, missing: 0, bytesDone: 0, bytesTotal: 0, active: [],
    }
  }

  view(withReport = true): PullJobView {
    const { report, ...rest } = this.status
    return withReport && report ? { ...rest, report } : rest
  }
}

// ---- checking what another device sends back (own devices, still parsed with care) ----

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0)
const str = (v: unknown, max = 1024) => (typeof v === 'string' ? v.slice(0, max) : '')
const PHASES = ['starting', 'fetching', 'verifying', 'done'] as const
const STATES = ['running', 'done', 'failed'] as const
const TRACK_STATES = ['pending', 'fetching', 'verifying', 'present', 'fetched', 'missing'] as const

function statusFrom(raw: unknown, base: PullJobView): PullJobView {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const active = Array.isArray(s.active) ? s.active.slice(0, 8) : []
  return {
    ...base,
    state: STATES.find((x) => x === s.state) ?? 'failed',
    phase: PHASES.find((x) => x === s.phase) ?? 'starting',
    total: num(s.total), done: num(s.done), missing: num(s.missing), bytesDone: num(s.bytesDone), bytesTotal: num(s.bytesTotal),
    active: active.map((a: Record<string, unknown>) => ({ sha256: str(a?.sha256, 64), title: str(a?.title), state: str(a?.state, 16), bytes: num(a?.bytes), size: num(a?.size) })),
    ...(s.error !== undefined ? { error: str(s.error) } : {}),
    ...(typeof s.requestedBy === 'string' ? { requestedBy: str(s.requestedBy, 64) } : {}),
  }
}

function trackFrom(raw: unknown): PullTrack {
  const t = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const sources: Record<string, number> = {}
  if (t.sources && typeof t.sources === 'object') for (const [k, v] of Object.entries(t.sources).slice(0, 64)) sources[k.slice(0, 64)] = num(v)
  return {
    sha256: str(t.sha256, 64),
    title: str(t.title),
    ...(typeof t.artist === 'string' ? { artist: str(t.artist) } : {}),
    positions: Array.isArray(t.positions) ? t.positions.slice(0, 64).map(num) : [],
    state: TRACK_STATES.find((x) => x === t.state) ?? 'missing',
    ...(typeof t.reason === 'string' ? { reason: str(t.reason, 64) as PullTrack['reason'] } : {}),
    ...(typeof t.detail === 'string' ? { detail: str(t.detail) } : {}),
    size: num(t.size),
    bytes: num(t.bytes),
    sources,
    verified: t.verified === true,
  }
}

export class PullService {
  private readonly jobs = new Map<string, Job>()
  private running: Job | null = null
  /** Set while a job is being set up, so two requests cannot both start one. */
  private reserving = false
  /** Opened at start(): from nonceFile when there is one. */
  private nonces: Promise<NonceBook> = Promise.resolve(new NonceBook())
  private readonly abort = new AbortController()

  constructor(private readonly opts: PullServiceOptions) {}

  private attached = false

  /**
   * Opens the nonce book and answers other own devices' pull commands (a
   * command waits for the book). The node calls it before its peer port
   * opens, so a device asking at once is answered. Idempotent.
   */
  attach(): void {
    if (this.attached || this.abort.signal.aborted) return
    this.attached = true
    const file = this.opts.nonceFile
    if (file) this.nonces = NonceBook.open(file, { onBad: (err) => this.opts.onWarning?.(err) })
    for (const kind of PULL_COMMANDS) {
      this.opts.swarm.devices.onCommand(kind, (body, link) => this.onCommand(kind, body, link, true))
      this.opts.swarm.friends.onCommand(kind, (body, link) => this.onCommand(kind, body, link, false))
    }
  }

  /** Attaches (above). Idempotent. */
  start(_signal?: AbortSignal): void {
    this.attach()
  }

  stop(): void {
    this.abort.abort()
    for (const kind of PULL_COMMANDS) {
      this.opts.swarm.devices.onCommand(kind, null)
      this.opts.swarm.friends.onCommand(kind, null)
    }
  }

  private get self(): PullJobView['device'] {
    const me = this.opts.identity()
    return { id: formatId('device', me.device.publicKey), name: me.certificate.name, self: true }
  }

  /** An own device by id (as `djcloud id` prints it), key (hex) or unique name. */
  resolveDevice(text: string): PullJobView['device'] & { key: Uint8Array } {
    const me = this.opts.identity()
    const devices = me.roster.devices.filter((c) => !me.roster.revoked.some((k) => Buffer.from(k).equals(c.device)))
    let key: Uint8Array | undefined
    if (/^[0-9a-f]{64}$/i.test(text)) key = Buffer.from(text, 'hex')
    else {
      try {
        key = parseId('device', text)
      } catch {
        const named = devices.filter((c) => c.name === text)
        if (named.length > 1) throw new ApiError(400, 'ERR_BAD_PARAM', `several own devices are named "${text}": give its id`)
        key = named[0]?.device
      }
    }
    const cert = key && devices.find((c) => Buffer.from(c.device).equals(key))
    if (!cert) throw new ApiError(404, 'ERR_DEVICE_NOT_FOUND', `"${text}" is not an own device on the roster`)
    return { id: formatId('device', cert.device), name: cert.name, self: Buffer.from(cert.device).equals(me.device.publicKey), key: cert.device }
  }

  private keep(job: Job): void {
    this.jobs.set(job.id, job)
    while (this.jobs.size > MAX_JOBS_KEPT) {
      const oldest = [...this.jobs.values()].find((j) => j !== this.running)
      if (!oldest) break
      this.jobs.delete(oldest.id)
    }
  }

  private reserve(): void {
    if (this.running || this.reserving) {
      const what = this.running ? `"${this.running.view(false).playlist}"` : 'another'
      throw new ApiError(409, 'ERR_CONFLICT', `a pull is running on this device (${what}); one at a time`)
    }
    this.reserving = true
  }

  /** Starts pulling a playlist here (this device) or on another own device. */
  /**
   * Starts pulling a playlist here (this device) or on another own device;
   * with `from` (an owner key, hex, not ours), a friend's collaborative
   * playlist we take part in, here.
   */
  async pull(playlist: string, device?: string, from?: string): Promise<PullJobView> {
    if (from !== undefined && from !== hex(this.opts.identity().roster.owner)) {
      if (device) throw new ApiError(400, 'ERR_BAD_PARAM', 'a friend\'s playlist is pulled to this device only')
      return (await this.startLocal(playlist, undefined, from)).view()
    }
    const target = device ? this.resolveDevice(device) : { ...this.self, key: this.opts.identity().device.publicKey }
    return target.self ? (await this.startLocal(playlist)).view() : (await this.startRemote(playlist, target)).view()
  }

  private async startLocal(playlist: string, requestedBy?: string, from?: string): Promise<LocalJob> {
    this.reserve()
    try {
      const p = from ? this.opts.collab?.view(from, playlist) : this.opts.book.playlist(playlist)
      if (!p) throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', `no playlist named "${playlist}"${from ? ' of that friend' : ''} on ${this.self.name}`)
      const { swarm } = this.opts
      // A friend's playlist: entries no own device lists come from the circle whose device put them in.
      const circleOf = new Map(p.guests.map((g) => [g.device, g.owner]))
      const foreign = new Map<string, string>() // sha256 -> owner hex to fetch it from
      const entries: PullEntry[] = resolveEntries(p, await this.opts.union()).map((e) => {
        const sha256 = e.track?.sha256 ?? e.ref.sha256
        const title = e.track?.tags.title ?? e.ref.title ?? sha256.slice(0, 12)
        const artist = e.track?.tags.artist ?? e.ref.artist
        const listed = (e.track?.holders?.length ?? 0) > 0 || swarm.holds(sha256)
        const entry: PullEntry = { sha256, title, ...(artist ? { artist } : {}), position: e.position, size: e.track?.size ?? 0, listed }
        if (!from || listed) return entry
        const circle = circleOf.get(p.authors[e.id] ?? '') ?? from
        if (circle === hex(this.opts.identity().roster.owner)) {
          return { ...entry, listed: true, missing: { reason: 'not held by any participant', detail: 'your devices put it in, and none lists it now' } }
        }
        if (circle !== from) {
          return { ...entry, listed: true, missing: { reason: 'streaming only', detail: 'another collaborator\'s track: only its owner\'s tracks are pulled, when allowed' } }
        }
        if (!p.pulls) return { ...entry, listed: true, missing: { reason: 'streaming only', detail: 'the playlist\'s owner allows streaming only' } }
        foreign.set(sha256, from)
        return { ...entry, listed: true }
      })
      const pullSwarm: PullSwarm = {
        holds: (sha) => swarm.holds(sha),
        open: (sha, o) => {
          const owner = foreign.get(sha)
          return owner ? swarm.openShared(sha, owner, o) : swarm.open(sha, o)
        },
      }
      const device = this.self
      const gig = new GigPull({
        playlist, device: { id: device.id, name: device.name }, entries, swarm: pullSwarm, locate: this.opts.locate,
        ...(this.opts.pin ? { pin: this.opts.pin } : {}),
        ...(this.opts.noWiresGraceMs ? { noWiresGraceMs: this.opts.noWiresGraceMs } : {}),
        ...(this.opts.stallMs ? { stallMs: this.opts.stallMs } : {}),
        ...(this.opts.watchMs ? { watchMs: this.opts.watchMs } : {}),
      })
      const job = new LocalJob(gig, playlist, device, requestedBy)
      gig.on('progress', () => job.emit('progress'))
      this.running = job
      this.keep(job)
      gig.run(this.abort.signal).then(
        (report) => {
          job.state = 'done'
          this.opts.onPulled?.({ playlist, finishedAt: report.finishedAt, ready: report.ready })
        },
        (err: Error) => {
          job.state = 'failed'
          job.error = err.message
          this.opts.onWarning?.(err)
        },
      ).finally(() => {
        if (this.running === job) this.running = null
        job.emit('progress')
      })
      return job
    } finally {
      this.reserving = false
    }
  }

  private linkTo(key: Uint8Array): DeviceLink | undefined {
    return this.opts.swarm.devices.online().find((l) => l.device === hex(key))
  }

  private async startRemote(playlist: string, target: PullJobView['device'] & { key: Uint8Array }): Promise<RemoteJob> {
    this.reserve()
    try {
      const link = this.linkTo(target.key)
      if (!link) throw new ApiError(503, 'ERR_DEVICE_OFFLINE', `${target.name} is not linked now (it must be online and reachable)`)
      const me = this.opts.identity()
      const { wire } = signPullRequest(me.device, target.key, playlist)
      let answer: Uint8Array
      try {
        answer = await this.opts.swarm.devices.command(link, 'pull', wire)
      } catch (err) {
        if (err instanceof CommandError && err.code === 'ERR_REFUSED') throw new ApiError(403, 'ERR_REFUSED', `${target.name} refused the request: ${err.message}`)
        throw new ApiError(503, 'ERR_DEVICE_OFFLINE', `${target.name} did not answer: ${(err as Error).message}`)
      }
      const a = asDict(decode(answer, { maxDepth: 1, maxItems: 4 }), 'pull answer')
      if (a.err !== undefined) {
        const code = asString(a.err, 'err', 32) as ApiErrorCode
        const status = code === 'ERR_CONFLICT' ? 409 : code === 'ERR_PLAYLIST_NOT_FOUND' ? 404 : 403
        throw new ApiError(status, status === 403 ? 'ERR_REFUSED' : code, `${target.name}: ${asString(a.msg, 'msg')}`)
      }
      const device = { id: target.id, name: target.name, self: false }
      const job = new RemoteJob(asString(a.job, 'job', 32), playlist, device)
      this.running = job
      this.keep(job)
      void this.follow(job, target.key).finally(() => {
        if (this.running === job) this.running = null
        job.emit('progress')
      })
      return job
    } finally {
      this.reserving = false
    }
  }

  /** Polls the target for a remote job's progress, then reads its report in pages. */
  private async follow(job: RemoteJob, key: Uint8Array): Promise<void> {
    const { devices } = this.opts.swarm
    const fail = (why: string) => {
      job.status = { ...job.status, state: 'failed', error: why }
    }
    let lostSince: number | null = null
    while (!this.abort.signal.aborted) {
      await sleep(REMOTE_POLL)
      const link = this.linkTo(key)
      if (!link) {
        lostSince ??= Date.now()
        if (Date.now() - lostSince > LINK_GRACE) return fail(`lost the link to ${job.status.device.name}; its pull may go on: run pull again to see`)
        continue
      }
      lostSince = null
      try {
        const raw = JSON.parse(Buffer.from(await devices.command(link, 'pull-status', encode({ job: job.remoteId }))).toString('utf8')) as unknown
        job.status = statusFrom(raw, job.status)
        job.emit('progress')
        if (job.status.state === 'failed') return
        if (job.status.state !== 'done') continue
        const tracks: PullTrack[] = []
        let report: Record<string, unknown> = {}
        for (let from: number | null = 0; from !== null && tracks.length < MAX_REPORT_TRACKS; ) {
          const page = JSON.parse(Buffer.from(await devices.command(link, 'pull-report', encode({ job: job.remoteId, from }))).toString('utf8')) as {
            report?: Record<string, unknown>
            tracks?: unknown[]
            next?: number | null
          }
          report = page.report ?? report
          for (const t of (page.tracks ?? []).slice(0, MAX_REPORT_TRACKS)) tracks.push(trackFrom(t))
          from = typeof page.next === 'number' && page.next > from ? page.next : null
        }
        const present = tracks.filter((t) => t.state === 'present' || t.state === 'fetched').length
        job.status.report = {
          playlist: job.status.playlist,
          device: { id: job.status.device.id, name: job.status.device.name },
          tracks,
          present,
          fetched: tracks.filter((t) => t.state === 'fetched').length,
          missing: tracks.length - present,
          bytes: num(report.bytes),
          ms: num(report.ms),
          // Recomputed from the tracks, not taken from the target's word for it.
          ready: present === tracks.length && report.ready === true,
          pinned: report.pinned === true,
          finishedAt: num(report.finishedAt),
        }
        return
      } catch (err) {
        if (err instanceof CommandError && err.code === 'ERR_REFUSED') return fail(`${job.status.device.name}: ${err.message}`)
        if (err instanceof CommandError) continue // a timeout or a dropped link: ask again
        return fail(`${job.status.device.name} sent a bad answer: ${(err as Error).message}`)
      }
    }
  }

  // ---- the target side -----------------------------------------------------

  private async onCommand(kind: string, body: Uint8Array, link: DeviceLink, own: boolean): Promise<CommandAnswer> {
    const me = this.opts.identity()
    if (kind === 'pull') {
      let playlist: string
      const nonces = await this.nonces
      try {
        playlist = checkPullRequest(body, { roster: me.roster, self: me.device.publicKey, sender: link.session.peer.certificate.device, nonces }).playlist
      } catch (err) {
        if (err instanceof RequestRefused) return { refused: err.reason }
        throw err
      }
      // Kept on disk before anything is done for it: a restart must not forget it.
      await nonces.save()
      // A friend's device cannot pass the check (its key is on no roster of ours); refused here anyway.
      if (!own) return { refused: 'foreign signer' }
      try {
        const job = await this.startLocal(playlist.normalize('NFC').trim(), link.name)
        return { body: encode({ job: job.id }) }
      } catch (err) {
        if (err instanceof ApiError) return { body: encode({ err: err.code, msg: err.message }) }
        throw err
      }
    }
    if (!own) return { refused: 'only own devices may ask this' }
    if (kind === 'pull-status' || kind === 'pull-report') {
      let id: string
      let from = 0
      try {
        const d = asDict(decode(body, { maxDepth: 1, maxItems: 4 }), kind)
        id = asString(d.job, 'job', 32)
        if (kind === 'pull-report') from = asInt(d.from, 'from')
      } catch {
        return { refused: 'malformed request' }
      }
      const job = this.jobs.get(id)
      if (!(job instanceof LocalJob)) return { refused: 'no such pull job here' }
      if (kind === 'pull-status') return { body: Buffer.from(JSON.stringify(job.view(false))) }
      const report = job.gig.report
      if (!report) return { refused: 'the pull has not finished' }
      const { tracks, ...summary } = report
      const page: PullTrack[] = []
      let size = Buffer.byteLength(JSON.stringify(summary)) + 64
      let i = Math.max(0, from)
      for (; i < tracks.length; i++) {
        const n = Buffer.byteLength(JSON.stringify(tracks[i])) + 1
        if (page.length > 0 && size + n > REPORT_PAGE_BYTES) break
        size += n
        page.push(tracks[i]!)
      }
      const json = Buffer.from(JSON.stringify({ report: summary, tracks: page, next: i < tracks.length ? i : null }))
      if (json.length > MAX_COMMAND_BODY) return { refused: 'a report entry is too large' }
      return { body: json }
    }
    return { refused: `unknown command "${kind}"` }
  }

  view(id: string): PullJobView | undefined {
    return this.jobs.get(id)?.view()
  }

  list(): PullJobView[] {
    return [...this.jobs.values()].reverse().map((j) => j.view(false))
  }

  routes(): Route[] {
    return [
      {
        methods: ['POST'],
        path: '/api/pull',
        handle: async ({ req, res }) => {
          const b = (await readJsonBody(req)) as { playlist?: unknown; device?: unknown; from?: unknown } | null
          if (!b || typeof b !== 'object' || typeof b.playlist !== 'string' || !b.playlist.trim() || Buffer.byteLength(b.playlist) > 256) {
            throw new ApiError(400, 'ERR_BAD_PARAM', 'playlist is the name of a playlist (1-256 bytes)')
          }
          if (b.device !== undefined && (typeof b.device !== 'string' || !b.device || b.device.length > 128)) {
            throw new ApiError(400, 'ERR_BAD_PARAM', 'device is an own device id, key or name')
          }
          let from: string | undefined
          if (b.from !== undefined) {
            try {
              from = hex(parseId('owner', String(b.from)))
            } catch (err) {
              throw new ApiError(400, 'ERR_BAD_PARAM', `from: ${(err as Error).message}`)
            }
          }
          sendJson(res, 202, { job: await this.pull(b.playlist.normalize('NFC').trim(), b.device as string | undefined, from) })
        },
      },
      {
        methods: ['GET'],
        path: '/api/pull',
        handle: async ({ res }) => sendJson(res, 200, { jobs: this.list() }),
      },
      {
        methods: ['GET'],
        path: '/api/pull/:id',
        handle: async ({ params, res }) => {
          const job = this.view(params.id ?? '')
          if (!job) throw new ApiError(404, 'ERR_NOT_FOUND', 'no such pull job on this node (the last 16 are kept)')
          sendJson(res, 200, { job })
        },
      },
    ]
  }
}
