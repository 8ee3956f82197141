// The manifest benchmark (issue 4; see bench/README.md): how fast a DJ's
// other own device holds a change, and what a large library costs to send
// and to hold. Everything on 127.0.0.1 with ports from the OS, in a private
// DHT: most plain DhtNodes in a child process (dht-swarm.ts, the rest of the
// network), and here two plain nodes for the floor and two real djcloud
// nodes A and B (startNode), linked over the device channel.
//   1. floor: a bare BEP 44 put of a pointer, then gets from another node
//      until it shows the new seq
//   2. a playlist change made on A through its HTTP API until B holds the
//      verified merged version: push (A's notice over the device channel)
//      and DHT pull (B's push path off, B polls the playlist's DHT item);
//      push again once A's union library holds N remote tracks
//   3. a library manifest of N synthetic tracks: bytes, time for B to hold
//      it all, then one retitled track: bytes B fetches and time
//   4. peak RSS of a fresh process holding 3 x N remote tracks and their
//      union (union-memory.ts)
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { gitCommit, machineInfo, percentile, REPO, round, type MachineInfo } from '../common.ts'
import { makeHomes, writeTrack } from '../../src/demo/index.ts'
import { syntheticTracks } from './tracks.ts'
import type { UnionMemoryConfig, UnionMemoryReport } from './union-memory.ts'
import { generateKeyPair, loadIdentity, type Identity } from '../../src/identity/index.ts'
import {
  DhtNode, ManifestBook, ManifestStore, encodePages, manifestSalt, packBlob, type Blob, type ManifestTrack, type MergedPlaylist, type Publication,
} from '../../src/manifest/index.ts'
import { startNode, type Node } from '../../src/node/index.ts'
import type { DeviceLink } from '../../src/swarm/index.ts'
import { loadOrCreateApiToken } from '../../src/player/index.ts'

export interface ManifestBenchOptions {
  /** DHT nodes in all, A and B included. */
  dhtNodes: number
  /** Timed rounds of the floor and of each playlist path. */
  rounds: number
  /** Tracks of the library manifest and of each device in the memory test. */
  tracks: number
  /** Retitles timed after the full library. */
  edits: number
  tmp: string
  log: (line: string) => void
  debug: boolean
}

export const TARGETS = { changeP95Ms: 500, floorRatio: 3, deltaPercent: 5, unionRssMB: 100 }
const UNION_MEMORY = fileURLToPath(new URL('./union-memory.ts', import.meta.url))
const DHT_SWARM = fileURLToPath(new URL('./dht-swarm.ts', import.meta.url))
/** The V8 flag `djcloud serve` runs the node with, read from bin/djcloud.js so the two never drift apart. */
const SERVE_V8_FLAG = (() => {
  const m = /SEMI_SPACE_FLAG = '([^']+)'/.exec(readFileSync(fileURLToPath(new URL('../../bin/djcloud.js', import.meta.url)), 'utf8'))
  if (!m) throw new Error('bin/djcloud.js no longer names SEMI_SPACE_FLAG: update bench/manifest')
  return m[1]!
})()
/** What the benchmark runs, for the "+dirty" mark on the commit. */
const MEASURED_PATHS = ['src/manifest', 'src/node', 'src/swarm', 'src/identity', 'src/codec', 'src/library', 'src/player', 'bench/manifest']
const WAIT_MS = 15_000
/** Start-to-start spacing of B's polls in the paced pull variant. */
const PACE_MS = 25

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export interface Latency {
  samplesMs: number[]
  p50: number
  p95: number
  max: number
}

const latency = (xs: number[]): Latency => ({
  samplesMs: xs.map((x) => round(x)),
  p50: round(percentile(xs, 50)),
  p95: round(percentile(xs, 95)),
  max: round(Math.max(...xs)),
})

export interface MemoryFigure extends UnionMemoryReport {
  variant: string
  peakRssMB: number
  peakAfterApplyMB: number
  rssBookOnlyAfterGcMB: number
  baselineRssMB: number
  heapUsedMB: number
  heapUsedAfterGcMB: number
  heapBookOnlyAfterGcMB: number
  /** Retained heap per remote track in the book, and per union entry on top (bytes). */
  bookBytesPerTrack: number
  unionBytesPerEntry: number
  /** V8 flags of the child: those `djcloud serve` runs with, or none (V8's defaults). */
  v8Flags: string[]
  /** Whether the variant is held to the target (the V8-defaults one is shown for comparison). */
  countsForTarget: boolean
  met: boolean
}

export interface PushFigure extends Latency {
  /** When A's HTTP answer arrived. */
  apiResponseMs: Latency
  /** When B's device channel got A's notice. */
  noticeAtBMs: Latency
  /** When B's first blob fetch returned. */
  blobAtBMs: Latency
  /** When A's DHT put of the playlist pointer was done (not on the push path). */
  aPutDoneMs: Latency
  ratioP95ToFloorP95: number
  target: string
  met: boolean
}

