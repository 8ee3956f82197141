// The swarm benchmark (see bench/README.md): one random track on loopback,
// served by 1-3 djcloud seeders (each its own process) to a djcloud
// downloader (its own process) over TLS links, and in the same run over
// plain TCP (the encryption's cost), and by 1 and 3 libtorrent seeders to a
// libtorrent downloader, plain and with its own encryption forced; then warm
// time-to-first-byte and seek latency against the 3 djcloud seeders.
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { connect } from 'node:net'
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { encodeWav, synthLoop } from '../../src/demo/index.ts'
import { rmSync } from 'node:fs'
import { gitCommit, machineInfo, REPO } from '../common.ts'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { flushToDisk, freeBytes } from '../scan/measure.ts'
import { SEEDERS } from './config.ts'
import { makeFixture, type Fixture } from './fixture.ts'
import { children, cpuSeconds, killChildren, runJson, startService, type Service } from './procs.ts'
import {
  median, percentile, percentiles, round, type Download, type FetchReport, type LatencyReport, type LibtorrentFetchReport, type ResumeReport, type ResumeResults, type Series, type Target,
  type SwarmBenchResults,
} from './report.ts'
import { Bitfield } from '../../src/swarm/index.ts'

export interface SwarmBenchOptions {
  /** Bytes of the track. */
  size: number
  /** Timed downloads per configuration. */
  rounds: number
  /** Reads per latency figure. */
  samples: number
  /** Run the libtorrent yardstick (off only for quick iterations on djcloud itself). */
  yardstick: boolean
  tmp: string
  log: (line: string) => void
}

export const TARGETS = {
  /** djcloud (TLS links) 3 -> 1 over plaintext libtorrent 3 -> 1 (issue 13; issue 3's 1.3x was plaintext against plaintext). */
  ratio3: 1.0,
  /** djcloud (TLS) over libtorrent with its own encryption forced, 3 -> 1. */
  ratioEncrypted3: 1.3,
  /** djcloud over plain TCP links against plaintext libtorrent, 3 -> 1 (issue 3's target, for the same code without TLS). */
  plainRatio3: 1.3,
  /** TLS 3 -> 1 over plain TCP 3 -> 1: encryption costs at most 15%. */
  tlsOverPlain3: 0.85,
  ttfbP95Ms: 30,
  seekP95Ms: 50,
}
export const PYTHON = '/usr/bin/python3'
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const SEEDER = here('./seeder.ts')
const DOWNLOADER = here('./downloader.ts')
const LT_PEER = here('./libtorrent_peer.py')
const RSS_PROBE = pathToFileURL(here('../scan/rss-probe.mjs')).href
const DOWNLOAD_TIMEOUT = 180_000

/** djcloud-plain: the same seeder and downloader over plain TCP (authenticate's binding = the run's random bytes); libtorrent-enc: its RC4 encryption forced. */
type Impl = 'djcloud' | 'djcloud-plain' | 'libtorrent' | 'libtorrent-enc'
interface Config {
  impl: Impl
  seeders: number
  /** With the node's background analysis going on in the downloader's process. */
  analysing?: boolean
  /** With the store's fdatasync made a no-op: what the durable sidecar costs. */
  unsynced?: boolean
}
const CONFIGS: Config[] = [
  { impl: 'djcloud', seeders: 1 },
  { impl: 'djcloud', seeders: 2 },
  { impl: 'djcloud', seeders: 3 },
  { impl: 'djcloud', seeders: 3, analysing: true },
  { impl: 'djcloud', seeders: 3, unsynced: true },
  { impl: 'djcloud-plain', seeders: 1 },
  { impl: 'djcloud-plain', seeders: 3 },
  { impl: 'libtorrent', seeders: 1 },
  { impl: 'libtorrent', seeders: 3 },
  { impl: 'libtorrent-enc', seeders: 1 },
  { impl: 'libtorrent-enc', seeders: 3 },
]
const isDjcloud = (impl: Impl) => impl === 'djcloud' || impl === 'djcloud-plain'
const SHORT: Record<Impl, string> = { djcloud: 'dj', 'djcloud-plain': 'djplain', libtorrent: 'lt', 'libtorrent-enc': 'ltenc' }

