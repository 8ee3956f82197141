// The scan benchmark (see bench/README.md): a throughput set of full-size
// tracks and a large library of small ones, each scanned by djcloud in its
// own process and hashed by sha256sum in the same run.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { gitCommit, machineInfo, round } from '../common.ts'
import { join } from 'node:path'
import type { ScanSummary } from '../../src/library/index.ts'
import { generateLibrary, type GeneratedLibrary, type LibrarySpec } from './generate.ts'
import { flushToDisk, freeBytes, runDjcloud, runSha256sum, type Run } from './measure.ts'
import { kibToMB, toMB, type ScanBenchResults, type ScanTiming, type Timing } from './report.ts'
import { makeSeedAudio } from './seed-audio.ts'

export interface ScanBenchOptions {
  /** Tracks in the throughput set (3-12 MB each). */
  tracks: number
  /** Tracks in the rescan/memory library (100-300 KB each). */
  library: number
  /** Where the generated files go. */
  tmp: string
  log: (line: string) => void
}

export const TARGETS = { throughputRatio: 0.8, rescanSec: 2, rssMB: 150 }
const ROUNDS = 2 // first scans and yardstick passes of the throughput set
const RESCANS = 3

const throughputSpec = (tracks: number): LibrarySpec => ({ tracks, minBytes: 3_000_000, maxBytes: 12_000_000, wavShare: 0.15, perFolder: 10, seed: 200 })
const librarySpec = (tracks: number): LibrarySpec => ({ tracks, minBytes: 100_000, maxBytes: 300_000, wavShare: 0.1, perFolder: 50, seed: 10_000 })
const expectedBytes = (s: LibrarySpec) => (s.tracks * (s.minBytes + s.maxBytes)) / 2

function timing(runs: Run[]): Timing {
  const rss = runs.map((r) => r.maxRssKiB).filter((v): v is number => v !== null)
  return { runsMs: runs.map((r) => Math.round(r.wallMs)), bestMs: Math.round(Math.min(...runs.map((r) => r.wallMs))), maxRssMB: rss.length ? round(kibToMB(Math.max(...rss))!) : null }
}

/** Checks that the scan did what the benchmark assumes: every generated file accepted, or nothing read on a rescan. */
function checkSummary(run: Run, expect: Partial<ScanSummary>): ScanSummary {
  const summary = JSON.parse(run.stdout) as ScanSummary
  for (const [k, v] of Object.entries(expect)) {
    if (summary[k as keyof ScanSummary] !== v) {
      const issues = summary.issues.slice(0, 3).map((i) => `\n  ${i.path}: ${i.reason}`).join('')
      throw new Error(`scan summary has ${k} = ${JSON.stringify(summary[k as keyof ScanSummary])}, expected ${v}${issues}`)
    }
  }
  return summary
}

function scanTiming(runs: Run[], summaries: ScanSummary[]): ScanTiming {
  return { ...timing(runs), inProcessMs: summaries.map((s) => s.ms) }
}

async function newHome(work: string, name: string): Promise<string> {
  const home = join(work, 'homes', name)
  await mkdir(home, { recursive: true })
  await runDjcloud(home, ['init', '--name', `bench-${name}`, '--json'])
  return home
}



