/// <reference lib="dom" />
// The playback phase of the browser benchmark (issue 15): the real flow of
// test/e2e/browser-device.test.ts. `djcloud serve` processes on 127.0.0.1
// (home-pc runs the circle's tracker and serves the UI; laptop holds the same
// tracks), a Chromium context pairs from the admin page's link and opens the
// node's UI, whose app starts the page's device: the player's <audio> plays
// from the swarm over WebRTC through the service worker. Timed: pressing play
// on a track the page does not hold to `playing` (first audio), a seek to 75%
// to playing again, and the page's CPU and heap over a minute of playing.
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { makeHomes, writeNoiseWav } from '../../src/demo/index.ts'
import { percentiles, round, type Percentiles } from '../common.ts'
import { launchChromium } from '../chromium.ts'
import { djcloud, serveNode, type ServedNode } from '../djcloud-procs.ts'
import type { Service } from '../swarm/procs.ts'
import { startProfile, stopProfile } from './browser-bench.ts'
import { staticServer } from '../static-files.ts'
import { inWorkDir } from '../work-dir.ts'

export interface PlayBenchOptions {
  /** Tracks timed, a fresh one each (one more, untimed, warms the page first). */
  tries: number
  /** Seconds of the CPU measurement while one track plays. */
  playSeconds: number
  /** Size of each track (a noise WAV, 44.1 kHz stereo), MB. */
  trackMb: number
  tmp: string
  log: (line: string) => void
}

export const PLAY_TARGETS = { firstAudioP95Ms: 1000, seekP95Ms: 300, cpuPct: 5 }

export interface PlayTry {
  /** The UI's play action (a double-click on the row) to the <audio>'s `playing`. */
  firstAudioMs: number
  /** currentTime set to 75% of the duration to `seeked`. */
  seekedMs: number
  /** ... to playing again: `seeked` with data to go on, else the next `playing`. */
  seekMs: number
  /** The devices the page's stream took bytes from by the end of the try (the UI's live sources). */
  sources: string[]
  /** Once the page's store holds the track whole (no network): a seek to 40% to playing again. */
  heldSeekMs: number
}

export interface PlayBenchResults {
  method: string[]
  trackMb: number
  tries: PlayTry[]
  /** Tries (0 is the warm-up) that did not get through: never played, or the seek or the fetch did not end, with the <audio>'s state. */
  failed: Array<{ try: number; error: string; audio: string }>
  firstAudio: Percentiles & { target: string; met: boolean }
  seek: Percentiles & { target: string; met: boolean }
  /** Each try's track, once the page held it whole: a seek to 40% to playing again (the worker and the store, no network). */
  heldSeek: Percentiles
  minute: {
    seconds: number
    /** Main-thread task time (Performance.getMetrics TaskDuration delta) over wall time, % of a core. */
    mainThreadPct: number
    /** All renderer processes' CPU time (SystemInfo.getProcessInfo) over wall time, % of a core: the page and its service worker. */
    rendererPct: number | null
    /** The page's JS heap used (Runtime.getHeapUsage), peak over the minute and at its end, MB. */
    heapPeakMb: number
    heapEndMb: number
    /** The same CPU figures from the moment the page's store held the track whole (sampled each second) to the end: playing alone. */
    /** The same figures over up to 20 s before it, nothing playing (the page's device linked, the UI open): the baseline. */
    idle: { seconds: number; mainThreadPct: number; rendererPct: number | null }
    /** The same figures over consecutive windows (a sixth of the minute each), by the window's end in s. */
    series: Array<{ toS: number; mainThreadPct: number; rendererPct: number | null }>
    afterWhole: { fetchedS: number; seconds: number; mainThreadPct: number; rendererPct: number | null } | null
    /**
     * The yardstick: a bare <audio> in a page of its own playing the same
     * WAV from a plain static file server, in the same Chromium (nothing
     * else open), over the same wall time or 20 s: what playing costs at all.
     */
    bareAudio: { seconds: number; rendererPct: number | null; mainThreadPct: number }
    /** The <audio>'s currentTime advance over the minute (it played, not stalled). */
    playedS: number
    target: string
    met: boolean
  }
}

interface Hook {
  __djcloud: { audio: HTMLAudioElement }
}

async function rendererCpu(browserCdp: CDPSession): Promise<number | null> {
  try {
    const info = (await browserCdp.send('SystemInfo.getProcessInfo' as never)) as unknown as { processInfo: Array<{ type: string; cpuTime: number }> }
    const r = info.processInfo.filter((p) => p.type === 'renderer')
    return r.length === 0 ? null : r.reduce((n, p) => n + p.cpuTime, 0)
  } catch {
    return null
  }
}

