// The UI benchmark (see bench/README.md): a laptop node whose union library
// holds 20,000 tracks, the UI it serves opened in Chromium: time to
// interactive of the library page, and click-to-playing of tracks the laptop
// does not hold (home-pc and phone, both online, do), next to click-to-playing
// of the same files served as plain static files from local disk, in the
// same Chromium, in the same run.
//
// The 20,000 tracks: two other own devices ("studio", "old-laptop") that are
// offline, whose signed library manifests (10,000 synthetic tracks each,
// bench/manifest/tracks.ts) the laptop took in before it started, as it
// would have from the DHT; plus the played tracks, real audio scanned by
// home-pc and phone.
import { mkdir } from 'node:fs/promises'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import type { Page } from 'playwright-core'
import { encodeWav, synthLoop, buildId3, makeHomes } from '../../src/demo/index.ts'
import { writeFile } from 'node:fs/promises'
import { gitCommit, machineInfo, percentiles, round, type MachineInfo, type Percentiles } from '../common.ts'
import { takeInOfflineLibraries } from '../manifest/offline-libraries.ts'
import type { Service } from '../swarm/procs.ts'
import { djcloud, serveNode, type ServedNode } from '../djcloud-procs.ts'
import { launchChromium, CHROMIUM } from '../chromium.ts'
import { staticServer } from '../static-files.ts'
import { inWorkDir } from '../work-dir.ts'

export interface UiBenchOptions {
  /** Synthetic tracks on each of the two offline devices. */
  tracks: number
  /** Tracks played (each once, none held by the laptop). */
  plays: number
  /** Page loads timed for time to interactive. */
  loads: number
  /** Seconds of each played track. */
  seconds: number
  tmp: string
  log: (line: string) => void
}

export const TARGETS = { interactiveMs: 1000, playingP95Ms: 300, playingRatio: 2 }


export interface UiBenchResults {
  date: string
  machine: MachineInfo & { chromium: string }
  commit: string | null
  method: string[]
  union: { tracks: number; playedHeldBy: string[] }
  interactive: Percentiles & { how: 'mark' | 'first row'; target: string; met: boolean }
  clickToPlaying: {
    djcloud: Percentiles
    djcloudParts: PlayTiming[]
    staticFile: Percentiles
    ratioP95: number
    target: string
    met: boolean
  }
}


/** The played tracks: distinct real audio (44.1 kHz mono WAV) with a title that finds it alone. */
async function writePlayed(dir: string, count: number, seconds: number): Promise<Array<{ title: string; path: string }>> {
  await mkdir(dir, { recursive: true })
  const out = []
  for (let i = 0; i < count; i++) {
    const title = `Benchplay ${String(i + 1).padStart(2, '0')} Zqx`
    const pcm = synthLoop({ bpm: 120 + i, key: 'A minor', seconds, seed: 500 + i, sampleRate: 44100 })
    const path = join(dir, `played-${i + 1}.wav`)
    await writeFile(path, encodeWav(pcm, 44100, 1, buildId3({ title, artist: 'Bench', bpm: 120 + i })))
    out.push({ title, path })
  }
  return out
}

async function api<T>(base: string, path: string): Promise<T> {
  const res = await fetch(base + path)
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
  return (await res.json()) as T
}

/** Waits until the laptop's union holds `want` tracks and the played ones have both holders online. */
async function untilUnion(base: string, want: number, played: Set<string>, log: (s: string) => void): Promise<number> {
  const end = Date.now() + 180_000
  for (;;) {
    const { fields, rows } = await api<{ fields: string[]; rows: unknown[][] }>(base, '/api/library?view=compact')
    const sha = fields.indexOf('sha256')
    const holders = fields.indexOf('holders')
    const ready = rows.filter((r) => played.has(r[sha] as string) && (r[holders] as Array<[string, number, number]>).filter((h) => h[1] === 1).length >= 2)
    if (rows.length >= want && ready.length === played.size) return rows.length
    if (Date.now() > end) throw new Error(`the laptop's union reached ${rows.length} of ${want} tracks, ${ready.length} of ${played.size} played tracks with two online holders`)
    log(`waiting for the union: ${rows.length} of ${want} tracks`)
    await new Promise((r) => setTimeout(r, 2000))
  }
}