/**
 * Whether a libtorrent seeder answers a plaintext BitTorrent handshake with
 * its own (a forced-encryption one must not: it waits for an MSE handshake
 * and drops the link). Resolves to the first bytes it sent back, if any.
 */
function plaintextHandshakeAnswer(port: number, infoHash: Buffer): Promise<{ answered: boolean; firstBytes: string }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    const got: Buffer[] = []
    const finish = () => {
      clearTimeout(timer)
      sock.destroy()
      const all = Buffer.concat(got)
      resolve({ answered: all.subarray(0, 20).equals(PROTOCOL_HEADER), firstBytes: all.subarray(0, 20).toString('hex') })
    }
    const timer = setTimeout(finish, 3_000)
    sock.on('data', (b: Buffer) => {
      got.push(b)
      if (Buffer.concat(got).length >= 68) finish()
    })
    sock.on('error', finish)
    sock.on('close', finish)
    sock.on('connect', () => sock.write(Buffer.concat([PROTOCOL_HEADER, Buffer.alloc(8), infoHash, Buffer.from('-BENCH0-000000000000')])))
  })
}
const PROTOCOL_HEADER = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol')])
const ANALYSED_SECONDS = 20
/** Share of the track's pieces the resumed partial holds. */
const RESUME_HELD = 0.9

export function libtorrentVersion(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}


/** What the benchmark runs: the downloader bundle's sources and the benchmark itself. */
const MEASURED_PATHS = ['src/swarm', 'src/link', 'src/identity', 'src/codec', 'src/library', 'src/analysis', 'bench/swarm', 'bench/scan/rss-probe.mjs']


/** The downloader as the CLI ships: one esbuild bundle run by plain node (no tsx loader thread in its RSS). */
async function bundleDownloader(work: string): Promise<string> {
  const outfile = join(work, 'downloader.mjs')
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' } as const
  await build({ entryPoints: [DOWNLOADER], outfile, ...common })
  // The background analysis's worker, where the bundled pool looks for it (as dist/ ships it).
  await build({ entryPoints: [join(REPO, 'src/analysis/worker.ts')], outfile: join(work, 'analysis-worker.js'), ...common })
  // Its dependencies stay external: let them resolve from the repository.
  await symlink(join(REPO, 'node_modules'), join(work, 'node_modules'), 'dir')
  return outfile
}

async function readKiB(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '')
  await rm(file, { force: true })
  const n = Number.parseInt(text.trim(), 10)
  return Number.isFinite(n) ? n : null
}

const kibToMB = (kib: number | null) => (kib === null ? null : round((kib * 1024) / 1e6))

