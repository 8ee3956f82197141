// Issue 15's browser benchmark: one Chromium page downloads the same file
// from two Node devices, with djcloud (WebRTC data channels into the page's
// Torrent and OPFS store) and with stock webtorrent (WebRTC from two
// webtorrent hybrid seeders, its own OPFS chunk store), alternating, a few
// times each; figures are medians and djcloud's is a ratio to webtorrent's
// in the same run. The page's memory and CPU are sampled over CDP while it
// downloads.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { launchChromium, CHROMIUM } from '../chromium.ts'
import { gitCommit, machineInfo, median, percentiles, round, type MachineInfo, type Percentiles } from '../common.ts'
import { servePage } from './page-server.ts'
import { startDjcloud, startWebtorrent } from './sides.ts'
import type { DjcloudArgs, DjcloudRun, WebtorrentRun } from './page-entry.ts'

export interface BrowserBenchOptions {
  /** File size in MB (10^6 bytes). */
  sizeMb: number
  repeats: number
  tmp: string
  log: (line: string) => void
}

/** What the page used while one download ran. */
export interface PageUse {
  /** Peak JS heap used (Runtime.getHeapUsage, sampled every 200 ms), MB. */
  heapPeakMb: number
  /** Main-thread task time (Performance.getMetrics TaskDuration) over wall time, % of a core. */
  mainThreadPct: number
  /** The renderer process's CPU time, all threads (SystemInfo.getProcessInfo), over wall time, % of a core. */
  rendererPct: number | null
}

export interface Download {
  /** From the start (client.add / the first offer) to every piece verified. */
  ms: number
  mbPerS: number
  /** From the first wire ready (webtorrent: its first wire; djcloud: the first track wire authenticated) to done. */
  transferMs: number
  transferMbPerS: number
  use: PageUse
}

export interface BrowserBenchResults {
  date: string
  commit: string | null
  dirty: string[]
  machine: MachineInfo & { chromium: string }
  sizeMb: number
  repeats: number
  signaling: string
  pieceLength: number
  webtorrent: { runs: Array<Download & { firstWireMs: number | null; wires: number[] }>; median: Download; store: string }
  djcloud: { runs: Array<Download & { setupMs: number[]; linkedMs: number[]; sources: Record<string, number> }>; median: Download }
  /** djcloud MB/s over webtorrent MB/s (medians), start to done: the target's figure. */
  ratio: number
  /** The same from each one's first wire ready: the transfer alone, without connection set-up. */
  transferRatio: number
  /** Offer made to the data channel open, page side (RtcConnection.setupMs), every link of every run. */
  channelSetup: Percentiles & { links: number }
  /** Heap the page's BrowserTrackStore takes once opened on a store holding the track (its index), KB. */
  storeIndexKb: number
  storeIndexTracks: number
}

const mb = (bytes: number) => bytes / 1e6

/** Samples the page's heap while `fn` runs; CPU from metrics before and after. */
async function measured<T extends { ms: number }>(cdp: CDPSession, browserCdp: CDPSession, fn: () => Promise<T>): Promise<T & { use: PageUse }> {
  await cdp.send('HeapProfiler.collectGarbage')
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>
  const rendererCpu = async (): Promise<number | null> => {
    try {
      const info = (await browserCdp.send('SystemInfo.getProcessInfo' as never)) as unknown as { processInfo: Array<{ type: string; id: number; cpuTime: number }> }
      const r = info.processInfo.filter((p) => p.type === 'renderer')
      return r.length === 0 ? null : r.reduce((n, p) => n + p.cpuTime, 0)
    } catch {
      return null
    }
  }
  let peak = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const h = await cdp.send('Runtime.getHeapUsage').catch(() => undefined)
      if (h) peak = Math.max(peak, h.usedSize)
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  const m0 = await metric()
  const c0 = await rendererCpu()
  const t0 = performance.now()
  let r: T
  try {
    r = await fn()
  } finally {
    sampling = false
    await sampler
  }
  const wall = (performance.now() - t0) / 1000
  const m1 = await metric()
  const c1 = await rendererCpu()
  return {
    ...r,
    use: {
      heapPeakMb: round(mb(peak)),
      mainThreadPct: round((100 * (m1.TaskDuration! - m0.TaskDuration!)) / wall),
      rendererPct: c0 === null || c1 === null ? null : round((100 * (c1 - c0)) / wall),
    },
  }
}

/** BENCH_PROFILE=1: a CPU profile of the page's main thread over each djcloud download. */
export async function startProfile(cdp: CDPSession): Promise<void> {
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  await cdp.send('Profiler.start')
}