/** Until the laptop has the whole of a track it streamed (its cache verified it), at most 10 s. */
async function settle(base: string, sha256: string): Promise<void> {
  const end = Date.now() + 10_000
  while (Date.now() < end) {
    const { streams } = await api<{ streams: Array<{ sha256: string; sources: Array<{ rate: number }> }> }>(base, '/api/streams')
    const s = streams.find((x) => x.sha256 === sha256)
    if (!s || s.sources.every((x) => x.rate === 0)) return
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function timeInteractive(page: Page, url: string): Promise<{ ms: number; how: 'mark' | 'first row' }> {
  await page.goto(url)
  await page.waitForSelector('[data-testid=track-row]', { timeout: 30_000 })
  return page.evaluate(() => {
    const mark = performance.getEntriesByName('djcloud:interactive')[0]
    return mark ? { ms: mark.startTime, how: 'mark' as const } : { ms: performance.now(), how: 'first row' as const }
  })
}

export interface PlayTiming {
  /** Double-click to the audio element's first 'playing'. */
  ms: number
  /** Of which: to the /stream request leaving the page, to its first response byte, and the rest (Chromium's media pipeline). */
  toRequestMs?: number
  ttfbMs?: number
  mediaMs?: number
}

/** Finds the row by searching its title, then times a double-click to the audio element's 'playing'. */
async function timeUiPlay(page: Page, title: string, sha256: string): Promise<PlayTiming> {
  await page.fill('[data-testid=search-input]', title)
  await page.waitForSelector(`[data-testid=track-row][data-sha256="${sha256}"]`, { timeout: 10_000 })
  return page.evaluate(async (sha) => {
    const row = document.querySelector(`[data-testid=track-row][data-sha256="${sha}"]`)!
    const t0 = performance.now()
    const playing = new Promise<number>((resolve) => document.addEventListener('playing', () => resolve(performance.now()), { capture: true, once: true }))
    row.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))
    const t1 = await playing
    for (const a of document.querySelectorAll('audio')) a.pause()
    // Resource Timing lists the stream once its response ended (the whole file, moments later).
    let entry: PerformanceResourceTiming | undefined
    for (let i = 0; i < 20 && !entry; i++) {
      entry = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) => e.name.endsWith(`/stream/${sha}`) && e.startTime >= t0)
      if (!entry) await new Promise((r) => setTimeout(r, 100))
    }
    if (!entry || !entry.responseStart) return { ms: t1 - t0 }
    return { ms: t1 - t0, toRequestMs: entry.startTime - t0, ttfbMs: entry.responseStart - entry.startTime, mediaMs: t1 - entry.responseStart }
  }, sha256)
}

async function timeStaticPlay(page: Page, url: string): Promise<number> {
  return page.evaluate(async (src) => {
    const a = new Audio()
    document.body.append(a)
    const t0 = performance.now()
    const playing = new Promise<number>((resolve) => a.addEventListener('playing', () => resolve(performance.now()), { once: true }))
    a.src = src
    void a.play()
    const t1 = await playing
    a.pause()
    a.remove()
    return t1 - t0
  }, url)
}

export function runUiBench(opts: UiBenchOptions): Promise<UiBenchResults> {
  return inWorkDir(opts.tmp, 'djcloud-bench-ui-', (work) => uiBench(opts, work))
}

