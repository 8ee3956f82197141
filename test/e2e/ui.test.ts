// The web UI end to end, in Debian's Chromium: three real nodes of one circle
// on loopback (home-pc with the tracker, laptop, phone), the laptop's UI in
// the browser. Library, search, sort, playing a track only the other two
// devices hold (fed by both), seeking on the waveform, a playlist made and
// reordered by drag. Screenshots go to test-artifacts/e2e/ (kept by CI).
import test from 'ava'
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import type { Page } from 'playwright-core'
import { buildId3, encodeWav, synthLoop } from '../../src/demo/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { clearlyNearer } from '../../src/swarm/index.ts'
import { openPage } from '../helpers/browser-page.ts'
import { runCli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const ARTIFACTS = new URL('../../test-artifacts/e2e/', import.meta.url).pathname

interface Track {
  title: string
  bpm: number
  seconds: number
}
// Held by home-pc and phone only: the laptop streams them from both.
const FAR: Track[] = [
  { title: 'Far Away Fjord', bpm: 124, seconds: 60 },
  { title: 'Far Away Tide', bpm: 172, seconds: 60 },
]
// On the laptop itself, tags in an order that sorting must change.
const NEAR: Track[] = [
  { title: 'Near Velvet', bpm: 128, seconds: 8 },
  { title: 'Near Ember', bpm: 90, seconds: 8 },
  { title: 'Near Orbit', bpm: 140, seconds: 8 },
]
const HOME_ONLY: Track = { title: 'Home Static', bpm: 100, seconds: 8 }

async function writeTracks(dir: string, tracks: Track[], seed: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const [i, t] of tracks.entries()) {
    const pcm = synthLoop({ bpm: t.bpm, key: 'A minor', seconds: t.seconds, seed: seed + i, sampleRate: 44100 })
    await writeFile(join(dir, `${t.title}.wav`), encodeWav(pcm, 44100, 1, buildId3({ title: t.title, artist: 'E2E', bpm: t.bpm })))
  }
}

interface Compact {
  fields: string[]
  rows: unknown[][]
}

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
}

const rowShas = (page: Page) => page.$$eval('[data-testid=track-row]', (rows) => rows.map((r) => r.getAttribute('data-sha256')!))