/** The profile's top 20 functions by self time, one line each. */
export async function stopProfile(cdp: CDPSession): Promise<string> {
  const { profile } = await cdp.send('Profiler.stop')
  const dt = new Map<number, number>()
  const deltas = profile.timeDeltas ?? []
  ;(profile.samples ?? []).forEach((id, k) => dt.set(id, (dt.get(id) ?? 0) + (deltas[k] ?? 0)))
  const self = new Map<string, number>()
  for (const n of profile.nodes) {
    const f = n.callFrame
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`
    self.set(key, (self.get(key) ?? 0) + (dt.get(n.id) ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n')
}

const medianOf = (runs: Download[]): Download => ({
  ms: round(median(runs.map((r) => r.ms)), 0),
  mbPerS: round(median(runs.map((r) => r.mbPerS)), 2),
  transferMs: round(median(runs.map((r) => r.transferMs)), 0),
  transferMbPerS: round(median(runs.map((r) => r.transferMbPerS)), 2),
  use: {
    heapPeakMb: round(median(runs.map((r) => r.use.heapPeakMb))),
    mainThreadPct: round(median(runs.map((r) => r.use.mainThreadPct))),
    rendererPct: runs.some((r) => r.use.rendererPct === null) ? null : round(median(runs.map((r) => r.use.rendererPct!))),
  },
})

export async function runBrowserBench(o: BrowserBenchOptions): Promise<BrowserBenchResults> {
  const dir = await mkdtemp(join(o.tmp, 'djcloud-bench-browser-'))
  const cleanup: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })]
  const stop = () => void Promise.allSettled(cleanup.map((f) => f())).then(() => process.exit(130))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const size = Math.round(o.sizeMb * 1e6)
    const bytes = randomBytes(size)
    const path = join(dir, 'track.bin')
    await writeFile(path, bytes)
    o.log(`${o.sizeMb} MB file written`)

    const server = await servePage()
    cleanup.unshift(server.close)
    const browser: Browser = await launchChromium(process.env.BENCH_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? [])
    cleanup.unshift(() => browser.close())
    const context = await browser.newContext()
    const page: Page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    if (process.env.BENCH_PAGE_DEBUG) {
      // The page's own debug output (webtorrent's `debug` namespaces) on stderr.
      await page.addInitScript((ns) => localStorage.setItem('debug', ns), process.env.BENCH_PAGE_DEBUG)
      page.on('console', (m) => process.stderr.write(`page: ${m.text()}\n`))
    }
    let signal: ((i: number, sdp: string) => Promise<string>) | undefined
    await page.exposeFunction('benchSignal', (i: number, sdp: string) => signal!(i, sdp))
    await page.goto(server.url)
    await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true)
    const pageKey = Buffer.from(await page.evaluate(() => (window as unknown as { bench: { pageKey(): Promise<string> } }).bench.pageKey()), 'hex')

    const dj = await startDjcloud(dir, path, bytes, pageKey, (line) => o.log(`warning: ${line}`))
    cleanup.unshift(() => dj.close())
    signal = (i, sdp) => dj.signal(i, sdp)
    const wt = await startWebtorrent(dir, path, dj.meta.pieceLength, (line) => o.log(`warning: ${line}`))
    cleanup.unshift(() => wt.close())
    o.log(`seeders up: djcloud 2 Swarms, webtorrent 2 hybrid clients, a process each (${wt.announce}); piece length ${dj.meta.pieceLength}`)

    const cdp = await context.newCDPSession(page)
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' } as never).catch(() => cdp.send('Performance.enable'))
    const browserCdp = await browser.newBrowserCDPSession()
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
    const metaArg = { infoHash: hex(dj.meta.infoHash), sha256: dj.meta.sha256, size: dj.meta.size, pieceLength: dj.meta.pieceLength, pieces: hex(dj.meta.pieces), pieceCount: dj.meta.pieceCount }

    type BenchApi = { bench: { djcloudDownload(a: DjcloudArgs): Promise<DjcloudRun>; webtorrentDownload(a: { torrent: string; announce: string }): Promise<WebtorrentRun>; openStore(name: string): Promise<{ tracks: number }> } }
    const runWebtorrent = async () => {
      const r = await measured(cdp, browserCdp, () => page.evaluate((a) => (window as unknown as BenchApi).bench.webtorrentDownload(a), { torrent: wt.torrent, announce: wt.announce }))
      const transferMs = r.ms - (r.firstWireMs ?? 0)
      return { ...r, ms: round(r.ms, 0), mbPerS: round(mb(size) / (r.ms / 1000), 2), transferMs: round(transferMs, 0), transferMbPerS: round(mb(size) / (transferMs / 1000), 2) }
    }
    const runDjcloud = async (i: number, keep: boolean) => {
      const args: DjcloudArgs = { meta: metaArg, ...dj.pageArgs, devices: 2, store: `bench-${i}`, keep }
      if (process.env.BENCH_PROFILE) await startProfile(cdp)
      const r = await measured(cdp, browserCdp, () => page.evaluate((a) => (window as unknown as BenchApi).bench.djcloudDownload(a), args))
      if (process.env.BENCH_PROFILE) o.log(`page main thread, self time by function:\n${await stopProfile(cdp)}`)
      const transferMs = r.ms - Math.min(...r.linkedMs)
      return { ...r, ms: round(r.ms, 0), mbPerS: round(mb(size) / (r.ms / 1000), 2), transferMs: round(transferMs, 0), transferMbPerS: round(mb(size) / (transferMs / 1000), 2), setupMs: r.setupMs.map((x) => round(x)), linkedMs: r.linkedMs.map((x) => round(x)) }
    }

    const wtRuns: BrowserBenchResults['webtorrent']['runs'] = []
    const djRuns: BrowserBenchResults['djcloud']['runs'] = []
    for (let i = 0; i < o.repeats; i++) {
      const keep = i === o.repeats - 1
      // Alternate which goes first: a warm page cache or JIT favours neither.
      const order = i % 2 === 0 ? ['webtorrent', 'djcloud'] : ['djcloud', 'webtorrent']
      for (const which of order) {
        if (which === 'webtorrent') {
          const r = await runWebtorrent()
          wtRuns.push(r)
          o.log(`round ${i + 1}: webtorrent ${r.ms} ms, ${r.mbPerS} MB/s (first wire at ${Math.round(r.firstWireMs ?? -1)} ms, bytes per wire ${r.wires.join(', ')}); heap ${r.use.heapPeakMb} MB, main thread ${r.use.mainThreadPct}%, renderer ${r.use.rendererPct}%`)
        } else {
          const r = await runDjcloud(i, keep)
          djRuns.push(r)
          o.log(`round ${i + 1}: djcloud ${r.ms} ms, ${r.mbPerS} MB/s (last piece at ${Math.round(r.lastPieceMs)} ms; set-up ${r.setupMs.join(', ')} ms; ${JSON.stringify(r.sources)}); heap ${r.use.heapPeakMb} MB, main thread ${r.use.mainThreadPct}%, renderer ${r.use.rendererPct}%`)
        }
      }
    }

    // The store's index in memory: the heap a store opened on the last run's store (one complete track) adds, after collections.
    await cdp.send('HeapProfiler.collectGarbage')
    const before = (await cdp.send('Runtime.getHeapUsage')).usedSize
    const opened = await page.evaluate((name) => (window as unknown as BenchApi).bench.openStore(name), `bench-${o.repeats - 1}`)
    await cdp.send('HeapProfiler.collectGarbage')
    const after = (await cdp.send('Runtime.getHeapUsage')).usedSize
    if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`)

    const setups = djRuns.flatMap((r) => r.setupMs)
    const wtMedian = medianOf(wtRuns)
    const djMedian = medianOf(djRuns)
    return {
      date: new Date().toISOString(),
      ...(({ commit, dirty }) => ({ commit, dirty }))(gitCommit(['src', 'bench', 'dist/browser'])),
      machine: { ...machineInfo(), chromium: spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim() },
      sizeMb: o.sizeMb,
      repeats: o.repeats,
      signaling: 'bench harness: the page hands each offer to the Node device through a playwright binding (page.exposeFunction) and gets its answer back; no tracker on the djcloud side',
      pieceLength: dj.meta.pieceLength,
      webtorrent: { runs: wtRuns, median: wtMedian, store: 'its browser default: fsa-chunk-store (OPFS)' },
      djcloud: { runs: djRuns, median: djMedian },
      ratio: round(djMedian.mbPerS / wtMedian.mbPerS, 2),
      transferRatio: round(djMedian.transferMbPerS / wtMedian.transferMbPerS, 2),
      channelSetup: { ...percentiles(setups), links: setups.length },
      storeIndexKb: round((after - before) / 1024),
      storeIndexTracks: opened.tracks,
    }
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    for (const f of cleanup) await f().catch(() => {})
  }
}