/** A bare <audio> playing `path` from a plain static file server for `seconds` (after 2 s to start): its renderers' and main thread's CPU. */
async function playBare(browser: Browser, browserCdp: CDPSession, path: string, seconds: number): Promise<PlayBenchResults['minute']['bareAudio']> {
  const yard = await staticServer([path])
  const ctx = await browser.newContext()
  try {
    const page = await ctx.newPage()
    await page.goto(yard.page)
    const cdp = await ctx.newCDPSession(page)
    await cdp.send('Performance.enable')
    const task = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')!.value
    await page.evaluate((src) => {
      const a = document.createElement('audio')
      a.src = src
      document.body.append(a)
      return a.play()
    }, yard.url(0))
    await new Promise((r) => setTimeout(r, 2_000))
    const m0 = await task()
    const c0 = await rendererCpu(browserCdp)
    const t0 = performance.now()
    await new Promise((r) => setTimeout(r, seconds * 1000))
    const wall = (performance.now() - t0) / 1000
    const m1 = await task()
    const c1 = await rendererCpu(browserCdp)
    return { seconds: round(wall), mainThreadPct: round((100 * (m1 - m0)) / wall), rendererPct: c0 === null || c1 === null ? null : round((100 * (c1 - c0)) / wall) }
  } finally {
    await ctx.close()
    yard.server.close()
  }
}

/** True once the page's store (IndexedDB djcloud-tracks) holds the whole track. */
function pageHolds(page: Page, sha: string): Promise<boolean> {
  return page.evaluate(
    (s) =>
      new Promise<boolean>((resolve) => {
        const open = indexedDB.open('djcloud-tracks')
        open.onerror = () => resolve(false)
        open.onsuccess = () => {
          try {
            const get = open.result.transaction('tracks').objectStore('tracks').get(s)
            get.onsuccess = () => resolve(get.result?.complete === true)
            get.onerror = () => resolve(false)
          } catch {
            resolve(false)
          } finally {
            open.result.close()
          }
        }
      }),
    sha,
  )
}

/** Double-clicks the track's row and resolves with the ms to the player's `playing`. */
function pressPlay(page: Page, sha: string): Promise<number> {
  return page.evaluate(async (s) => {
    const audio = (window as unknown as Hook).__djcloud.audio
    const row = document.querySelector(`[data-testid=track-row][data-sha256="${s}"]`)!
    const playing = new Promise<number>((resolve, reject) => {
      audio.addEventListener('playing', () => resolve(performance.now()), { once: true })
      setTimeout(() => reject(new Error('no playing event in 30 s')), 30_000)
    })
    const t0 = performance.now()
    row.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))
    return (await playing) - t0
  }, sha)
}

/** Seeks the player to `fraction` of the track and resolves with the ms to `seeked` and to playing again. */
function seek(page: Page, fraction: number): Promise<{ seekedMs: number; seekMs: number }> {
  return page.evaluate(async (f) => {
    const audio = (window as unknown as Hook).__djcloud.audio
    const to = audio.duration * f
    const seeked = new Promise<number>((resolve, reject) => {
      audio.addEventListener('seeked', () => resolve(performance.now()), { once: true })
      setTimeout(() => reject(new Error('no seeked event in 30 s')), 30_000)
    })
    let playingAt: number | undefined
    const playing = new Promise<number>((resolve) => audio.addEventListener('playing', () => resolve((playingAt = performance.now())), { once: true }))
    const t0 = performance.now()
    audio.currentTime = to
    const t1 = await seeked
    // Playing on from `seeked` when it has data ahead and was not held up; else when `playing` comes.
    const t2 = playingAt ?? (!audio.paused && audio.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA ? t1 : await playing)
    return { seekedMs: t1 - t0, seekMs: Math.max(t1, t2) - t0 }
  }, fraction)
}

/** The devices the UI lists as the live sources of the stream, with bytes. */
function liveSources(page: Page): Promise<string[]> {
  return page.locator('[data-testid=stream-source]').evaluateAll((els) => els.filter((e) => !/^\(0 B\)$/.test(e.querySelector('span')?.textContent ?? '')).map((e) => e.getAttribute('data-device') ?? '?'))
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms: number, every = 200): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

export function runPlayBench(o: PlayBenchOptions): Promise<PlayBenchResults> {
  return inWorkDir(o.tmp, 'djcloud-bench-browser-play-', (work) => playBench(o, work))
}

