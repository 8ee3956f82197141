// The operations the soak's driver loops through, each against the devices
// as they are at that moment: stream a track from a device that does not hold
// it, pull a playlist for a gig, add or remove a file and rescan, edit a
// playlist, push a backup, shrink a cache so tracks are fetched again. Each
// returns normally when it worked, throws when it did not, and records a
// loss itself when it saw wrong bytes.
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { ApiError, call, type NodeApi } from './api.ts'
import { djcloudAsync } from './cli.ts'
import type { Device } from './devices.ts'
import type { LibraryModel } from './library-model.ts'
import type { Rng } from './rng.ts'
import type { Tally } from './tally.ts'
import type { PlaylistLedger } from './playlist-ledger.ts'

export type OpKind = 'stream' | 'pull' | 'scan' | 'playlist' | 'backup' | 'evict'

export interface OpContext {
  own: Device[]
  admin: Device
  model: LibraryModel
  rng: Rng
  tally: Tally
  playlists: PlaylistLedger
  /** Seqs of backup pushes the admin's node acknowledged. */
  backupSeqs: number[]
  /** ms a track must have been in some library before other devices are asked for it (their union takes it in). */
  unionDelayMs: number
  opTimeoutMs: number
  /** Tracks a device may hold in its folder at most (adds stop there). */
  maxPerDevice: number
}

/** An operation that needs nothing the soak has now (no device up, no candidate track): not counted. */
export class Skip extends Error {}

/** Devices an operation needed: a failure while one of them was down is expected. */
export type Needs = (names: string[]) => void

const need = (d: Device | undefined): NodeApi => {
  if (!d?.api) throw new Skip()
  return d.api
}

const upOwn = (ctx: OpContext) => ctx.own.filter((d) => d.up)

async function originalSlice(path: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(end - start + 1)
    await fh.read(buf, 0, buf.length, start)
    return buf
  } finally {
    await fh.close()
  }
}

/** A pull that ran but is not gig-ready: `message` is the tally's reason, `detail` names the tracks. */
export class PullNotReady extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message)
  }
}

/** A whole track or one Range of it, through a device whose library does not hold it. */
async function stream(ctx: OpContext, needs: Needs): Promise<void> {
  const d = ctx.rng.pick(upOwn(ctx).length ? upOwn(ctx) : [undefined])
  const api = need(d)
  const candidates = ctx.model.settled(ctx.unionDelayMs).filter((t) => !ctx.model.holders(t.sha256).includes(d!.name))
  if (!candidates.length) throw new Skip()
  const t = ctx.rng.pick(candidates)
  needs([d!.name, ...ctx.model.holders(t.sha256)])
  const whole = ctx.rng.float() < 0.4
  const start = whole ? 0 : ctx.rng.int(0, t.size - 1)
  const end = whole ? t.size - 1 : Math.min(t.size - 1, start + ctx.rng.int(0, 1 << 20))
  const res = await fetch(`${api.base}/stream/${t.sha256}`, {
    headers: whole ? {} : { range: `bytes=${start}-${end}` },
    signal: AbortSignal.timeout(ctx.opTimeoutMs),
  })
  if (res.status !== (whole ? 200 : 206)) throw new ApiError(`stream: HTTP ${res.status}`, res.status, `HTTP_${res.status}`)
  const body = Buffer.from(await res.arrayBuffer())
  if (body.length !== end - start + 1) throw new Error(`short: ${body.length} of ${end - start + 1} bytes`)
  if (whole) {
    const sha = createHash('sha256').update(body).digest('hex')
    if (sha !== t.sha256) ctx.tally.loss('stream-corrupt', `${d!.name} streamed ${t.sha256.slice(0, 12)} whole with SHA-256 ${sha.slice(0, 12)}`)
    else ctx.tally.checked('streamed tracks verified whole by SHA-256')
  } else {
    const want = await originalSlice(t.original, start, end)
    if (!want.equals(body)) ctx.tally.loss('stream-corrupt', `${d!.name} streamed bytes ${start}-${end} of ${t.sha256.slice(0, 12)} that differ from the original`)
    else ctx.tally.checked('streamed ranges equal to the original')
  }
}

/** `djcloud pull --playlist` on an own device: gig-ready or not. */
async function pull(ctx: OpContext, needs: Needs): Promise<void> {
  const d = ctx.rng.pick(upOwn(ctx).length ? upOwn(ctx) : [undefined])
  need(d)
  const name = ctx.rng.pick(ctx.playlists.names)
  needs(ctx.own.map((x) => x.name)) // its tracks may be held by any own device
  const r = await djcloudAsync(d!.spec.home, ['pull', '--playlist', name, '--json'], ctx.opTimeoutMs * 3)
  if (r.code === 0) return
  let report: { tracks?: Array<{ sha256: string; state?: string; reason?: string; detail?: string }> } | undefined
  try {
    report = JSON.parse(r.stdout) as typeof report
  } catch {
    // no report: the pull could not run (its node down, or it timed out)
  }
  const bad = (report?.tracks ?? []).filter((t) => t.state === 'missing')
  if (!bad.length) throw new Error(`exit ${r.code ?? 'timeout'}: ${r.stderr.trim().split('\n').pop()?.slice(0, 120) ?? ''}`)
  // The reasons make the tally's kind; the details (which track, why) go with it into the examples.
  const details = bad.map((t) => `${t.sha256.slice(0, 12)} ${t.reason}${t.detail ? ` (${t.detail})` : ''}`).join('; ')
  throw new PullNotReady(`not ready: ${[...new Set(bad.map((t) => t.reason ?? 'missing'))].join(', ')}`, `${d!.name} "${name}": ${details}`)
}

