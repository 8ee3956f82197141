// The fault soak (bench/README.md, "Fault soak"): a real circle (home-pc,
// laptop, phone and a friend's device, each a `djcloud serve` process) under a
// driver that streams, pulls, rescans, edits playlists, pushes backups and
// evicts caches, while a device is killed (-9) or stopped (SIGTERM) and
// restarted every few seconds; then the end checks. Returns the counts; any
// loss is in `losses`.
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { machineInfo, type MachineInfo } from '../common.ts'
import { gitCommit } from '../common.ts'
import { call } from './api.ts'
import { chaosLoop, startWithRetries } from './chaos.ts'
import { FRIEND_DEVICE, firstScan, makeCircle, OWN_DEVICES } from './circle.ts'
import { Device } from './devices.ts'
import { driverLoop } from './driver.ts'
import { LibraryModel } from './library-model.ts'
import { liveChecks } from './live-checks.ts'
import type { OpContext, OpKind, PlaylistBody } from './operations.ts'
import { PlaylistLedger } from './playlist-ledger.ts'
import { Rng } from './rng.ts'
import { waitFor } from './sleep.ts'
import { storeChecks } from './store-checks.ts'
import { Tally, type Loss, type OpCounts } from './tally.ts'

export interface SoakOptions {
  /** How long the chaos runs (ms). */
  durationMs: number
  seed: number
  /** Mean ms between stops. */
  killEveryMs: number
  /** Share of stops made with SIGTERM. */
  termShare?: number
  /** Tracks the library starts with. */
  tracks?: number
  /** Seconds of audio per track (22.05 kHz mono WAV: 44.1 kB a second). */
  trackSeconds?: number
  /** Ceiling of every bounded wait (ms). */
  waitMs?: number
  tmp: string
  log: (line: string) => void
}

export interface SoakResults {
  date: string
  machine: MachineInfo
  commit: string | null
  options: { minutes: number; seed: number; killEverySeconds: number; termShare: number; tracks: number; trackMB: number }
  chaosSeconds: number
  totalSeconds: number
  kills: number
  termStops: number
  restarts: number
  /** SIGTERM to exit (ms): the stops during the run and the final ones. */
  termExitMs: { max: number; mean: number; count: number }
  operations: Record<string, OpCounts>
  failures: Record<string, number>
  unexpectedExamples: Record<string, string>
  checks: Record<string, number>
  tracksWritten: number
  playlistEntriesSeen: number
  latestBackup: number
  losses: Loss[]
}

const WEIGHTS: Record<OpKind, number> = { stream: 30, playlist: 25, scan: 12, pull: 10, backup: 8, evict: 8 }
const PLAYLISTS = ['Friday Gig', 'Warm-up']
const TERM_GRACE_MS = 15_000 // a clean stop that takes longer is counted as ignoring SIGTERM

/** Waits until every own device's union lists every track with a holder, then makes the playlists. */
async function prepare(own: Device[], model: LibraryModel, ledger: PlaylistLedger, waitMs: number): Promise<void> {
  const want = [...model.tracks.keys()]
  const listed = await waitFor(async () => {
    for (const d of own) {
      const { tracks } = await call<{ tracks: Array<{ sha256: string; holders?: Array<{ online: boolean }> }> }>(d.api!, 'GET', '/api/library')
      const ok = new Set(tracks.filter((t) => (t.holders ?? []).some((h) => h.online)).map((t) => t.sha256))
      if (!want.every((s) => ok.has(s))) return undefined
    }
    return true
  }, waitMs)
  if (!listed) throw new Error(`the own devices did not all list the ${want.length} tracks within ${waitMs} ms`)
  const admin = own[0]!
  for (const [i, name] of ledger.names.entries()) {
    await call(admin.api!, 'POST', '/api/playlists', { name })
    const tracks = want.filter((_, k) => k % ledger.names.length === i).slice(0, 4)
    const { playlist } = await call<{ playlist: PlaylistBody }>(admin.api!, 'POST', `/api/playlists/${encodeURIComponent(name)}/tracks`, { tracks })
    ledger.saw(name, playlist.entries.map((e) => e.id))
  }
  const seen = await waitFor(async () => {
    for (const d of own) for (const name of ledger.names) await call(d.api!, 'GET', `/api/playlists/${encodeURIComponent(name)}`)
    return true
  }, waitMs)
  if (!seen) throw new Error(`the playlists did not reach every own device within ${waitMs} ms`)
}