test('the laptop UI: library, search, sort by BPM, a track from two other devices played and sought, a playlist made and reordered', async (t) => {
  t.timeout(240_000)
  const root = await tempDir(t)
  const [homePc, laptop, phone] = await makeHomes(root, ['home-pc', 'laptop', 'phone'])
  const far = join(root, 'far')
  await writeTracks(far, FAR, 100)
  await writeTracks(join(root, 'home-only'), [HOME_ONLY], 200)
  await writeTracks(join(root, 'near'), NEAR, 300)
  await mkdir(join(root, 'phone-music'))
  for (const t of FAR) await copyFile(join(far, `${t.title}.wav`), join(root, 'phone-music', `${t.title}.wav`))

  const h = await serveNode(t, homePc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  await serveNode(t, phone!, ['--tracker', h.info.tracker!])
  // Streams stay listed for the whole test: under load the track may be whole long before the player is 1.5 s in.
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings: { streamLinger: 600_000 } })
  for (const [home, dirs] of [[homePc!, [far, join(root, 'home-only')]], [phone!, [join(root, 'phone-music')]], [laptop!, [join(root, 'near')]]] as const) {
    const r = await runCli(['scan', ...dirs, '--json'], { DJCLOUD_HOME: home })
    t.is(r.code, 0, r.stderr)
  }
  const base = l.info.api
  const token = (await readApiToken(laptop!))!
  const get = async <T>(path: string): Promise<T> => (await (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json()) as T
  // The laptop's union: every track, the far ones with two online holders.
  const all = await until(async () => {
    const c = await get<Compact>('/api/library?view=compact')
    const f = (name: string) => c.fields.indexOf(name)
    const rows = c.rows.map((r) => ({ sha256: r[f('sha256')] as string, title: r[f('title')] as string, bpm: (r[f('bpm')] ?? r[f('tagBpm')]) as number, holders: r[f('holders')] as Array<[string, number, number]> }))
    const farRows = rows.filter((r) => r.title.startsWith('Far Away'))
    const ready = rows.length === 6 && farRows.every((r) => r.holders.filter((x) => x[1] === 1 && x[2] === 0).length === 2)
    return ready ? rows : undefined
  }, 60_000, 250)
  const byTitle = new Map(all.map((r) => [r.title, r]))

  const { page, errors } = await openPage(t, `${base}/?test=1`)

  // The library: every track, with its holders.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 6)
  t.deepEqual(new Set(await rowShas(page)), new Set(all.map((r) => r.sha256)))
  const farRow = page.locator(`[data-testid=track-row][data-sha256="${byTitle.get('Far Away Fjord')!.sha256}"]`)
  t.deepEqual(
    (await farRow.locator('[data-testid=holder]').evaluateAll((hs) => hs.map((x) => `${x.textContent?.trim()}:${x.getAttribute('data-online')}`))).sort(),
    ['home-pc:true', 'phone:true'],
  )
  await shot(page, '1-library')

  // Search as you type.
  await page.fill('[data-testid=search-input]', 'far away')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 2)
  t.deepEqual(new Set(await rowShas(page)), new Set(FAR.map((x) => byTitle.get(x.title)!.sha256)))
  await shot(page, '2-search')
  await page.fill('[data-testid=search-input]', '')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 6)

  // Sort by BPM: ascending, by the same figures the API gives.
  await page.click('[data-testid=column-header-bpm]')
  await until(async () => {
    const bpms = (await rowShas(page)).map((s) => all.find((r) => r.sha256 === s)!.bpm)
    return bpms.every((b, i) => i === 0 || b >= bpms[i - 1]!) ? true : undefined
  }, 5_000, 50)
  const sortedTitles = (await rowShas(page)).map((s) => all.find((r) => r.sha256 === s)!.title)
  t.is(sortedTitles[0], 'Near Ember')
  t.is(sortedTitles.at(-1), 'Far Away Tide')
  await shot(page, '3-sorted-by-bpm')

  // Play a track the laptop does not hold: the audio advances, fed by home-pc and phone.
  // Nearest first gives the work to a clearly nearer holder; these two are at one
  // distance, which the laptop knows once its links' samples say so.
  let rtts: unknown
  await until(async () => {
    const { devices } = await get<{ devices: Array<{ name: string; link: { rttMs: number | null } | null }> }>('/api/circle')
    const ms = ['home-pc', 'phone'].map((n) => devices.find((d) => d.name === n)?.link?.rttMs ?? undefined)
    rtts = ms
    return ms[0] !== undefined && ms[1] !== undefined && !clearlyNearer(ms[0], ms[1]) && !clearlyNearer(ms[1], ms[0]) ? true : undefined
  }, 60_000, 250).catch((err: Error) => {
    throw new Error(`${err.message}: the laptop's round trips to home-pc and phone were ${JSON.stringify(rtts)} ms`)
  })
  const fjord = byTitle.get('Far Away Fjord')!
  await farRow.dblclick()
  await page.waitForFunction(() => (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio.currentTime > 1.5, undefined, { timeout: 30_000 })
  // The playhead moves at the audio's timeupdate (about 4 Hz), not every
  // frame (a paint a frame cost ~20% of a core): its style changes a few
  // times a second, and the page asks for no animation frames for it.
  const paints = await page.evaluate(async () => {
    let frames = 0
    const raf = window.requestAnimationFrame.bind(window)
    window.requestAnimationFrame = (cb) => (frames++, raf(cb))
    const head = document.querySelector('[data-testid=playhead]') as HTMLElement
    let writes = 0
    const seen = new MutationObserver((m) => (writes += m.length))
    seen.observe(head, { attributes: true, attributeFilter: ['style'] })
    const before = head.style.transform
    const started = performance.now()
    await new Promise((r) => setTimeout(r, 2_000))
    seen.disconnect()
    window.requestAnimationFrame = raf
    return { frames, writes, ms: performance.now() - started, moved: head.style.transform !== before }
  })
  t.true(paints.moved, 'the playhead moved')
  t.true(paints.writes <= (paints.ms / 1000) * 6, `the playhead was moved ${paints.writes} times in ${Math.round(paints.ms)} ms`)
  t.true(paints.frames <= 4, `${paints.frames} animation frames asked for in ${Math.round(paints.ms)} ms while playing`)
  let seen: unknown
  const streams = await until(async () => {
    const { streams } = await get<{ streams: Array<{ sha256: string; sources: Array<{ name: string; bytes: number }> }> }>('/api/streams')
    const s = streams.find((x) => x.sha256 === fjord.sha256)
    seen = s
    return s && s.sources.filter((x) => x.bytes > 0).length >= 2 ? s : undefined
  }, 15_000, 200).catch((err: Error) => {
    throw new Error(`${err.message}: the stream's sources were ${JSON.stringify(seen)}`)
  })
  t.deepEqual(streams.sources.filter((x) => x.bytes > 0).map((x) => x.name).sort(), ['home-pc', 'phone'])
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=stream-source]').length >= 2, undefined, { timeout: 10_000 })
  await shot(page, '4-playing-from-two-devices')

  // Seek by clicking three quarters into the waveform.
  const box = (await page.locator('[data-testid=waveform]').boundingBox())!
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2)
  await page.waitForFunction(
    () => {
      const a = (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio
      return a.currentTime > a.duration * 0.7 && a.currentTime < a.duration * 0.85
    },
    undefined,
    { timeout: 15_000 },
  )
  await page.click('[data-testid=play-pause]') // pause
  await shot(page, '5-sought')

  // Played whole, the track is in the laptop's cache: the library says so.
  await until(async () => {
    await page.click('[data-testid=library-reload]')
    return (await farRow.locator('[data-testid=cached-here]').count()) === 1 ? true : undefined
  }, 15_000, 500)
  t.is(await page.locator('[data-testid=track-row][data-sha256="' + byTitle.get('Far Away Tide')!.sha256 + '"] [data-testid=cached-here]').count(), 0)

  // A playlist: created, three tracks added from the library, reordered by drag.
  await page.click('[data-testid=nav-playlists]')
  await page.fill('[data-testid=playlist-create-name]', 'E2E Set')
  await page.click('[data-testid=playlist-create]')
  await page.waitForSelector('[data-testid=playlist-item][data-name="E2E Set"]')
  await page.click('[data-testid=nav-library]')
  await page.selectOption('[data-testid=add-target]', 'E2E Set')
  const picks = ['Near Velvet', 'Far Away Tide', 'Near Ember'].map((x) => byTitle.get(x)!.sha256)
  for (const sha of picks) {
    await page.locator(`[data-testid=track-row][data-sha256="${sha}"] [data-testid=add-to-playlist]`).click()
    await until(async () => {
      const { playlist } = await get<{ playlist: { entries: Array<{ ref: string }> } }>('/api/playlists/E2E%20Set')
      return playlist.entries.length === picks.indexOf(sha) + 1 ? true : undefined
    }, 10_000, 100)
  }
  await page.click('[data-testid=nav-playlists]')
  await page.click('[data-testid=playlist-item][data-name="E2E Set"]')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=playlist-entry]').length === 3)
  const order = async () =>
    (await get<{ playlist: { entries: Array<{ track: { sha256: string } | null }> } }>('/api/playlists/E2E%20Set')).playlist.entries.map((e) => e.track?.sha256)
  t.deepEqual(await order(), picks)
  await page.locator('[data-testid=playlist-entry]').nth(2).dragTo(page.locator('[data-testid=playlist-entry]').nth(0))
  const moved = await until(async () => {
    const o = await order()
    return o[0] === picks[2] ? o : undefined
  }, 10_000, 100)
  t.deepEqual(moved, [picks[2], picks[0], picks[1]])
  await page.waitForFunction((first) => document.querySelector('[data-testid=playlist-entry]')?.getAttribute('data-sha256') === first, picks[2]!)
  await shot(page, '6-playlist-reordered')

  // Playing the playlist from its first track fetches what follows whole: Far Away Tide, two
  // tracks on (the one in between is the laptop's own), ends up cached here.
  await page.locator('[data-testid=playlist-entry]').nth(0).dblclick()
  await page.waitForFunction(() => (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 15_000 })
  await page.click('[data-testid=nav-library]') // it plays on
  const tideRow = page.locator(`[data-testid=track-row][data-sha256="${picks[1]}"]`)
  await until(async () => {
    await page.click('[data-testid=library-reload]')
    return (await tideRow.locator('[data-testid=cached-here]').count()) === 1 ? true : undefined
  }, 20_000, 500)

  // Gig preparation from the playlist page: every track of the set here, verified and pinned.
  await page.click('[data-testid=nav-playlists]')
  await page.click('[data-testid=playlist-item][data-name="E2E Set"]')
  await page.click('[data-testid=gig-pull]')
  await page.waitForSelector('[data-testid=gig-report][data-ready=true]', { timeout: 30_000 })
  t.is(await page.locator('[data-testid=gig-missing]').count(), 0)
  const cache = await get<{ tracks: Array<{ sha256: string; pinned: boolean }> }>('/api/cache')
  t.true(cache.tracks.find((x) => x.sha256 === picks[1])?.pinned, 'the fetched track of the set is pinned')
  await shot(page, '7-gig-ready')

  // The playhead is placed in pixels: paused at 90%, a phone's width puts it back over 90% of the narrower waveform.
  await page.evaluate(async () => {
    const a = (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio
    a.pause()
    const seeked = new Promise((r) => a.addEventListener('seeked', r, { once: true }))
    a.currentTime = a.duration * 0.9
    await seeked
  })
  // A phone's width: the same library, still usable.
  await page.setViewportSize({ width: 390, height: 844 })
  await page.waitForFunction(() => {
    const head = document.querySelector('[data-testid=playhead]') as HTMLElement
    const px = Number(/translateX\(([\d.]+)px\)/.exec(head.style.transform)?.[1])
    return Math.abs(px - 0.9 * head.parentElement!.clientWidth) <= 2
  }, undefined, { timeout: 5_000 })
  await page.click('[data-testid=nav-library]')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 6)
  await shot(page, '8-phone')

  t.deepEqual(errors, [], 'no uncaught errors in the page')
})