/** Adds a new track to a device's folder, or removes one another device also holds, then rescans through the node. */
async function scan(ctx: OpContext, needs: Needs): Promise<void> {
  const d = ctx.rng.pick(upOwn(ctx).length ? upOwn(ctx) : [undefined])
  const api = need(d)
  needs([d!.name])
  const present = ctx.model.presentOn(d!.name)
  const removable = present.filter((s) => ctx.model.holders(s).some((h) => h !== d!.name))
  if (present.length < ctx.maxPerDevice && (ctx.rng.float() < 0.6 || !removable.length)) {
    await ctx.model.place(d!.name, (await ctx.model.newTrack()).sha256)
  } else if (removable.length) {
    await ctx.model.remove(d!.name, ctx.rng.pick(removable))
  }
  const snapshot = ctx.model.snapshot(d!.name)
  await call(api, 'POST', '/api/scan', {}, ctx.opTimeoutMs * 2)
  ctx.model.scannedAt(d!.name, snapshot)
}

/** Adds, removes or moves an entry of a playlist on a random own device. */
async function playlist(ctx: OpContext, needs: Needs): Promise<void> {
  const d = ctx.rng.pick(upOwn(ctx).length ? upOwn(ctx) : [undefined])
  const api = need(d)
  needs([d!.name])
  const name = ctx.rng.pick(ctx.playlists.names)
  const path = `/api/playlists/${encodeURIComponent(name)}`
  const { playlist: before } = await call<{ playlist: PlaylistBody }>(api, 'GET', path, undefined, ctx.opTimeoutMs)
  ctx.playlists.saw(name, before.entries.map((e) => e.id))
  const n = before.entries.length
  const roll = ctx.rng.float()
  let after: PlaylistBody
  if (n < 3 || (n < 8 && roll < 0.45)) {
    const candidates = ctx.model.settled(ctx.unionDelayMs)
    if (!candidates.length) throw new Skip()
    const tracks = [ctx.rng.pick(candidates).sha256]
    if (ctx.rng.float() < 0.3) tracks.push(ctx.rng.pick(candidates).sha256)
    const body = ctx.rng.float() < 0.5 ? { tracks } : { tracks, at: ctx.rng.int(0, n) }
    after = (await call<{ playlist: PlaylistBody }>(api, 'POST', `${path}/tracks`, body, ctx.opTimeoutMs)).playlist
  } else if (n >= 8 || roll < 0.75) {
    const entry = ctx.rng.pick(before.entries).id
    ctx.playlists.removing(name, entry)
    after = (await call<{ playlist: PlaylistBody }>(api, 'POST', `${path}/remove`, { entries: [entry] }, ctx.opTimeoutMs)).playlist
  } else {
    const entry = ctx.rng.pick(before.entries).id
    after = (await call<{ playlist: PlaylistBody }>(api, 'POST', `${path}/move`, { entry, to: ctx.rng.int(0, n - 1) }, ctx.opTimeoutMs)).playlist
  }
  ctx.playlists.saw(name, after.entries.map((e) => e.id))
}

export interface PlaylistBody {
  name: string
  entries: Array<{ id: string; ref: string; track: { sha256: string } | null }>
}

/** A metadata backup pushed from the admin's node. */
async function backup(ctx: OpContext, needs: Needs): Promise<void> {
  const api = need(ctx.admin.up ? ctx.admin : undefined)
  needs([ctx.admin.name])
  const r = await call<{ seq: number }>(api, 'POST', '/api/backup/push', undefined, ctx.opTimeoutMs * 2)
  ctx.backupSeqs.push(r.seq)
}

/** Unpins a device's cache and halves its budget for a moment, so fetched tracks are evicted and fetched again later. */
async function evict(ctx: OpContext, needs: Needs): Promise<void> {
  const d = ctx.rng.pick(upOwn(ctx).length ? upOwn(ctx) : [undefined])
  const api = need(d)
  needs([d!.name])
  const cache = await call<CacheBody>(api, 'GET', '/api/cache', undefined, ctx.opTimeoutMs)
  const pinned = cache.tracks.filter((t) => t.pinned).map((t) => t.sha256)
  if (pinned.length) await call(api, 'POST', '/api/cache/unpin', { tracks: pinned }, ctx.opTimeoutMs)
  const { stats } = await call<CacheBody>(api, 'GET', '/api/cache', undefined, ctx.opTimeoutMs)
  try {
    await call(api, 'PUT', '/api/cache/budget', { bytes: Math.max(1_000_000, Math.floor(stats.used / 2)) }, ctx.opTimeoutMs)
  } finally {
    await call(api, 'PUT', '/api/cache/budget', { bytes: CACHE_BUDGET }, ctx.opTimeoutMs)
  }
}

export const CACHE_BUDGET = 2_000_000_000 // bytes: far more than the soak ever fetches

export interface CacheBody {
  stats: { budget: number; used: number; fetching: number; partial: number; cached: number; pinned: number }
  tracks: Array<{ sha256: string; state: 'cached' | 'fetching' | 'partial'; bytes: number; pinned: boolean }>
}

export const OPERATIONS: Record<OpKind, (ctx: OpContext, needs: Needs) => Promise<void>> = { stream, pull, scan, playlist, backup, evict }