/** A first backup, held by the friend before the chaos starts (else the set-up, not a fault, is broken). */
async function firstBackup(admin: Device, friend: Device, ownerHex: string, waitMs: number): Promise<number> {
  const { seq } = await call<{ seq: number }>(admin.api!, 'POST', '/api/backup/push', undefined, waitMs)
  const held = await waitFor(async () => {
    await call(friend.api!, 'POST', '/api/backup/sync', undefined, waitMs)
    const s = await call<{ held: Array<{ owner: string; versions: Array<{ seq: number }> }> }>(friend.api!, 'GET', '/api/backup/status')
    return s.held.find((h) => h.owner === ownerHex)?.versions.some((v) => v.seq === seq) ? true : undefined
  }, waitMs, 2_000)
  if (!held) throw new Error(`the friend did not take the first backup within ${waitMs} ms:\n${friend.stderr().slice(-2000)}`)
  return seq
}

export async function runSoak(o: SoakOptions): Promise<SoakResults> {
  const t0 = Date.now()
  const termShare = o.termShare ?? 0.25
  const tracks = o.tracks ?? 9
  const trackSeconds = o.trackSeconds ?? 60
  const waitMs = o.waitMs ?? 120_000
  const work = await mkdtemp(join(o.tmp, 'djcloud-faults-'))
  const devices: Device[] = []
  const stopAll = () => Promise.all(devices.map((d) => d.stop('SIGKILL', 5_000)))
  const onSignal = (signal: NodeJS.Signals) => {
    void stopAll()
      .then(() => rm(work, { recursive: true, force: true }))
      .finally(() => process.kill(process.pid, signal))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    o.log(`circle: home-pc (admin), laptop and phone paired, a friend (${FRIEND_DEVICE}) trusted both ways, in ${work}`)
    const circle = await makeCircle(work)
    const model = new LibraryModel(work, OWN_DEVICES, trackSeconds)
    for (let i = 0; i < tracks; i++) {
      const t = await model.newTrack()
      await model.place(OWN_DEVICES[i % 3]!, t.sha256)
      if (i % 3 !== 2) await model.place(OWN_DEVICES[(i + 1) % 3]!, t.sha256)
    }
    for (const d of OWN_DEVICES) {
      const snapshot = model.snapshot(d)
      await firstScan(circle.homes[d]!, model.folder(d))
      model.scannedAt(d, snapshot, 0)
    }
    o.log(`library: ${tracks} tracks of ${((trackSeconds * 44_100) / 1e6).toFixed(1)} MB, each on one or two own devices`)

    const env = { ...process.env, DJCLOUD_BACKUP_POLL_MS: '2000', DEBUG: 'djcloud:backups', DJCLOUD_DEBUG: '1' } // friends poll the owner's pointer every 2 s (10 minutes by default)
    devices.push(...circle.specs.map((s) => new Device(s, env)))
    const [admin, , , friend] = devices as [Device, Device, Device, Device]
    const own = devices.filter((d) => d.spec.own)
    // A start that fails (the error said in the log) is tried again twice, as the chaos loop does.
    await startWithRetries(admin, o.log)
    await Promise.all(devices.slice(1).map((d) => startWithRetries(d, o.log)))
    const ledger = new PlaylistLedger(PLAYLISTS)
    await prepare(own, model, ledger, waitMs)
    const backupSeqs = [await firstBackup(admin, friend, circle.ownerHex, waitMs)]
    o.log(`ready after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${PLAYLISTS.length} playlists, backup ${backupSeqs[0]} held by the friend; chaos for ${(o.durationMs / 60_000).toFixed(1)} min`)

    const tally = new Tally()
    for (const d of devices) {
      d.onCrash = (c) => {
        tally.loss('node-crashed', `${c.device} exited by itself (code ${c.code}): ${c.stderr.trim().split('\n').slice(-6).join(' | ')}`)
        o.log(`${c.device} exited by itself (code ${c.code}):\n${c.stderr.trim().split('\n').slice(-20).join('\n')}`)
      }
    }
    const ctx: OpContext = {
      own, admin, model, rng: new Rng(o.seed), tally, playlists: ledger, backupSeqs,
      unionDelayMs: 15_000, opTimeoutMs: 30_000, maxPerDevice: 8,
    }
    const chaos = new AbortController()
    const timer = setTimeout(() => chaos.abort(), o.durationMs)
    const progress = setInterval(() => {
      const ops = Object.values(tally.ops).reduce((n, c) => n + c.ok + c.expected + c.unexpected, 0)
      o.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${tally.stops.length} stops, ${ops} operations, ${tally.losses.length} losses`)
    }, 30_000)
    const chaosStart = Date.now()
    try {
      await Promise.all([
        chaosLoop({ devices, rng: new Rng(o.seed + 1), tally, intervalMs: o.killEveryMs, termShare, termGraceMs: TERM_GRACE_MS, targetFetchShare: 0.4, maxDownMs: 3_000, signal: chaos.signal, log: o.log }),
        driverLoop(ctx, { weights: WEIGHTS, devices, settleAfterRestartMs: 10_000, maxPauseMs: 400, signal: chaos.signal }),
      ])
    } finally {
      clearTimeout(timer)
      clearInterval(progress)
    }
    const chaosSeconds = (Date.now() - chaosStart) / 1000
    o.log(`chaos over after ${chaosSeconds.toFixed(0)} s: ${tally.stops.length} stops; settling and checking`)

    const { latestBackup } = await liveChecks({ own, admin, friend, ownerHex: circle.ownerHex, playlists: ledger, backupSeqs, tally, waitMs, log: o.log })
    const runStops = tally.stops.length
    for (const d of devices) {
      const r = await d.stop('SIGTERM', TERM_GRACE_MS)
      if (r) tally.stopped(r)
    }
    tally.checked('final SIGTERM stops', tally.stops.length - runStops)
    o.log('checking: stores open, every held, cached and backed-up file verifies')
    await storeChecks(circle.homes, circle.ownerHex, tally)

    const terms = tally.stops.filter((s) => s.signal === 'SIGTERM')
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      commit: gitCommit(['src', 'bench/faults']).commit,
      options: {
        minutes: Math.round((o.durationMs / 60_000) * 100) / 100,
        seed: o.seed,
        killEverySeconds: o.killEveryMs / 1000,
        termShare,
        tracks,
        trackMB: Math.round(trackSeconds * 44_100 / 1e5) / 10,
      },
      chaosSeconds: Math.round(chaosSeconds),
      totalSeconds: Math.round((Date.now() - t0) / 1000),
      kills: tally.stops.slice(0, runStops).filter((s) => s.signal === 'SIGKILL').length,
      termStops: tally.stops.slice(0, runStops).filter((s) => s.signal === 'SIGTERM').length,
      restarts: tally.restarts,
      termExitMs: {
        max: Math.max(0, ...terms.map((s) => s.ms)),
        mean: terms.length ? Math.round(terms.reduce((n, s) => n + s.ms, 0) / terms.length) : 0,
        count: terms.length,
      },
      operations: tally.ops,
      failures: tally.failures,
      unexpectedExamples: tally.examples,
      checks: tally.checks,
      tracksWritten: model.tracks.size,
      playlistEntriesSeen: ledger.seenCount(),
      latestBackup,
      losses: tally.losses,
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stopAll()
    await rm(work, { recursive: true, force: true })
  }
}