export async function runSwarmBench(opts: SwarmBenchOptions): Promise<SwarmBenchResults> {
  const { log } = opts
  const lt = libtorrentVersion()
  if (!lt && opts.yardstick) throw new Error(`the yardstick needs python3-libtorrent for ${PYTHON} (apt-get install -y python3-libtorrent)`)
  // The track, a djcloud copy and a libtorrent copy at most, and slack.
  const need = 3 * opts.size + 200e6
  const free = await freeBytes(opts.tmp)
  if (free < need) throw new Error(`the swarm benchmark needs ${(need / 1e9).toFixed(1)} GB free under ${opts.tmp}, only ${(free / 1e9).toFixed(1)} GB are; set TMPDIR or --tmp`)

  const work = await mkdtemp(join(opts.tmp, 'djcloud-bench-swarm-'))
  const cleanup = () => {
    killChildren()
    rmSync(work, { recursive: true, force: true })
  }
  // try/finally does not run when the process is killed by a signal or exits abruptly.
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup()
    process.kill(process.pid, signal)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', cleanup)
  const services: Service<{ port: number; infohash?: string }>[] = []
  try {
    let t0 = performance.now()
    const fx = await makeFixture(work, opts.size)
    flushToDisk()
    log(`track: ${(opts.size / 1e6).toFixed(0)} MB, ${fx.meta.pieceCount} pieces of ${fx.meta.pieceLength / 1024} KiB, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const bundle = await bundleDownloader(work)
    // What the background analysis analyses, over and over: a 20 s track (44.1 kHz mono WAV), so several finish during one download.
    const analysed = join(work, 'analysed.wav')
    await writeFile(analysed, encodeWav(synthLoop({ bpm: 126, key: 'A minor', seconds: ANALYSED_SECONDS, seed: 7, sampleRate: 44100 }), 44100, 1))

    t0 = performance.now()
    const loadAverage = { start: loadavg().map((v) => round(v, 2)), end: [] as number[] }
    const djSeeders = (link: 'tls' | 'plain') =>
      Promise.all(
        SEEDERS.map((name) =>
          startService<{ port: number }>(`djcloud ${link} ${name}`, process.execPath, ['--import', 'tsx', SEEDER, '--config', fx.configPath, '--device', name, '--link', link], REPO),
        ),
      )
    const dj = await djSeeders('tls')
    const djPlain = await djSeeders('plain')
    const ltSeedersOf = (forced: boolean) =>
      !opts.yardstick ? Promise.resolve([]) : Promise.all(
        SEEDERS.map((name) =>
          startService<{ port: number; infohash: string }>(
            `libtorrent${forced ? ' forced-encryption' : ''} ${name}`,
            PYTHON,
            [LT_PEER, 'seed', fx.torrentPath, join(work, 'seed'), ...(forced ? ['--forced-encryption'] : [])],
            REPO,
          ),
        ),
      )
    const ltSeeders = await ltSeedersOf(false)
    const ltEncSeeders = await ltSeedersOf(true)
    services.push(...dj, ...djPlain, ...ltSeeders, ...ltEncSeeders)
    for (const s of [...ltSeeders, ...ltEncSeeders]) {
      if (s.ready.infohash !== fx.meta.infoHash.toString('hex')) throw new Error(`libtorrent computed infohash ${s.ready.infohash}, djcloud ${fx.meta.infoHash.toString('hex')}`)
    }
    const seedersOf: Record<Impl, Service<{ port: number }>[]> = { djcloud: dj, 'djcloud-plain': djPlain, libtorrent: ltSeeders, 'libtorrent-enc': ltEncSeeders }
    log(`seeders up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${Object.entries(seedersOf).map(([k, v]) => `${k} ${v.map((s) => s.ready.port).join(',')}`).join('; ')}`)
    // Forced encryption, checked from outside libtorrent: its seeders must not answer a plaintext BitTorrent handshake; the plain ones do.
    const probes = !opts.yardstick ? null : {
      plain: await plaintextHandshakeAnswer(ltSeeders[0]!.ready.port, fx.meta.infoHash),
      forced: await plaintextHandshakeAnswer(ltEncSeeders[0]!.ready.port, fx.meta.infoHash),
    }
    if (probes && (!probes.plain.answered || probes.forced.answered)) {
      throw new Error(`libtorrent encryption probe: plain seeder answered ${probes.plain.answered}, forced-encryption seeder answered ${probes.forced.answered} (${probes.forced.firstBytes})`)
    }
    const linkSuites = new Set<string>()
    const ltEncryption: Record<'libtorrent' | 'libtorrent-enc', Record<string, number>> = { libtorrent: {}, 'libtorrent-enc': {} }

    let runNo = 0
    const download = async (c: Config, roundNo: number): Promise<Download> => {
      const seeders = seedersOf[c.impl].slice(0, c.seeders)
      const ports = seeders.map((s) => s.ready.port).join(',')
      const cache = join(work, 'dl', `${c.impl}-${c.seeders}-${++runNo}`)
      const analyse = [...(c.analysing ? ['--analyse', analysed] : []), ...(c.unsynced ? ['--sync', 'off'] : [])]
      const cpu0 = seeders.map((s) => cpuSeconds(s.pid))
      let d: Download
      if (isDjcloud(c.impl)) {
        const rssFile = join(work, `rss-${runNo}`)
        const link = c.impl === 'djcloud-plain' ? ['--link', 'plain'] : []
        const r = await runJson<FetchReport>('djcloud downloader', process.execPath, ['--import', RSS_PROBE, bundle, '--config', fx.configPath, '--mode', 'fetch', '--ports', ports, '--cache', cache, ...analyse, ...link], {
          cwd: REPO,
          env: { ...process.env, DJCLOUD_BENCH_RSS_FILE: rssFile },
          timeoutMs: DOWNLOAD_TIMEOUT,
        })
        const got = Object.values(r.sources).reduce((a, b) => a + b, 0)
        if (got < opts.size) throw new Error(`djcloud downloader reported ${got} bytes received of ${opts.size}`)
        const tls = r.links.every((l) => l.startsWith('TLSv1.3 '))
        if (c.impl === 'djcloud' ? !tls || r.links.length === 0 : r.links.join() !== 'plain TCP') throw new Error(`${c.impl} downloader's links: ${r.links.join(', ')}`)
        if (c.impl === 'djcloud') for (const l of r.links) linkSuites.add(l)
        d = {
          round: roundNo,
          ms: round(r.ms),
          mbPerSec: round(opts.size / 1e6 / (r.ms / 1000)),
          cpuSec: round((r.cpuUserMs + r.cpuSystemMs) / 1000, 2),
          rssMB: kibToMB(await readKiB(rssFile)),
          seedersCpuSec: 0,
          authMs: round(r.authMs),
          lastPieceMs: round(r.lastPieceMs),
          sourcesMB: Object.fromEntries(Object.entries(r.sources).map(([k, v]) => [k, round(v / 1e6)])),
          ...(c.analysing ? { analysed: r.analysed ?? 0 } : {}),
        }
      } else {
        const forced = c.impl === 'libtorrent-enc'
        const r = await runJson<LibtorrentFetchReport>('libtorrent downloader', PYTHON, [LT_PEER, 'fetch', fx.torrentPath, cache, ports, ...(forced ? ['--forced-encryption'] : [])], {
          cwd: REPO,
          timeoutMs: DOWNLOAD_TIMEOUT,
        })
        if (r.downloaded < opts.size) throw new Error(`libtorrent downloader reported ${r.downloaded} bytes of ${opts.size}`)
        // Every peer connection seen during the download (sampled every 100 ms: a loaded machine may finish
        // before the last seeder is connected): all RC4 with forced encryption; with libtorrent's defaults
        // (enc_policy enabled, level both, prefer_rc4 off) the handshake is encrypted, the payload not.
        const { rc4, plaintext_encrypted: handshakeOnly, none } = r.encryption
        if (forced ? rc4 === 0 || handshakeOnly + none > 0 : rc4 > 0 || handshakeOnly + none === 0) {
          throw new Error(`${c.impl} downloader's peers: ${JSON.stringify(r.encryption)}`)
        }
        for (const [k, v] of Object.entries(r.encryption)) ltEncryption[c.impl][k] = (ltEncryption[c.impl][k] ?? 0) + v
        d = {
          round: roundNo,
          ms: round(r.ms),
          mbPerSec: round(opts.size / 1e6 / (r.ms / 1000)),
          cpuSec: round((r.cpuUserMs + r.cpuSystemMs) / 1000, 2),
          rssMB: kibToMB(r.peakKiB),
          seedersCpuSec: 0,
        }
      }
      d.seedersCpuSec = round(seeders.reduce((sum, s, i) => sum + cpuSeconds(s.pid) - cpu0[i]!, 0), 2)
      await rm(cache, { recursive: true, force: true })
      return d
    }

    // One untimed download each, so no series pays for cold code paths.
    const configs = CONFIGS.filter((c) => opts.yardstick || isDjcloud(c.impl))
    for (const c of configs.filter((c) => c.seeders === 3)) {
      const d = await download(c, 0)
      log(`warm-up ${c.impl} ${c.seeders}: ${d.mbPerSec.toFixed(0)} MB/s`)
    }
    const results = new Map<Config, Download[]>(configs.map((c) => [c, []]))
    for (let r = 1; r <= opts.rounds; r++) {
      // Rotate the order each round, so no configuration always runs right after another.
      const order = configs.map((_, i) => configs[(i + r - 1) % configs.length]!)
      const line: string[] = []
      for (const c of order) {
        const d = await download(c, r)
        results.get(c)!.push(d)
        line.push(`${SHORT[c.impl]}${c.seeders}${c.analysing ? '+analysis' : ''}${c.unsynced ? '-sync' : ''} ${d.mbPerSec.toFixed(0)}`)
      }
      log(`round ${r}/${opts.rounds} (MB/s): ${line.join(', ')}`)
    }

    // Latency: one downloader process against the 3 djcloud seeders; then the same with a background analysis.
    const latencyRun = async (analysing: boolean) => {
      const rssFile = join(work, `rss-latency${analysing ? '-analysing' : ''}`)
      const t0 = performance.now()
      const lat = await runJson<LatencyReport>(
        'djcloud latency',
        process.execPath,
        [
          '--import', RSS_PROBE, bundle, '--config', fx.configPath, '--mode', 'latency', '--ports', dj.map((s) => s.ready.port).join(','),
          '--cache', join(work, `latency${analysing ? '-analysing' : ''}`), '--samples', String(opts.samples), ...(analysing ? ['--analyse', analysed] : []),
        ],
        { cwd: REPO, env: { ...process.env, DJCLOUD_BENCH_RSS_FILE: rssFile }, timeoutMs: DOWNLOAD_TIMEOUT },
      )
      const rss = kibToMB(await readKiB(rssFile))
      log(`latency${analysing ? ' while analysing' : ''}: ${lat.ttfbMs.length} reads in ${lat.ttfbSessions} torrent(s), ${lat.seekMs.length} seeks in ${lat.seekSessions}, ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      return { lat, rss }
    }
    const { lat, rss: latRss } = await latencyRun(false)
    const { lat: latA } = await latencyRun(true)

    // Resume: the partial a run killed at RESUME_HELD of the track leaves (.part and .have), made anew per round.
    const resumeRuns: ResumeResults['runs'] = []
    for (let r = 1; r <= opts.rounds; r++) {
      const cache = join(work, 'resume')
      await rm(cache, { recursive: true, force: true })
      await mkdir(cache, { recursive: true })
      const part = join(cache, `${fx.meta.sha256}.part`)
      await copyFile(fx.path, part)
      const have = new Bitfield(fx.meta.pieceCount)
      const held = Math.floor(fx.meta.pieceCount * RESUME_HELD)
      for (let i = 0; i < held; i++) have.set(i)
      await writeFile(join(cache, `${fx.meta.sha256}.have`), have.bytes)
      flushToDisk()
      let t0 = performance.now()
      const read = spawnSync('cat', [part], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
      const readMs = round(performance.now() - t0)
      if (read.status !== 0) throw new Error(`cat failed: ${read.stderr}`)
      t0 = performance.now()
      const sum = spawnSync('sha256sum', [part], { encoding: 'utf8' })
      const sha256sumMs = round(performance.now() - t0)
      if (sum.status !== 0) throw new Error(`sha256sum failed: ${sum.stderr}`)
      const res = await runJson<ResumeReport>('djcloud resume', process.execPath, [bundle, '--config', fx.configPath, '--mode', 'resume', '--ports', dj.map((s) => s.ready.port).join(','), '--cache', cache], {
        cwd: REPO,
        timeoutMs: DOWNLOAD_TIMEOUT,
      })
      if (res.corrupt > 0) throw new Error(`${res.corrupt} resumed pieces failed their check in an intact partial`)
      const { mode: _, ...rest } = res
      resumeRuns.push({ ...rest, sha256sumMs, readMs })
      log(`resume ${r}/${opts.rounds}: first 64 KiB ${res.ttfbMs.toFixed(0)} ms, checked ${res.checkedMs.toFixed(0)} ms, done ${res.doneMs.toFixed(0)} ms; cat ${readMs.toFixed(0)} ms, sha256sum ${sha256sumMs.toFixed(0)} ms`)
    }
    await rm(join(work, 'resume'), { recursive: true, force: true })

    const series = (c: Config): Series => {
      const runs = results.get(c)!
      const rss = runs.map((d) => d.rssMB).filter((v): v is number => v !== null)
      return {
        impl: c.impl,
        seeders: c.seeders,
        runs,
        mbPerSec: round(median(runs.map((d) => d.mbPerSec))),
        bestMbPerSec: round(Math.max(...runs.map((d) => d.mbPerSec))),
        ms: round(median(runs.map((d) => d.ms))),
        cpuSec: round(median(runs.map((d) => d.cpuSec)), 2),
        rssMB: rss.length ? Math.max(...rss) : null,
        seedersCpuSec: round(median(runs.map((d) => d.seedersCpuSec)), 2),
      }
    }
    const find = (impl: Impl, seeders: number, analysing = false) => {
      const c = configs.find((x) => x.impl === impl && x.seeders === seeders && (x.analysing ?? false) === analysing && !x.unsynced)
      return c && series(c)
    }
    const [dj1, dj2, dj3, dj3a] = [find('djcloud', 1)!, find('djcloud', 2)!, find('djcloud', 3)!, find('djcloud', 3, true)!]
    const dj3u = series(configs.find((x) => x.unsynced)!)
    const med = (f: (r: ResumeResults['runs'][number]) => number) => round(median(resumeRuns.map(f)))
    const resume: ResumeResults = {
      heldShare: RESUME_HELD,
      runs: resumeRuns.map((r) => ({ ...r, cpuSec: round(r.cpuSec, 2) })),
      ttfbMs: med((r) => r.ttfbMs),
      checkedMs: med((r) => r.checkedMs),
      doneMs: med((r) => r.doneMs),
      cpuSec: round(median(resumeRuns.map((r) => r.cpuSec)), 2),
      fetchedMB: round(median(resumeRuns.map((r) => r.fetchedBytes)) / 1e6),
      sha256sumMs: med((r) => r.sha256sumMs),
      readMs: med((r) => r.readMs),
      freshMs: dj3.ms,
      ratios: { doneOverFresh: 0, doneOverSha256sum: 0, checkedOverSha256sum: 0, ttfbOverChecked: 0 },
    }
    resume.ratios = {
      doneOverFresh: round(resume.doneMs / resume.freshMs, 3),
      doneOverSha256sum: round(resume.doneMs / resume.sha256sumMs, 3),
      checkedOverSha256sum: round(resume.checkedMs / resume.sha256sumMs, 3),
      ttfbOverChecked: round(resume.ttfbMs / resume.checkedMs, 3),
    }
    const [lt1, lt3] = [find('libtorrent', 1), find('libtorrent', 3)]
    const [ltEnc1, ltEnc3] = [find('libtorrent-enc', 1), find('libtorrent-enc', 3)]
    const [djPlain1, djPlain3] = [find('djcloud-plain', 1)!, find('djcloud-plain', 3)!]
    const ratio3 = lt3 ? dj3.mbPerSec / lt3.mbPerSec : null
    const ratioEnc3 = ltEnc3 ? dj3.mbPerSec / ltEnc3.mbPerSec : null
    const plainRatio3 = lt3 ? djPlain3.mbPerSec / lt3.mbPerSec : null
    const tlsOverPlain3 = dj3.mbPerSec / djPlain3.mbPerSec
    const target = (value: number, min: number): { value: number } & Target => ({ value: round(value, 3), target: `>= ${min}x`, met: value >= min })
    loadAverage.end = loadavg().map((v) => round(v, 2))
    const ttfb = percentiles(lat.ttfbMs)
    const seek = percentiles(lat.seekMs)
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: { ...machineInfo(), libtorrent: lt },
      ...gitCommit(MEASURED_PATHS),
      loadAverage,
      method: [
        `track: ${opts.size} random bytes in a temp dir (page cache warm: written, synced, read by every run), its torrent as the library makes it (private, circle tag)`,
        'djcloud seeders: bench/swarm/seeder.ts, one node --import tsx process each, CompleteFile + Torrent behind dj_auth on 127.0.0.1',
        'djcloud downloader: bench/swarm/downloader.ts bundled by esbuild and run by plain node, one process per download; PartialFile + Torrent; time from the first connect to "done" (every piece SHA-1 checked, whole-file SHA-256 verified, file moved into place)',
        'downloader CPU: process.cpuUsage() over the timed span; peak RSS: VmHWM at exit (bench/scan/rss-probe.mjs); seeders CPU: /proc/<pid>/stat before and after',
        'yardstick: libtorrent (python3-libtorrent) seeders and downloader, bench/swarm/libtorrent_peer.py: seeders that checked the file at start, TCP only (uTP off), several connections per IP, DHT/LSD/UPnP/NAT-PMP off; time from add_torrent to torrent_finished_alert; CPU from getrusage, RSS from VmHWM',
        'links: djcloud seeders and downloader over TLS 1.3 links (src/link: createLinkServer, dialLink; cipher suites in encryption.linkCipherSuites); djcloud-plain: the same seeder and downloader code over plain TCP, dj_auth bound to 32 random bytes of the run (authenticate\'s binding option) instead of the TLS exporter value; their own 3 seeder processes',
        'libtorrent with encryption forced: out_enc_policy = in_enc_policy = forced, allowed_enc_level = rc4, prefer_rc4 on, seeders and downloader alike; checked per download (peer_info flags of every connection seen: all rc4_encrypted) and once per run from outside (a plaintext BitTorrent handshake sent to a forced seeder gets no handshake back; the plain seeder answers)',
        `${opts.rounds} rounds after one untimed download each of djcloud and libtorrent from 3 seeders; configurations rotate order every round; figures are medians (RSS: the highest)`,
        `latency: one downloader process, 3 djcloud seeders, wires warm (connected, authenticated, every seeder already sending: the torrent prefetches from the start on its own); ${opts.samples} reads of 64 KiB (waitFor + readAt, bytes checked) at random offsets whose 64 KiB and the 8 MiB before them hold no piece received yet (handed to the store's writePiece; in-flight prefetch sits right after received pieces, at most 2 MiB per wire); a new torrent (fresh cache file, new wires) when none is left`,
        'seek: a greedy sequential reader (waitFor + readAt in a loop, chunked as SwarmTrackSource: to the end of the piece, at most 256 KiB, one abort signal) runs 100 ms from the start, then is aborted and the first 64 KiB at the new offset timed; the reader resumes after it',
        'percentiles: nearest rank (p95 of 20 is the 19th smallest)',
        'durability: the same download from 3 seeders with the store\'s fdatasync made a no-op (the .have still goes through a temp file and a rename), in the rotation; durableOverUnsynced is MB/s with fdatasync over without',
        `resume: a copy of the track as <sha256>.part with a .have listing its first ${RESUME_HELD * 100}% of pieces (a run killed there), written and flushed anew each round; one downloader process opens it with the 3 djcloud seeders: times from opening the partial to the first 64 KiB at the middle of the resumed region (waitFor + readAt, bytes checked), to every resumed piece SHA-1-checked again, and to done; yardsticks in the same round: cat of the same partial to /dev/null (reading it once) and sha256sum of it (reading and hashing it once), and the fresh download from 3 seeders (its median above)`,
        `while analysing: the same download (3 djcloud seeders) and latency runs with the node's background analysis in the downloader's process: an AnalysisPool of one low-priority worker (nice 19 on its thread), warm (one file done before timing), analysing a ${ANALYSED_SECONDS} s 44.1 kHz WAV over and over; ratios are over the runs without it`,
      ],
      track: { bytes: opts.size, pieceLength: fx.meta.pieceLength, pieces: fx.meta.pieceCount },
      rounds: opts.rounds,
      throughput: {
        djcloud: { seeders1: dj1, seeders2: dj2, seeders3: dj3 },
        libtorrent: lt1 && lt3 ? { seeders1: lt1, seeders3: lt3 } : null,
        ratio3: ratio3 === null ? null : target(ratio3, TARGETS.ratio3),
        ratio1: lt1 ? round(dj1.mbPerSec / lt1.mbPerSec, 3) : null,
        analysing: {
          seeders3: dj3a,
          overIdle: round(dj3a.mbPerSec / dj3.mbPerSec, 3),
          analysedPerDownload: median(dj3a.runs.map((d) => d.analysed ?? 0)),
        },
        scaling: {
          twoOverOne: round(dj2.mbPerSec / dj1.mbPerSec, 3),
          threeOverOne: round(dj3.mbPerSec / dj1.mbPerSec, 3),
          target: 'more seeders never slower than one',
          met: dj2.mbPerSec >= dj1.mbPerSec && dj3.mbPerSec >= dj1.mbPerSec,
        },
        unsynced: { seeders3: dj3u, durableOverUnsynced: round(dj3.mbPerSec / dj3u.mbPerSec, 3) },
      },
      encryption: {
        djcloudPlain: { seeders1: djPlain1, seeders3: djPlain3 },
        libtorrentEncrypted: ltEnc1 && ltEnc3 ? { seeders1: ltEnc1, seeders3: ltEnc3 } : null,
        tlsOverPlain3: target(tlsOverPlain3, TARGETS.tlsOverPlain3),
        tlsOverPlain1: round(dj1.mbPerSec / djPlain1.mbPerSec, 3),
        overLibtorrentEncrypted3: ratioEnc3 === null ? null : target(ratioEnc3, TARGETS.ratioEncrypted3),
        overLibtorrentEncrypted1: ltEnc1 ? round(dj1.mbPerSec / ltEnc1.mbPerSec, 3) : null,
        plainOverLibtorrent3: plainRatio3 === null ? null : target(plainRatio3, TARGETS.plainRatio3),
        libtorrentEncryptedOverPlain3: ltEnc3 && lt3 ? round(ltEnc3.mbPerSec / lt3.mbPerSec, 3) : null,
        linkCipherSuites: [...linkSuites].sort(),
        libtorrentPeers: opts.yardstick ? ltEncryption : null,
        libtorrentPlaintextProbe: probes,
      },
      resume,
      latency: {
        warmTtfb: { ...ttfb, sessions: lat.ttfbSessions, target: `p95 < ${TARGETS.ttfbP95Ms} ms`, met: ttfb.p95 < TARGETS.ttfbP95Ms },
        seek: {
          ...seek,
          sessions: lat.seekSessions,
          streamedBeforeSeekMB: round(median(lat.streamedBeforeSeek) / 1e6, 2),
          target: `p95 < ${TARGETS.seekP95Ms} ms`,
          met: seek.p95 < TARGETS.seekP95Ms,
        },
        whileAnalysing: {
          // Streaming is not stalled when reads stay within the streaming targets.
          warmTtfb: { ...percentiles(latA.ttfbMs), target: `p95 < ${TARGETS.ttfbP95Ms} ms`, met: percentile(latA.ttfbMs, 95) < TARGETS.ttfbP95Ms },
          seek: { ...percentiles(latA.seekMs), target: `p95 < ${TARGETS.seekP95Ms} ms`, met: percentile(latA.seekMs, 95) < TARGETS.seekP95Ms },
          analysed: latA.analysed ?? 0,
          ttfbP95OverIdle: round(percentile(latA.ttfbMs, 95) / ttfb.p95, 3),
          seekP95OverIdle: round(percentile(latA.seekMs, 95) / seek.p95, 3),
        },
        downloaderCpuSec: round(lat.cpuSec, 2),
        downloaderRssMB: latRss,
        deviceWarm: { measured: false, note: "not measured yet: needs the node's device channel (dj_lookup to own devices already connected), which is being built" },
        firstContact: { measured: false, note: 'not measured yet: needs the tracker lookup of holders before any wire is open, which is being built' },
      },
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()))
    if (children.size) killChildren()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanup)
    await rm(work, { recursive: true, force: true })
  }
}