async function uiBench(opts: UiBenchOptions, work: string): Promise<UiBenchResults> {
  const { log } = opts
  const services: Service<ServedNode>[] = []
  let staticSrv: Server | undefined
  const stopAll = async () => {
    await Promise.all(services.map((s) => s.stop()))
    staticSrv?.close()
  }
  try {
    let t0 = performance.now()
    const [homePc, laptop, phone, studio, oldLaptop] = await makeHomes(work, ['home-pc', 'laptop', 'phone', 'studio', 'old-laptop'])
    // The offline devices' libraries, taken into the laptop's manifest book before it starts.
    await takeInOfflineLibraries(laptop!, [studio!, oldLaptop!], opts.tracks)
    const music = join(work, 'music')
    const played = await writePlayed(music, opts.plays + 1, opts.seconds)
    for (const home of [homePc!, phone!]) djcloud(home, ['scan', music])
    log(`homes, ${2 * opts.tracks} synthetic tracks on two offline devices, ${opts.plays} played tracks of ${opts.seconds} s scanned on home-pc and phone: ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    t0 = performance.now()
    const admin = await serveNode('home-pc', homePc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
    services.push(admin)
    const tracker = ['--tracker', admin.ready.tracker!, ...(admin.ready.bootstrap ? ['--bootstrap', admin.ready.bootstrap] : [])]
    services.push(await serveNode('phone', phone!, tracker))
    const lap = await serveNode('laptop', laptop!, tracker)
    services.push(lap)
    const base = lap.ready.api
    // The played tracks' SHA-256s, from home-pc's own listing.
    const { tracks } = await api<{ tracks: Array<{ sha256: string; tags: { title?: string } }> }>(admin.ready.api, '/api/library')
    const shaOf = new Map(tracks.map((t) => [t.tags.title, t.sha256]))
    const playedSha = played.map((p) => shaOf.get(p.title)!)
    const unionSize = await untilUnion(base, 2 * opts.tracks + played.length, new Set(playedSha), log)
    log(`three nodes up, the laptop's union holds ${unionSize} tracks: ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const browser = await launchChromium()
    try {
      const ctx = await browser.newContext()
      // One untimed load: Chromium's own first-start costs are not the page's.
      const warm = await ctx.newPage()
      await timeInteractive(warm, `${base}/`)
      await warm.close()
      const loads: number[] = []
      let how: 'mark' | 'first row' = 'mark'
      for (let i = 0; i < opts.loads; i++) {
        const page = await ctx.newPage()
        const r = await timeInteractive(page, `${base}/`)
        loads.push(r.ms)
        how = r.how
        await page.close()
      }
      log(`time to interactive: ${loads.map((v) => v.toFixed(0)).join(', ')} ms (${how})`)

      const yard = await staticServer(played.map((p) => p.path))
      staticSrv = yard.server
      const page = await ctx.newPage()
      await page.goto(`${base}/?test=1`)
      await page.waitForSelector('[data-testid=track-row]')
      const staticPage = await ctx.newPage()
      await staticPage.goto(yard.page)
      const dj: number[] = []
      const parts: PlayTiming[] = []
      const plain: number[] = []
      // The first of each, untimed: cold code paths are not what a DJ meets twice.
      await timeUiPlay(page, played[0]!.title, playedSha[0]!)
      await timeStaticPlay(staticPage, yard.url(0))
      for (let i = 1; i < played.length; i++) {
        // A track's whole file keeps coming in after it started: let that end
        // (a DJ does not start a new track every few milliseconds), then take turns.
        await settle(base, playedSha[i - 1]!)
        const p = await timeUiPlay(page, played[i]!.title, playedSha[i]!)
        parts.push(p)
        dj.push(p.ms)
        plain.push(await timeStaticPlay(staticPage, yard.url(i)))
        const split = p.ttfbMs === undefined ? '' : ` (to the request ${p.toRequestMs!.toFixed(0)}, first byte ${p.ttfbMs.toFixed(0)}, media ${p.mediaMs!.toFixed(0)})`
        log(`play ${i}/${played.length - 1}: djcloud ${p.ms.toFixed(0)} ms${split}, static file ${plain.at(-1)!.toFixed(0)} ms`)
      }
      const interactive = percentiles(loads)
      const djP = percentiles(dj)
      const plainP = percentiles(plain)
      const ratioP95 = djP.p95 / plainP.p95
      return {
        date: new Date().toISOString().slice(0, 10),
        machine: { ...machineInfo(), chromium: spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim() },
        commit: gitCommit(['src', 'bench/ui']).commit,
        method: [
          `homes: home-pc (admin: tracker, DHT bootstrap), laptop, phone, and two offline own devices whose signed library manifests (${opts.tracks} synthetic tracks each) the laptop took in before starting; the three nodes are \`djcloud serve\` processes on 127.0.0.1 with background analysis off`,
          `played: ${opts.plays} distinct ${opts.seconds} s 44.1 kHz mono WAVs scanned by home-pc and phone, not by the laptop; each played once, after one untimed play of another; before each play the previous track's download has ended (no source sending for it in /api/streams)`,
          `time to interactive: a fresh page of the laptop's UI (one untimed load first), the "djcloud:interactive" performance mark (the library's first rows rendered with data), else performance.now() when the first row is there; ${opts.loads} loads`,
          'click-to-playing: the row found by typing its title in the search box, then a double-click dispatched on it; from the click to the first "playing" event of an audio element in the page',
          'yardstick: the same files from local disk through a plain Node static file server (Range supported), a new audio element per file given the URL and play(); from then to "playing"; in the same Chromium, taking turns with djcloud',
          'percentiles: nearest rank (p95 of 10 is the 10th smallest)',
        ],
        union: { tracks: unionSize, playedHeldBy: ['home-pc', 'phone'] },
        interactive: { ...interactive, how, target: `< ${TARGETS.interactiveMs} ms`, met: interactive.max < TARGETS.interactiveMs },
        clickToPlaying: {
          djcloud: djP,
          djcloudParts: parts.map((p) => ({ ms: round(p.ms), toRequestMs: p.toRequestMs && round(p.toRequestMs), ttfbMs: p.ttfbMs && round(p.ttfbMs), mediaMs: p.mediaMs && round(p.mediaMs) })),
          staticFile: plainP,
          ratioP95: round(ratioP95, 2),
          target: `p95 < ${TARGETS.playingP95Ms} ms and <= ${TARGETS.playingRatio}x the static file's p95`,
          met: djP.p95 < TARGETS.playingP95Ms && ratioP95 <= TARGETS.playingRatio,
        },
      }
    } finally {
      await browser.close()
    }
  } finally {
    await stopAll()
  }
}