async function generate(work: string, name: string, spec: LibrarySpec, seed: Awaited<ReturnType<typeof makeSeedAudio>>, log: (l: string) => void): Promise<GeneratedLibrary> {
  const t0 = performance.now()
  const lib = await generateLibrary(join(work, name), spec, seed)
  flushToDisk()
  log(`generated ${lib.tracks} tracks (${lib.mp3} mp3, ${lib.wav} wav), ${toMB(lib.bytes).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return lib
}

export async function runScanBench(opts: ScanBenchOptions): Promise<ScanBenchResults> {
  const { log } = opts
  const tSpec = throughputSpec(opts.tracks)
  const lSpec = librarySpec(opts.library)
  // The two sets are generated one after the other, never both on disk;
  // twice the larger one leaves room for the homes and for other users of the disk.
  const need = 2 * Math.max(expectedBytes(tSpec), expectedBytes(lSpec))
  const free = await freeBytes(opts.tmp)
  if (free < need) {
    throw new Error(`the scan benchmark needs ${(need / 1e9).toFixed(1)} GB free under ${opts.tmp}, only ${(free / 1e9).toFixed(1)} GB are; set TMPDIR to a roomier disk`)
  }

  const work = await mkdtemp(join(opts.tmp, 'djcloud-bench-scan-'))
  // try/finally does not run when the process is killed by a signal: clean up then too.
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(work, { recursive: true, force: true })
    process.kill(process.pid, signal)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const seed = await makeSeedAudio(work)
    log(`seed: ${seed.frames.length} mp3 frames, ${(seed.pcm.length / 2 / 44_100).toFixed(0)} s of PCM`)

    // Throughput: alternate yardstick and first scan (each into a fresh home), best of ROUNDS.
    const big = await generate(work, 'throughput', tSpec, seed, log)
    const bigSha: Run[] = []
    const bigScans: Run[] = []
    const bigSummaries: ScanSummary[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      const home = await newHome(work, `throughput-${round}`)
      bigSha.push(await runSha256sum(big.dir, work))
      bigScans.push(await runDjcloud(home, ['scan', big.dir, '--json']))
      bigSummaries.push(checkSummary(bigScans.at(-1)!, { added: big.tracks, skipped: 0, bytesRead: big.bytes }))
      log(`round ${round}: sha256sum ${(bigSha.at(-1)!.wallMs / 1000).toFixed(2)} s, djcloud first scan ${(bigScans.at(-1)!.wallMs / 1000).toFixed(2)} s`)
    }
    await rm(big.dir, { recursive: true, force: true })

    // Library: first scan once, rescans of the unchanged library RESCANS times.
    const lib = await generate(work, 'library', lSpec, seed, log)
    const home = await newHome(work, 'library')
    const libSha: Run[] = [await runSha256sum(lib.dir, work)]
    const first = await runDjcloud(home, ['scan', lib.dir, '--json'])
    const firstSummary = checkSummary(first, { added: lib.tracks, skipped: 0, bytesRead: lib.bytes })
    log(`library: sha256sum ${(libSha[0]!.wallMs / 1000).toFixed(2)} s, djcloud first scan ${(first.wallMs / 1000).toFixed(2)} s`)
    libSha.push(await runSha256sum(lib.dir, work))
    const rescans: Run[] = []
    const rescanSummaries: ScanSummary[] = []
    for (let i = 0; i < RESCANS; i++) {
      rescans.push(await runDjcloud(home, ['scan', lib.dir, '--json']))
      rescanSummaries.push(checkSummary(rescans.at(-1)!, { unchanged: lib.tracks, added: 0, changed: 0, skipped: 0, bytesRead: 0 }))
      log(`library: rescan ${i + 1} ${(rescans.at(-1)!.wallMs / 1000).toFixed(2)} s`)
    }

    const bigScan = scanTiming(bigScans, bigSummaries)
    const bigYard = timing(bigSha)
    const mbPerSec = toMB(big.bytes) / (bigScan.bestMs / 1000)
    const sha256sumMbPerSec = toMB(big.bytes) / (bigYard.bestMs / 1000)
    const firstScan = scanTiming([first], [firstSummary])
    const libYard = timing(libSha)
    const rescan = scanTiming(rescans, rescanSummaries)
    const rssFigures = [firstScan.maxRssMB, rescan.maxRssMB, bigScan.maxRssMB]
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      commit: gitCommit(['src', 'bin', 'package.json', 'package-lock.json']).commit,
      method: [
        `djcloud: "node bin/djcloud.js scan DIR --json" in a child process with a fresh DJCLOUD_HOME made by "init"; wall-clock from spawn to exit`,
        'peak RSS: VmHWM of the djcloud process (/proc/self/status), written at exit by a preloaded probe (bench/scan/rss-probe.mjs)',
        `yardstick: "find DIR -type f -print0 | xargs -0 sha256sum" over the same files${bigYard.maxRssMB === null ? '' : '; its peak RSS from GNU time'}`,
        `page cache: files are synced after generation and stay cached (they were just written); yardstick and scans alternate, best of ${ROUNDS} for the 200-track set`,
        `rescan: best of ${RESCANS} runs of "scan DIR" on the unchanged library`,
      ],
      throughput: {
        tracks: big.tracks,
        mp3: big.mp3,
        wav: big.wav,
        bytes: big.bytes,
        scan: bigScan,
        sha256sum: bigYard,
        tracksPerSec: round(big.tracks / (bigScan.bestMs / 1000)),
        mbPerSec: round(mbPerSec),
        sha256sumMbPerSec: round(sha256sumMbPerSec),
        ratio: round(mbPerSec / sha256sumMbPerSec, 3),
        target: `>= ${TARGETS.throughputRatio}x`,
        met: mbPerSec / sha256sumMbPerSec >= TARGETS.throughputRatio,
      },
      library: {
        tracks: lib.tracks,
        mp3: lib.mp3,
        wav: lib.wav,
        bytes: lib.bytes,
        firstScan: {
          ...firstScan,
          tracksPerSec: round(lib.tracks / (firstScan.bestMs / 1000)),
          mbPerSec: round(toMB(lib.bytes) / (firstScan.bestMs / 1000)),
          ratio: round(libYard.bestMs / firstScan.bestMs, 3),
        },
        rescan: { ...rescan, ratio: round(rescan.bestMs / libYard.bestMs, 3), target: `< ${TARGETS.rescanSec} s`, met: rescan.bestMs < TARGETS.rescanSec * 1000 },
        sha256sum: { ...libYard, mbPerSec: round(toMB(lib.bytes) / (libYard.bestMs / 1000)) },
      },
      rss: {
        firstScanMB: firstScan.maxRssMB,
        rescanMB: rescan.maxRssMB,
        throughputScanMB: bigScan.maxRssMB,
        sha256sumMB: bigYard.maxRssMB === null || libYard.maxRssMB === null ? null : Math.max(bigYard.maxRssMB, libYard.maxRssMB),
        target: `< ${TARGETS.rssMB} MB`,
        met: rssFigures.every((v) => v !== null && v < TARGETS.rssMB),
      },
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await rm(work, { recursive: true, force: true })
  }
}