async function playBench(o: PlayBenchOptions, work: string): Promise<PlayBenchResults> {
  const services: Service<ServedNode>[] = []
  try {
    let t0 = performance.now()
    const [homePc, laptop] = await makeHomes(work, ['home-pc', 'laptop'])
    const music = join(work, 'music')
    await mkdir(music)
    // One untimed warm-up track, `tries` timed ones, one for the minute: each fresh to the page.
    const shas: string[] = []
    const paths: string[] = []
    for (let i = 0; i < o.tries + 2; i++) {
      const path = await writeNoiseWav(join(music, `play-${i}.wav`), Math.round(o.trackMb * 1e6), 900 + i)
      paths.push(path)
      shas.push(createHash('sha256').update(await readFile(path)).digest('hex'))
    }
    for (const home of [homePc!, laptop!]) djcloud(home, ['scan', music])
    o.log(`play: ${shas.length} tracks of ${o.trackMb} MB scanned on home-pc and laptop: ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    t0 = performance.now()
    const admin = await serveNode('home-pc', homePc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
    services.push(admin)
    services.push(await serveNode('laptop', laptop!, ['--tracker', admin.ready.tracker!]))
    const base = admin.ready.api

    const browser = await launchChromium()
    try {
      // The admin page makes a pairing link; another context (its own IndexedDB and OPFS) pairs from it.
      const adminCtx = await browser.newContext()
      const adminPage = await adminCtx.newPage()
      await adminPage.goto(base)
      await adminPage.click('[data-testid=nav-devices]')
      await adminPage.click('[data-testid=pair-browser-start]')
      const link = (await adminPage.locator('[data-testid=pair-browser-link]').getAttribute('href'))!
      await adminCtx.close() // its renderer would count in the CPU figure
      const ctx = await browser.newContext()
      const page = await ctx.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(link)
      await page.waitForSelector('[data-testid=key-kind]')
      await page.fill('[data-testid=pair-name]', 'phone')
      await page.click('[data-testid=pair-submit]')
      await page.waitForSelector('[data-testid=pair-done]')

      await page.goto(`${base}/?test=1`)
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 })
      await page.click('[data-testid=nav-devices]')
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=page-link]').length === 2, undefined, { timeout: 90_000 })
      await page.click('[data-testid=nav-library]')
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=track-row]').length === n, shas.length, { timeout: 60_000 })
      o.log(`play: two nodes up, the page paired, its device linked to both over WebRTC: ${((performance.now() - t0) / 1000).toFixed(1)} s`)

      const cdp = await ctx.newCDPSession(page)
      await cdp.send('Performance.enable', { timeDomain: 'threadTicks' } as never).catch(() => cdp.send('Performance.enable'))
      const browserCdp = await browser.newBrowserCDPSession()
      const pause = () => page.evaluate(() => (window as unknown as Hook).__djcloud.audio.pause())
      // Before the next track: the page's device has the whole of the last one (a DJ does not start a track every second).
      const settle = (sha: string) => until(`the page holds ${sha.slice(0, 8)}`, () => pageHolds(page, sha), 120_000, 300)

      const tries: PlayTry[] = []
      const failed: Array<{ try: number; error: string; audio: string }> = []
      const audioState = () => page.evaluate(() => {
        const a = (window as unknown as Hook).__djcloud.audio
        return `src ${a.src.replace(location.origin, '')}, readyState ${a.readyState}, networkState ${a.networkState}, paused ${a.paused}, currentTime ${a.currentTime.toFixed(1)}, error ${a.error?.code ?? 'none'}`
      })
      for (let i = 0; i <= o.tries; i++) {
        const sha = shas[i]!
        try {
          const firstAudioMs = await pressPlay(page, sha)
          await page.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.3, undefined, { timeout: 30_000 })
          const s = await seek(page, 0.75)
          await page.waitForTimeout(500) // the sources list refreshes on its own clock
          const sources = await liveSources(page)
          await pause()
          await settle(sha)
          // The same, the track now whole in the page's store: what the network and the swarm add.
          // (A seek back to 40%: the element's own buffer has the start and 75%, so this one goes through the worker to the store.)
          const at = await page.evaluate(() => (window as unknown as Hook).__djcloud.audio.currentTime)
          await page.evaluate(() => (window as unknown as Hook).__djcloud.audio.play())
          await page.waitForFunction((t) => (window as unknown as Hook).__djcloud.audio.currentTime > t + 0.3, at, { timeout: 30_000 })
          const heldSeek = await seek(page, 0.4)
          await pause()
          if (i > 0) tries.push({ firstAudioMs: round(firstAudioMs), seekedMs: round(s.seekedMs), seekMs: round(s.seekMs), sources, heldSeekMs: round(heldSeek.seekMs) })
          o.log(`play ${i === 0 ? 'warm-up' : `${i}/${o.tries}`}: first audio ${firstAudioMs.toFixed(0)} ms, seek to 75% ${s.seekMs.toFixed(0)} ms (seeked ${s.seekedMs.toFixed(0)}); sources ${sources.join(', ') || 'none listed'}; held whole: seek to 40% ${heldSeek.seekMs.toFixed(0)} ms`)
        } catch (err) {
          // A try that does not play is a figure too (it counts against the target), not the end of the run.
          const state = await audioState().catch(() => '?')
          const error = (err as Error).message.split('\n')[0]!
          failed.push({ try: i, error, audio: state })
          o.log(`play ${i === 0 ? 'warm-up' : `${i}/${o.tries}`} FAILED: ${error}; the player's <audio>: ${state}`)
          await pause().catch(() => {})
        }
      }

      // One track played for the minute: the page's CPU and heap.
      const sha = shas[o.tries + 1]!
      await cdp.send('HeapProfiler.collectGarbage')
      const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>
      // The baseline: the same page, its device linked, nothing playing.
      const idleS = Math.min(20, o.playSeconds)
      const i0 = { m: await metric(), c: await rendererCpu(browserCdp), t: performance.now() }
      await new Promise((r) => setTimeout(r, idleS * 1000))
      const i1 = { m: await metric(), c: await rendererCpu(browserCdp), t: performance.now() }
      const idleWall = (i1.t - i0.t) / 1000
      const idle = { seconds: round(idleWall), mainThreadPct: round((100 * (i1.m.TaskDuration! - i0.m.TaskDuration!)) / idleWall), rendererPct: i0.c === null || i1.c === null ? null : round((100 * (i1.c - i0.c)) / idleWall) }
      o.log(`play: the page idle (linked, nothing playing) ${idle.seconds} s: main thread ${idle.mainThreadPct}%, renderers ${idle.rendererPct}%`)
      if (process.env.BENCH_PROFILE) await startProfile(cdp)
      const m0 = await metric()
      const c0 = await rendererCpu(browserCdp)
      const w0 = performance.now()
      await pressPlay(page, sha)
      const a0 = await page.evaluate(() => (window as unknown as Hook).__djcloud.audio.currentTime)
      let heapPeak = 0
      let heapEnd = 0
      // When the page's store has the track whole: the rest of the minute is playing alone, no fetch.
      let whole: { at: number; m: Record<string, number>; c: number | null } | undefined
      // The same figures window by window: whether the cost stays flat while the track plays on.
      const windowS = Math.max(2, Math.round(o.playSeconds / 6))
      const series: Array<{ toS: number; mainThreadPct: number; rendererPct: number | null }> = []
      let last = { t: w0, m: m0, c: c0 }
      while (performance.now() - w0 < o.playSeconds * 1000) {
        const h = await cdp.send('Runtime.getHeapUsage')
        heapPeak = Math.max(heapPeak, h.usedSize)
        heapEnd = h.usedSize
        if (!whole && (await pageHolds(page, sha))) whole = { at: performance.now(), m: await metric(), c: await rendererCpu(browserCdp) }
        if (performance.now() - last.t >= windowS * 1000) {
          const now = { t: performance.now(), m: await metric(), c: await rendererCpu(browserCdp) }
          const dt = (now.t - last.t) / 1000
          series.push({ toS: round((now.t - w0) / 1000), mainThreadPct: round((100 * (now.m.TaskDuration! - last.m.TaskDuration!)) / dt), rendererPct: now.c === null || last.c === null ? null : round((100 * (now.c - last.c)) / dt) })
          last = now
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, o.playSeconds * 1000 - (performance.now() - w0))))
      }
      const w1 = performance.now()
      const wall = (w1 - w0) / 1000
      const m1 = await metric()
      const c1 = await rendererCpu(browserCdp)
      const a1 = await page.evaluate(() => (window as unknown as Hook).__djcloud.audio.currentTime)
      const sources = await liveSources(page)
      await pause()
      if (process.env.BENCH_PROFILE) o.log(`play: the page's main thread while playing, self time by function:\n${await stopProfile(cdp)}`)
      const mainThreadPct = round((100 * (m1.TaskDuration! - m0.TaskDuration!)) / wall)
      const rendererPct = c0 === null || c1 === null ? null : round((100 * (c1 - c0)) / wall)
      const rest = whole && (performance.now() - whole.at) / 1000 > 1 ? (w1 - whole.at) / 1000 : undefined
      const afterWhole = whole && rest
        ? { fetchedS: round((whole.at - w0) / 1000), seconds: round(rest), mainThreadPct: round((100 * (m1.TaskDuration! - whole.m.TaskDuration!)) / rest), rendererPct: whole.c === null || c1 === null ? null : round((100 * (c1 - whole.c)) / rest) }
        : null
      o.log(`play: ${wall.toFixed(1)} s of one track (${(a1 - a0).toFixed(1)} s of audio, sources ${sources.join(', ')}): main thread ${mainThreadPct}%, renderers ${rendererPct}%, heap peak ${(heapPeak / 1e6).toFixed(1)} MB; renderers by window ${series.map((x) => `${x.toS} s: ${x.rendererPct}%`).join(', ')}; ${afterWhole ? `the track whole in the page's store at ${afterWhole.fetchedS} s, after it: main thread ${afterWhole.mainThreadPct}%, renderers ${afterWhole.rendererPct}%` : 'the track not whole in the page before the end'}`)
      if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`)

      // The yardstick, with the device's page closed (the renderer figure sums every renderer).
      await ctx.close()
      const bareAudio = await playBare(browser, browserCdp, paths[o.tries + 1]!, Math.min(20, o.playSeconds))
      o.log(`play: the yardstick, a bare <audio> playing the same WAV from a static file server, ${bareAudio.seconds} s: main thread ${bareAudio.mainThreadPct}%, renderers ${bareAudio.rendererPct}%`)

      if (tries.length === 0) throw new Error(`no try played: ${JSON.stringify(failed)}`)
      const fa = percentiles(tries.map((t) => t.firstAudioMs))
      const sk = percentiles(tries.map((t) => t.seekMs))
      const cpu = rendererPct ?? mainThreadPct
      return {
        method: [
          'the flow of test/e2e/browser-device.test.ts: `djcloud serve` on 127.0.0.1 for home-pc (the circle tracker, serves the UI) and laptop, both holding every played track; a Chromium context pairs from the admin page\'s link, opens the node\'s UI (?test=1), and waits until its Devices page lists WebRTC links to both',
          `tracks: ${o.trackMb} MB noise WAVs (44.1 kHz stereo), a fresh one per try (the page holds none of them); one untimed warm-up try first; before each next try the page's store holds the whole of the last track`,
          'first audio: a double-click dispatched on the track\'s row (the UI\'s play action) to the player <audio>\'s `playing`, timed in the page',
          'seek: once it played 0.3 s, currentTime set to 75% of the duration; to `seeked` when the element is then playing with data ahead, else to the next `playing`',
          `CPU: another fresh track played ${o.playSeconds} s from pressing play (its download included, as a DJ would meet it); Performance.getMetrics TaskDuration delta (the page's main thread) and SystemInfo.getProcessInfo renderer cpuTime delta (the page and its service worker; the admin context is closed) over wall time; heap: Runtime.getHeapUsage each second`,
          'held seek: after each try, once the page\'s store holds the track whole, the same track played on (audio.play() on the UI\'s element) and sought to 40% (to playing again): the worker and the store without the network (the element\'s own buffer holds the start and 75%, not 40%)',
          'percentiles: nearest rank',
        ],
        trackMb: o.trackMb,
        tries,
        failed,
        firstAudio: { ...fa, target: `p95 < ${PLAY_TARGETS.firstAudioP95Ms} ms`, met: failed.length === 0 && fa.p95 < PLAY_TARGETS.firstAudioP95Ms },
        seek: { ...sk, target: `p95 < ${PLAY_TARGETS.seekP95Ms} ms`, met: failed.length === 0 && sk.p95 < PLAY_TARGETS.seekP95Ms },
        heldSeek: percentiles(tries.map((t) => t.heldSeekMs)),
        minute: {
          seconds: round(wall),
          mainThreadPct,
          rendererPct,
          heapPeakMb: round(heapPeak / 1e6),
          heapEndMb: round(heapEnd / 1e6),
          afterWhole,
          bareAudio,
          idle,
          series,
          playedS: round(a1 - a0),
          target: `< ${PLAY_TARGETS.cpuPct}% of a core`,
          met: cpu < PLAY_TARGETS.cpuPct,
        },
      }
    } finally {
      await browser.close()
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()))
  }
}