export interface PullFigure extends Latency {
  pollsPerRound: number[]
  /** DHT nodes that stored A's playlist pointer, each round. */
  storedAt: number[]
  /** When A's HTTP answer arrived. */
  apiResponseMs: Latency
  /** When A's DHT put of the playlist pointer was done. */
  aPutDoneMs: Latency
  /** CPU time of the benchmark process (A, B, 2 DHT nodes) over wall time, per round. */
  cpuShareP50: number
  ratioP95ToFloorP95: number
  target: string
  met: boolean
}

export interface ManifestBenchResults {
  date: string
  /** os.loadavg() (1, 5, 15 min) when the run began and when it ended: other work on the machine skews every figure. */
  loadAverage: { start: number[]; end: number[] }
  commit: string | null
  dirty: string[]
  machine: MachineInfo
  method: string[]
  dht: { nodes: number; plainNodes: number; startMs: number; routingTable: { min: number; median: number; max: number } }
  floor: Latency & { putMs: Latency; getMs: Latency; getsPerRound: number[]; storedAt: number[] }
  push: PushFigure
  pushLargeUnion: PushFigure & { unionTracks: number }
  pull: PullFigure
  pullPaced: PullFigure & { paceMs: number }
  /** B asks once A's DHT put is done, as the floor's get follows its put: the pull path without polling effects. */
  pullAfterPut: PullFigure
  library: {
    tracks: number
    pages: number
    bytes: { root: number; pages: number; total: number; pageMin: number; pageMax: number; perTrack: number }
    full: { publishMs: number; deliverMs: number; totalMs: number; fetchedBlobs: number; fetchedBytes: number; channelBytes: number; dhtStoredAt: number }
    oneTrack: {
      samples: Array<{ publishMs: number; deliverMs: number; totalMs: number; fetchedBlobs: number; fetchedBytes: number; expectedBytes: number; channelBytes: number; percent: number }>
      percentMax: number
      totalMsMedian: number
      totalMsMax: number
      target: string
      met: boolean
    }
  }
  memory: { variants: MemoryFigure[]; target: string; met: boolean }
  targets: Record<string, { target: string; value: number; met: boolean }>
  warnings: number
}


/**
 * The promise itself, marked as handled: a wait left behind when a round
 * fails (the benchmark stops on the first error) must not end the process
 * with an unhandled rejection while it cleans up.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

/** Resolves once `check` holds, tested now and after every change of the book. */
function untilBook(book: ManifestBook, check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  return handled(new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer)
      book.off('changed', onChange)
      if (err) reject(err)
      else resolve()
    }
    const onChange = () => {
      if (check()) done()
    }
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    timer.unref()
    book.on('changed', onChange)
    if (check()) done()
  }))
}

/** The next publication A's sync puts on the DHT that matches. */
function nextPublished(node: Node, match: (p: Publication) => boolean, ms = WAIT_MS): Promise<{ p: Publication; stored: number }> {
  return handled(new Promise((resolve, reject) => {
    const on = (p: Publication, stored: number) => {
      if (!match(p)) return
      clearTimeout(timer)
      node.sync.off('published', on)
      resolve({ p, stored })
    }
    const timer = setTimeout(() => {
      node.sync.off('published', on)
      reject(new Error(`timed out after ${ms} ms waiting for A to publish`))
    }, ms)
    timer.unref()
    node.sync.on('published', on)
  }))
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = WAIT_MS, every = 10): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(every)
  }
}

/** JSON lines from a child's stdout, one at a time. */
function lineReader(child: ChildProcess): { next: () => Promise<unknown> } {
  const queue: unknown[] = []
  const waiting: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = []
  let gone: Error | null = null
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const v = JSON.parse(line) as unknown
    const w = waiting.shift()
    if (w) w.resolve(v)
    else queue.push(v)
  })
  child.on('exit', (code) => {
    gone = new Error(`the DHT child exited (${code})`)
    for (const w of waiting.splice(0)) w.reject(gone)
  })
  return {
    next: () =>
      queue.length ? Promise.resolve(queue.shift()) : gone ? Promise.reject(gone) : new Promise((resolve, reject) => waiting.push({ resolve, reject })),
  }
}

const hasEntry = (p: MergedPlaylist | undefined, sha: string) => !!p?.entries.some((e) => e.track.sha256 === sha)

/** Runs the union-memory child (bundled, plain node) on one config; its report. */
function runChild(bundle: string, configPath: string, v8Flags: string[]): Promise<UnionMemoryReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...v8Flags, bundle, configPath], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`union-memory child exited ${code}: ${Buffer.concat(err).toString().trim()}`))
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as UnionMemoryReport)
      } catch (e) {
        reject(e as Error)
      }
    })
  })
}

export async function runManifestBench(opts: ManifestBenchOptions): Promise<ManifestBenchResults> {
  const { log } = opts
  const loadStart = loadavg().map((x) => round(x, 2))
  const work = await mkdtemp(join(opts.tmp, 'djcloud-bench-manifest-'))
  const dhts: DhtNode[] = []
  const nodes: Node[] = []
  let dhtChild: ChildProcess | null = null
  let warnings = 0
  const warn = (who: string) => (err: Error) => {
    warnings++
    if (opts.debug) log(`warning from ${who}: ${err.message}`)
  }
  let cleaned: Promise<void> | null = null
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const n of nodes) await n.close().catch(() => {})
      await Promise.all(dhts.map((d) => d.close().catch(() => {})))
      if (dhtChild && dhtChild.exitCode === null) {
        const exited = once(dhtChild, 'exit')
        dhtChild.stdin!.end('bye\n')
        const timer = setTimeout(() => dhtChild?.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
      await rm(work, { recursive: true, force: true })
    })())
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().finally(() => process.kill(process.pid, signal))
  }
  const onExit = () => {
    if (dhtChild && dhtChild.exitCode === null) dhtChild.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', onExit)

  try {
    // ---- the DHT: the plain nodes in a child (the rest of the network), two
    // more plain nodes for the floor and the DHT nodes of A and B here ----
    let t0 = performance.now()
    const swarm = spawn(process.execPath, ['--import', 'tsx', DHT_SWARM, String(opts.dhtNodes - 4)], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] })
    dhtChild = swarm
    const fromSwarm = lineReader(swarm)
    const { boot } = (await fromSwarm.next()) as { boot: string; nodes: number }
    const floorNodes = await Promise.all([0, 1].map(() => DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [boot], onWarning: warn('dht') })))
    dhts.push(...floorNodes)
    const [putter, getter] = floorNodes as [DhtNode, DhtNode]

    // ---- devices A (admin) and B (member), linked over the device channel ----
    const [homeA, homeB] = (await makeHomes(join(work, 'homes'), ['A', 'B'])) as [string, string]
    const idA = await loadIdentity(homeA)
    if (idA.roster.bootstrap.length || idA.roster.trackers.length) throw new Error('the roster names bootstrap nodes or trackers: this benchmark must stay off the public network')
    const nodeOpts = { peerPort: 0, peerHost: '127.0.0.1', apiPort: 0, tracker: false as const, dht: { port: 0, host: '127.0.0.1' }, bootstrap: [boot], analyze: false }
    const A = await startNode({ home: homeA, ...nodeOpts, onWarning: warn('A') })
    nodes.push(A)
    const B = await startNode({ home: homeB, ...nodeOpts, peers: [{ host: '127.0.0.1', port: A.info.peerPort }], onWarning: warn('B') })
    nodes.push(B)
    const aDev = hex(idA.device.publicKey)
    const idB = await loadIdentity(homeB)
    const bDev = hex(idB.device.publicKey)
    await until(() => (A.swarm.devices.online().some((l) => l.device === bDev) && B.swarm.devices.online().some((l) => l.device === aDev) ? true : undefined), 'A and B to link')
    // Routing tables as a long-running DHT has them: every node looks up a random id once.
    swarm.stdin!.write('warm\n')
    const warmed = (await fromSwarm.next()) as { tables: number[]; warnings: number }
    const here = [...floorNodes, A.dht!, B.dht!]
    await Promise.all(here.map((d) => d.lookup(randomBytes(20), 2_000)))
    const tables = [...warmed.tables, ...here.map((d) => d.nodeCount())].sort((a, b) => a - b)
    const dhtNodes = tables.length
    const dhtStartMs = performance.now() - t0
    log(`DHT: ${dhtNodes} nodes on 127.0.0.1 (${warmed.tables.length} plain in a child, 2 plain for the floor, A and B) in ${(dhtStartMs / 1000).toFixed(1)} s; routing tables ${tables[0]}-${tables.at(-1)} nodes (median ${percentile(tables, 50)}); A and B linked`)

    // B's blob fetches, timed (push breakdown) and counted (library bytes).
    const counter = { blobs: 0, bytes: 0, channel: 0 }
    const marks = { notice: 0, fetched: 0 }
    const dc = B.swarm.devices
    const fetchBlob = dc.fetchBlob.bind(dc)
    dc.fetchBlob = async (id, prefer) => {
      const r = await fetchBlob(id, prefer)
      marks.fetched ||= performance.now()
      if (r) (counter.blobs++, (counter.bytes += r.data.length))
      return r
    }
    dc.prependListener('notice', () => void (marks.notice ||= performance.now()))

    // ---- tracks A's playlists can name: small real files scanned into A's library ----
    const music = join(work, 'music')
    await mkdir(music)
    const fileCount = opts.rounds + 1
    for (let i = 0; i < fileCount; i++) await writeTrack(join(music, `t${i}.wav`), { title: `Bench ${i}`, artist: 'Manifest Bench', bpm: 120 + i }, i + 1, 1)
    await A.library.scan([music])
    await A.sync.publishLibrary()
    const shas = (await A.library.list()).map((t) => t.sha256)
    if (shas.length !== fileCount) throw new Error(`A's library holds ${shas.length} tracks, expected ${fileCount}`)
    await untilBook(B.book, () => B.book.remoteLibraries().find((d) => d.device === aDev)?.tracks.length === fileCount, "B to hold A's scanned library")

    const token = await loadOrCreateApiToken(homeA)
    const post = async (path: string, body: unknown): Promise<void> => {
      const r = await fetch(`${A.info.api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      })
      const text = await r.text()
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${text}`)
    }
    const addPath = (name: string) => `/api/playlists/${encodeURIComponent(name)}/tracks`
    const aLibrarySeq = () => A.book.store.state.own.library?.seq ?? 0
    /** After a change: A's library root (which lists the playlist) is out, and B holds it when push is on. */
    const settle = async (published: Promise<unknown>, bHoldsLibrary: boolean) => {
      await published
      if (bHoldsLibrary) await untilBook(B.book, () => (B.book.deviceSeqs()[aDev] ?? 0) >= aLibrarySeq(), "B to hold A's library root")
      await sleep(20)
    }
    const PUSH = 'bench push'
    const PULL = 'bench pull'
    const PACED = 'bench pull, paced'
    const ASKED = 'bench pull, after the put'
    for (const name of [PUSH, PULL, PACED, ASKED]) {
      const published = nextPublished(A, (p) => p.kind === 'library')
      await post('/api/playlists', { name })
      await untilBook(B.book, () => B.book.playlistNames().includes(name), `B to see playlist "${name}"`)
      await settle(published, true)
    }

    // ---- push: A's notice over the device channel, B fetches and verifies the blob ----
    /** One change per id on A's playlist `name`, round 0 untimed; each waits for the previous to settle. */
    const pushRounds = async (name: string, ids: string[]) => {
      const r = { ms: [] as number[], api: [] as number[], notice: [] as number[], fetched: [] as number[], aPut: [] as number[] }
      for (const [i, sha] of ids.entries()) {
        const published = nextPublished(A, (p) => p.kind === 'library')
        const playlistPut = nextPublished(A, (p) => p.kind === 'playlist' && p.name === name)
        Object.assign(marks, { notice: 0, fetched: 0 })
        const start = performance.now()
        const putDone = playlistPut.then(() => performance.now() - start)
        const held = untilBook(B.book, () => hasEntry(B.book.playlist(name), sha), `B to hold change ${i} of "${name}" (push)`).then(() => performance.now() - start)
        const answered = post(addPath(name), { tracks: [sha] }).then(() => performance.now() - start)
        const [ms, api] = await Promise.all([held, answered])
        const aPut = await putDone
        if (i > 0) (r.ms.push(ms), r.api.push(api), r.notice.push(marks.notice - start), r.fetched.push(marks.fetched - start), r.aPut.push(aPut))
        await settle(published, true)
      }
      return r
    }
    const push = await pushRounds(PUSH, shas)
    log(`push: p50 ${round(percentile(push.ms, 50))} ms, p95 ${round(percentile(push.ms, 95))} ms over ${push.ms.length} changes`)

    // ---- floor: bare BEP 44 put of a pointer, then gets from another node ----
    const key = generateKeyPair()
    const salt = manifestSalt(randomBytes(32), 'playlist', 'floor')
    const floorMs: number[] = []
    const putMs: number[] = []
    const getMs: number[] = []
    const getsPerRound: number[] = []
    const floorStored: number[] = []
    for (let i = 0; i <= opts.rounds; i++) {
      const seq = i + 1
      const start = performance.now()
      const { stored } = await putter.putPointer({ seed: key.seed, salt, seq, infoHash: randomBytes(20) })
      const put = performance.now()
      let gets = 0
      for (;;) {
        gets++
        const got = await getter.getPointer({ publicKey: key.publicKey, salt })
        if (got?.seq === seq) break
        if (performance.now() - start > WAIT_MS) throw new Error(`floor round ${i}: the get never saw seq ${seq}`)
      }
      const end = performance.now()
      if (i > 0) {
        floorMs.push(end - start)
        putMs.push(put - start)
        getMs.push(end - put)
        getsPerRound.push(gets)
        floorStored.push(stored)
      }
      await sleep(20)
    }
    log(`floor: p50 ${round(percentile(floorMs, 50))} ms, p95 ${round(percentile(floorMs, 95))} ms (put p50 ${round(percentile(putMs, 50))} ms, stored at ${percentile(floorStored, 50)} nodes)`)

    // ---- DHT pull: B's push path off; B polls the playlist's DHT item ----
    const noticeListeners = B.swarm.devices.listeners('notice') as Array<(link: DeviceLink, n: unknown) => void>
    B.swarm.devices.removeAllListeners('notice')
    // B's minutely poll of the library items would also bring the playlist (the
    // library root lists it): stopped, so that only pollPlaylist brings it here.
    B.sync.stop()
    /**
     * One change per id on A's playlist `name`, round 0 untimed. B calls
     * pollPlaylist back to back, or one every `paceMs` (start to start).
     */
    const pullRounds = async (name: string, ids: string[], paceMs = 0, afterPut = false) => {
      const r = { ms: [] as number[], polls: [] as number[], stored: [] as number[], api: [] as number[], aPut: [] as number[], cpuShare: [] as number[] }
      for (const [i, sha] of ids.entries()) {
        const published = nextPublished(A, (p) => p.kind === 'library')
        const playlistPut = nextPublished(A, (p) => p.kind === 'playlist' && p.name === name)
        const cpu0 = process.cpuUsage()
        const start = performance.now()
        const putDone = playlistPut.then(({ stored }) => ({ stored, at: performance.now() - start }))
        const answered = post(addPath(name), { tracks: [sha] }).then(() => performance.now() - start)
        // As the floor does (put, then get): B asks once A's put is done.
        if (afterPut) await putDone
        let n = 0
        while (!hasEntry(B.book.playlist(name), sha)) {
          const pollStart = performance.now()
          if (pollStart - start > WAIT_MS) throw new Error(`pull round ${i} of "${name}": B never got the change`)
          n++
          if ((await B.sync.pollPlaylist(name)) > 0 || !paceMs) continue
          await sleep(Math.max(0, paceMs - (performance.now() - pollStart)))
        }
        const ms = performance.now() - start
        const cpu = process.cpuUsage(cpu0)
        const api = await answered
        const put = await putDone
        if (i > 0) (r.ms.push(ms), r.polls.push(n), r.stored.push(put.stored), r.api.push(api), r.aPut.push(put.at), r.cpuShare.push((cpu.user + cpu.system) / 1000 / ms))
        await settle(published, false)
      }
      return r
    }
    const pull = await pullRounds(PULL, shas)
    log(`pull: p50 ${round(percentile(pull.ms, 50))} ms, p95 ${round(percentile(pull.ms, 95))} ms over ${pull.ms.length} changes`)
    const paced = await pullRounds(PACED, shas, PACE_MS)
    log(`pull, a poll every ${PACE_MS} ms: p50 ${round(percentile(paced.ms, 50))} ms, p95 ${round(percentile(paced.ms, 95))} ms`)
    const asked = await pullRounds(ASKED, shas, 0, true)
    log(`pull, B asking once A's put is done: p50 ${round(percentile(asked.ms, 50))} ms, p95 ${round(percentile(asked.ms, 95))} ms`)
    for (const l of noticeListeners) B.swarm.devices.on('notice', l)

    // ---- library manifest of N tracks ----
    // What B receives, counted two ways: the blobs its fetches return (the
    // wrapper above), and every device-channel message payload (+6 bytes of
    // framing) arriving from A.
    const counted = new WeakSet<object>()
    const countLink = (l: DeviceLink) => {
      if (l.device !== aDev || counted.has(l.session.wire)) return
      counted.add(l.session.wire)
      l.session.wire.on('extended', (name, payload) => {
        if (name === 'dj_lookup') counter.channel += payload.length + 6
      })
    }
    dc.online().forEach(countLink)
    dc.on('link', countLink)
    const reset = () => Object.assign(counter, { blobs: 0, bytes: 0, channel: 0 })

    // ManifestSync.announce is private, and ManifestSync.publishLibrary takes
    // the tracks from the local library: its steps with public calls (a notice
    // to the linked devices, the pointer put, the BEP 5 announce of the blob).
    const librarySalt = manifestSalt(idA.circleSecret, 'library')
    const announceFrom = async (n: Node, id: Identity, p: Publication) => {
      n.swarm.devices.notify({ kind: 'library', signer: hex(id.device.publicKey), infoHash: p.blob.infoHash, seq: p.seq })
      const put = await n.dht!.putPointer({ seed: id.device.seed, salt: librarySalt, seq: p.seq, infoHash: Buffer.from(p.blob.infoHash, 'hex') })
      await n.dht!.announce(Buffer.from(p.blob.infoHash, 'hex'), n.swarm.port)
      return put
    }
    const announce = (p: Publication) => announceFrom(A, idA, p)
    const bView = () => B.book.remoteLibraries().find((d) => d.device === aDev)
    const pack = (tracks: readonly ManifestTrack[]): Blob[] => encodePages(tracks).map((p) => packBlob(p, idA.circleSecret))

    let tracks = syntheticTracks(opts.tracks, 7)
    const pages = pack(tracks)
    reset()
    t0 = performance.now()
    const pub = await A.book.publishLibrary(tracks)
    if (!pub) throw new Error('A published nothing')
    const tPub = performance.now()
    const fullHeld = untilBook(B.book, () => bView()?.tracks.length === tracks.length, `B to hold A's ${tracks.length} tracks`, 60_000)
    const fullPut = announce(pub)
    await fullHeld
    const tHeld = performance.now()
    const fullStored = (await fullPut).stored
    const fullFetch = { ...counter }
    if (!pages.every((p) => B.book.store.hasBlob(p.sha256))) throw new Error("the benchmark's pages are not the ones A published")
    const pageBytes = pages.reduce((n, p) => n + p.data.length, 0)
    const fullBytes = pub.blob.data.length + pageBytes
    log(`library: ${tracks.length} tracks, ${pages.length} pages, ${fullBytes} bytes; B held it ${round(tHeld - t0)} ms after A began publishing (${fullFetch.blobs} blobs, ${fullFetch.bytes} bytes fetched)`)

    const oneTrack: ManifestBenchResults['library']['oneTrack']['samples'] = []
    for (let k = 0; k < opts.edits; k++) {
      const at = Math.floor(((k + 0.5) * tracks.length) / opts.edits)
      const title = `${tracks[at]!.tags.title} [retitled ${k + 1}]`
      const sha = tracks[at]!.sha256
      tracks = tracks.map((t, i) => (i === at ? { ...t, tags: { ...t.tags, title } } : t))
      const missing = pack(tracks).filter((p) => !B.book.store.hasBlob(p.sha256))
      await sleep(50)
      reset()
      const start = performance.now()
      const p = await A.book.publishLibrary(tracks)
      if (!p) throw new Error('A published nothing')
      const published = performance.now()
      const held = untilBook(B.book, () => bView()?.tracks.find((t) => t.sha256 === sha)?.tags.title === title, `B to hold retitle ${k + 1}`)
      const put = announce(p)
      await held
      const end = performance.now()
      await put
      const expectedBytes = p.blob.data.length + missing.reduce((n, b) => n + b.data.length, 0)
      oneTrack.push({
        publishMs: round(published - start),
        deliverMs: round(end - published),
        totalMs: round(end - start),
        fetchedBlobs: counter.blobs,
        fetchedBytes: counter.bytes,
        expectedBytes,
        channelBytes: counter.channel,
        percent: round((100 * counter.bytes) / fullBytes, 2),
      })
    }
    const percentMax = Math.max(...oneTrack.map((s) => s.percent))
    log(`one track retitled: ${oneTrack.map((s) => `${s.fetchedBytes} B (${s.percent}%) in ${s.totalMs} ms`).join(', ')}`)

    // ---- push again, with A's union holding B's N tracks ----
    // The playlist routes resolve every request against the union library
    // (local tracks + every remote view): measured with a large one too.
    const bigTracks = syntheticTracks(opts.tracks, 8)
    const bPub = await B.book.publishLibrary(bigTracks)
    if (!bPub) throw new Error('B published nothing')
    const aHoldsB = untilBook(A.book, () => A.book.remoteLibraries().find((d) => d.device === bDev)?.tracks.length === bigTracks.length, `A to hold B's ${bigTracks.length} tracks`, 60_000)
    await announceFrom(B, idB, bPub)
    await aHoldsB
    const BIG = 'bench push, large union'
    {
      const published = nextPublished(A, (p) => p.kind === 'library')
      await post('/api/playlists', { name: BIG })
      await untilBook(B.book, () => B.book.playlistNames().includes(BIG), `B to see playlist "${BIG}"`)
      await settle(published, true)
    }
    const pushBig = await pushRounds(BIG, bigTracks.slice(0, opts.rounds + 1).map((t) => t.sha256))
    log(`push, A's union holding ${bigTracks.length + shas.length} tracks: p50 ${round(percentile(pushBig.ms, 50))} ms, p95 ${round(percentile(pushBig.ms, 95))} ms (A's HTTP answer p50 ${round(percentile(pushBig.api, 50))} ms)`)

    // ---- memory of a union of 3 x N tracks, in a fresh child ----
    const bundleDir = join(work, 'bundle')
    await mkdir(bundleDir)
    const bundle = join(bundleDir, 'union-memory.mjs')
    await build({ entryPoints: [UNION_MEMORY], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' })
    await symlink(join(REPO, 'node_modules'), join(bundleDir, 'node_modules'), 'dir')
    const variants: MemoryFigure[] = []
    // As `djcloud serve` runs (bin/djcloud.js gives the node a small young
    // generation); once more with V8's defaults, for comparison, outside the target.
    const runs = [
      { variant: 'distinct', flags: [SERVE_V8_FLAG], counts: true },
      { variant: 'shared', flags: [SERVE_V8_FLAG], counts: true },
      { variant: 'distinct, V8 defaults', flags: [], counts: false },
    ]
    for (const { variant, flags, counts } of runs) {
      const root = join(work, `memory-${variant.replace(/\W+/g, '-')}`)
      const homes = await makeHomes(root, ['self', 'd1', 'd2', 'd3'])
      const devices: UnionMemoryConfig['devices'] = []
      for (const [i, home] of homes.slice(1).entries()) {
        const id = await loadIdentity(home)
        const store = await ManifestStore.open(home, id.circleSecret)
        const book = await ManifestBook.open({ store, identity: () => id })
        const p = await book.publishLibrary(syntheticTracks(opts.tracks, variant.startsWith('distinct') ? 101 + i : 101))
        devices.push({ name: `d${i + 1}`, blobsDir: join(store.dir, 'blobs'), root: p!.blob.sha256 })
      }
      const configPath = join(root, 'config.json')
      await writeFile(configPath, JSON.stringify({ selfHome: homes[0]!, devices } satisfies UnionMemoryConfig))
      const r = await runChild(bundle, configPath, flags)
      const mb = (bytes: number) => round(bytes / 1e6)
      variants.push({
        variant,
        ...r,
        peakRssMB: mb(r.peakRssKiB * 1024),
        peakAfterApplyMB: mb(r.peakAfterApplyKiB * 1024),
        rssBookOnlyAfterGcMB: mb(r.rssBookOnlyAfterGcKiB * 1024),
        baselineRssMB: mb(r.baselineRssKiB * 1024),
        heapUsedMB: mb(r.heapUsed),
        heapUsedAfterGcMB: mb(r.heapUsedAfterGc),
        heapBookOnlyAfterGcMB: mb(r.heapBookOnlyAfterGc),
        bookBytesPerTrack: Math.round((r.heapBookOnlyAfterGc - r.heapBaselineAfterGc) / r.remoteTracks),
        unionBytesPerEntry: Math.round((r.heapUsedAfterGc - r.heapBookOnlyAfterGc) / r.unionTracks),
        v8Flags: flags,
        countsForTarget: counts,
        met: (r.peakRssKiB * 1024) / 1e6 < TARGETS.unionRssMB,
      })
      log(`memory (${variant}): ${r.remoteTracks} remote tracks, union of ${r.unionTracks}: peak RSS ${mb(r.peakRssKiB * 1024)} MB, heap ${mb(r.heapUsedAfterGc)} MB after GC`)
    }

    // ---- figures ----
    swarm.stdin!.write('stats\n')
    const { warnings: childWarnings } = (await fromSwarm.next()) as { warnings: number }
    const floor = latency(floorMs)
    const pathTarget = `p95 < ${TARGETS.changeP95Ms} ms and <= ${TARGETS.floorRatio}x the floor's p95`
    const pushFigure = (r: typeof push) => {
      const l = latency(r.ms)
      const ratio = round(l.p95 / floor.p95, 2)
      return {
        ...l,
        apiResponseMs: latency(r.api),
        noticeAtBMs: latency(r.notice),
        blobAtBMs: latency(r.fetched),
        aPutDoneMs: latency(r.aPut),
        ratioP95ToFloorP95: ratio,
        target: pathTarget,
        met: l.p95 < TARGETS.changeP95Ms && ratio <= TARGETS.floorRatio,
      }
    }
    const pushResult = pushFigure(push)
    const pushBigResult = { ...pushFigure(pushBig), unionTracks: bigTracks.length + shas.length }
    const pullFigure = (r: typeof pull): PullFigure => {
      const l = latency(r.ms)
      const ratio = round(l.p95 / floor.p95, 2)
      return {
        ...l,
        pollsPerRound: r.polls,
        storedAt: r.stored,
        apiResponseMs: latency(r.api),
        aPutDoneMs: latency(r.aPut),
        cpuShareP50: round(percentile(r.cpuShare, 50), 2),
        ratioP95ToFloorP95: ratio,
        target: pathTarget,
        met: l.p95 < TARGETS.changeP95Ms && ratio <= TARGETS.floorRatio,
      }
    }
    const pullResult = pullFigure(pull)
    const pacedResult = { ...pullFigure(paced), paceMs: PACE_MS }
    const askedResult = pullFigure(asked)
    const memMet = variants.filter((v) => v.countsForTarget).every((v) => v.met)
    const worstRss = Math.max(...variants.map((v) => v.peakRssMB))
    const c = gitCommit(MEASURED_PATHS)
    return {
      date: new Date().toISOString().slice(0, 10),
      loadAverage: { start: loadStart, end: loadavg().map((x) => round(x, 2)) },
      ...c,
      machine: machineInfo(),
      method: [
        `a DHT of ${dhtNodes} nodes on 127.0.0.1, ports from the OS, every node with an explicit bootstrap list (never the public DHT): ${warmed.tables.length} plain DhtNodes in a child process (bench/manifest/dht-swarm.ts; the rest of the network, whose packet handling runs on other machines in reality), and in the benchmark process 2 plain DhtNodes for the floor and the DHT nodes of two djcloud nodes A and B (startNode); each node looked up one random id before timing`,
        "A (admin) and B (member) share one roster (test/helpers/homes.ts makeHomes), no tracker, B dials A's peer port; linked over the device channel before timing; A's library: ${shas.length} small WAVs scanned",
        `floor: a bare BEP 44 put of a {ih} pointer (same key and salt, seq + 1 each round) from one plain node, then getPointer from the other until it returns the new seq; ${opts.rounds} rounds after one untimed`,
        `push: POST /api/playlists/:name/tracks on A (one track each), timed from just before the request until B's book.playlist(name) has the entry (on its 'changed' events), ${opts.rounds} changes after one untimed; the next change waits until A's library root (which lists the playlist) is out and B holds it. noticeAtB / blobAtB: when B's device channel got A's notice, when B's first blob fetch returned`,
        "pull: the same with B's 'notice' listeners removed and B's sync timers stopped (B.sync.stop(): its minutely poll of the library items would bring the playlist too); B calls sync.pollPlaylist(name) (DHT get under A's key, then the blob over the link) back to back from just before A's request until B holds the entry; includes A's DHT put. A and B share this process's CPU, so B's polling (a get costs a few ms of CPU: one signature check per answering node) slows A's request and put: cpuShareP50 is the process's CPU time over wall time",
        `pull, paced: the same with one poll every ${PACE_MS} ms (start to start), which leaves A most of the CPU but adds up to ${PACE_MS} ms of polling delay`,
        "pull, after the put: the same, with B's first poll as soon as A's DHT put is done (as the floor's get follows its put): the pull path's own latency, without polling effects; a running node polls every minute, so in use the poll interval comes on top",
        `push, large union: as push, after B published ${bigTracks.length} tracks that A took in, so every playlist request on A resolves against a union of ${bigTracks.length + shas.length} tracks`,
        `library: ${opts.tracks} synthetic tracks (bench/manifest/tracks.ts, tags as a DJ library has them) published with A.book.publishLibrary and announced as ManifestSync.announce does (a notice to the linked devices, putPointer under the library salt, the BEP 5 announce of the root blob); bytes are blob sizes (brotli); time from the start of publishLibrary until B's book holds every track`,
        `one-track change: one track retitled, published and announced the same way, ${opts.edits} times; bytes are what B's fetchBlob returned (wrapped in the benchmark), checked against the new root plus the page blobs B did not hold; channelBytes: every device-channel message from A to B in the window (+6 bytes of framing each)`,
        `memory: a fresh child (esbuild bundle, plain node --expose-gc) opens a ManifestBook on a home whose roster has 3 other devices, applies each device's signed library root of ${opts.tracks} tracks with every page (applyLibrary: verified; blobs read from that device's store), then unionTracks + listUnion over book.remoteLibraries(); peak RSS is VmHWM from /proc/self/status (getrusage maxRSS, which Linux carries over fork and exec, is reported too); "distinct": 3 x ${opts.tracks} different tracks, "shared": the same ${opts.tracks} tracks on all three`,
        'percentiles are nearest-rank (p95 of 20 is the 19th smallest); MB and kB are 10^6 and 10^3 bytes',
      ],
      dht: {
        nodes: dhtNodes,
        plainNodes: warmed.tables.length + floorNodes.length,
        startMs: round(dhtStartMs),
        routingTable: { min: tables[0]!, median: percentile(tables, 50), max: tables.at(-1)! },
      },
      floor: { ...floor, putMs: latency(putMs), getMs: latency(getMs), getsPerRound, storedAt: floorStored },
      push: pushResult,
      pushLargeUnion: pushBigResult,
      pull: pullResult,
      pullPaced: pacedResult,
      pullAfterPut: askedResult,
      library: {
        tracks: tracks.length,
        pages: pages.length,
        bytes: {
          root: pub.blob.data.length,
          pages: pageBytes,
          total: fullBytes,
          pageMin: Math.min(...pages.map((p) => p.data.length)),
          pageMax: Math.max(...pages.map((p) => p.data.length)),
          perTrack: round(fullBytes / tracks.length),
        },
        full: {
          publishMs: round(tPub - t0),
          deliverMs: round(tHeld - tPub),
          totalMs: round(tHeld - t0),
          fetchedBlobs: fullFetch.blobs,
          fetchedBytes: fullFetch.bytes,
          channelBytes: fullFetch.channel,
          dhtStoredAt: fullStored,
        },
        oneTrack: {
          samples: oneTrack,
          percentMax,
          totalMsMedian: round(percentile(oneTrack.map((s) => s.totalMs), 50)),
          totalMsMax: round(Math.max(...oneTrack.map((s) => s.totalMs))),
          target: `< ${TARGETS.deltaPercent}% of the full manifest`,
          met: percentMax < TARGETS.deltaPercent,
        },
      },
      memory: { variants, target: `peak RSS < ${TARGETS.unionRssMB} MB`, met: memMet },
      targets: {
        pushP95: { target: `< ${TARGETS.changeP95Ms} ms`, value: pushResult.p95, met: pushResult.p95 < TARGETS.changeP95Ms },
        pushRatio: { target: `<= ${TARGETS.floorRatio}x floor p95`, value: pushResult.ratioP95ToFloorP95, met: pushResult.ratioP95ToFloorP95 <= TARGETS.floorRatio },
        pullP95: { target: `< ${TARGETS.changeP95Ms} ms`, value: pullResult.p95, met: pullResult.p95 < TARGETS.changeP95Ms },
        pullRatio: { target: `<= ${TARGETS.floorRatio}x floor p95`, value: pullResult.ratioP95ToFloorP95, met: pullResult.ratioP95ToFloorP95 <= TARGETS.floorRatio },
        pullPacedP95: { target: `< ${TARGETS.changeP95Ms} ms`, value: pacedResult.p95, met: pacedResult.p95 < TARGETS.changeP95Ms },
        pullPacedRatio: { target: `<= ${TARGETS.floorRatio}x floor p95`, value: pacedResult.ratioP95ToFloorP95, met: pacedResult.ratioP95ToFloorP95 <= TARGETS.floorRatio },
        pullAfterPutP95: { target: `< ${TARGETS.changeP95Ms} ms`, value: askedResult.p95, met: askedResult.p95 < TARGETS.changeP95Ms },
        pullAfterPutRatio: { target: `<= ${TARGETS.floorRatio}x floor p95`, value: askedResult.ratioP95ToFloorP95, met: askedResult.ratioP95ToFloorP95 <= TARGETS.floorRatio },
        pushLargeUnionP95: { target: `< ${TARGETS.changeP95Ms} ms`, value: pushBigResult.p95, met: pushBigResult.p95 < TARGETS.changeP95Ms },
        pushLargeUnionRatio: { target: `<= ${TARGETS.floorRatio}x floor p95`, value: pushBigResult.ratioP95ToFloorP95, met: pushBigResult.ratioP95ToFloorP95 <= TARGETS.floorRatio },
        oneTrackPercent: { target: `< ${TARGETS.deltaPercent}%`, value: percentMax, met: percentMax < TARGETS.deltaPercent },
        unionPeakRssMB: { target: `< ${TARGETS.unionRssMB} MB`, value: worstRss, met: memMet },
      },
      warnings: warnings + childWarnings,
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
    process.off('exit', onExit)
  }
}
