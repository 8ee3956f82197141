/// <reference lib="dom" />
// Issue 15's test, whole (docs/browser.md, "Tests"): two browser devices and
// two Node devices at once, end to end in Debian's Chromium on loopback with
// two `djcloud serve` processes (home-pc runs the circle's tracker and serves
// the page; laptop). Two Chromium contexts pair from the admin page's link
// and run the node's UI as devices, both linked to both Node devices over
// WebRTC at once. Page B plays a track only the Node devices hold, with bytes
// from both; with laptop stopped, home-pc fetches from page B a track only
// page B holds (SHA-256 checked). Page A's playlist edits, made while laptop
// is down, reach home-pc and page B's view, and page B removes an entry page
// A added (home-pc passes a browser's root on: docs/manifests.md, "How
// manifests travel"); with both pages closed, laptop comes back and gets
// page A's and page B's edits from home-pc alone. Page A revoked: its links
// drop, its signaling is refused, and it gets nothing more, while page B
// keeps linking and editing. A stranger's stock webtorrent is
// test/browser/webtorrent-stranger.test.ts's.
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { readApiToken } from '../../src/player/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { heldRecord, keptPlaylists, openAsDevice, pairBrowser, waitForLinks } from '../helpers/paired-app.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

interface Hook {
  __djcloud: { audio: HTMLAudioElement }
}

const sha256Of = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex')

test('two browser devices and two Node devices: playing from both nodes, serving a node, playlist edits passed on between browsers and to a node that was away, and one browser revoked', async (t) => {
  t.timeout(240_000)
  const started = Date.now()
  const root = await tempDir(t)
  const [homeA, homeB] = await makeHomes(root, ['home-pc', 'laptop'])
  const both = join(root, 'both')
  const laptopOnly = join(root, 'laptop-only')
  await mkdir(both)
  await mkdir(laptopOnly)
  const shared = await sha256Of(await writeNoiseWav(join(both, 'shared.wav'), 3 * 1024 * 1024, 41))
  const only = await sha256Of(await writeNoiseWav(join(laptopOnly, 'only.wav'), 1024 * 1024, 42))
  await scanHome(homeA!, both)
  await scanHome(homeB!, both)
  await scanHome(homeB!, laptopOnly)
  const timings = { rosterReload: 200 }
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const laptopArgs = ['--tracker', a.info.tracker!]
  let b = await serveNode(t, homeB!, laptopArgs, { timings })
  const nodes: Record<string, NodeProcess> = { A: a, B: b }
  const tokens = { A: (await readApiToken(homeA!))!, B: (await readApiToken(homeB!))! }
  const api = async (n: 'A' | 'B', path: string, body?: unknown) => {
    const res = await fetch(nodes[n]!.info.api + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${tokens[n]}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: (await res.json()) as any }
  }
  const entries = async (n: 'A' | 'B', name: string) => {
    const r = await api(n, `/api/playlists/${name}`)
    return r.status === 200 ? (r.body.playlist.entries as Array<{ id: string; ref: { sha256: string } }>).map((e) => e.id) : null
  }
  /** Waits until node `n` shows exactly `ids` in playlist `name`. */
  const nodeShows = (n: 'A' | 'B', name: string, ids: string[]) =>
    until(async () => (JSON.stringify(await entries(n, name)) === JSON.stringify(ids) ? true : undefined), 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  const linkedTo = async (n: 'A' | 'B') => ((await api(n, '/api/devices')).body.devices as Array<{ name: string; device: string; path: string }>)

  /** Logs how long each part took (and the pages' runtime warnings): a slow run shows where. */
  const phase = (what: string) => t.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(a.info.api)
  await admin.click('[data-testid=nav-devices]')

  // Two browsers paired from the admin page's link, both running the app as a device, linked to both nodes at once.
  const A = await pairBrowser(browser, admin, 'phone-a', errors)
  const B = await pairBrowser(browser, admin, 'phone-b', errors)
  phase('paired')
  for (const p of [A.page, B.page]) p.on('console', (m) => /djcloud device/.test(m.text()) && phase(m.text()))
  await Promise.all([openAsDevice(A.page, a.info.api, 2, nodes), openAsDevice(B.page, a.info.api, 2, nodes)])
  for (const p of [A.page, B.page]) {
    const names = await p.locator('[data-testid=page-link]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))
    t.deepEqual(names.sort(), ['home-pc', 'laptop'])
  }
  for (const n of ['A', 'B'] as const) {
    const pages = (await linkedTo(n)).filter((d) => d.name.startsWith('phone-'))
    t.deepEqual([...new Set(pages.map((d) => `${d.name} ${d.path}`))].sort(), ['phone-a webrtc', 'phone-b webrtc'])
  }
  const keyA = (await linkedTo('A')).find((d) => d.name === 'phone-a')!.device
  const keyB = (await linkedTo('A')).find((d) => d.name === 'phone-b')!.device

  // Page B plays a track only the two Node devices hold, with bytes from both.
  // Played from a search that shows it alone: a queue with no track after it, so the player
  // prefetches nothing through the node (which would then hold the track too).
  const play = async (page: Page, title: string, sha: string) => {
    await page.click('[data-testid=nav-library]')
    await page.fill('[data-testid=search-input]', title)
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1)
    await page.locator(`[data-testid=track-row][data-sha256="${sha}"]`).dblclick()
    await page.fill('[data-testid=search-input]', '')
  }
  phase('both pages linked to both nodes')
  await play(B.page, 'Noise 41', shared)
  await B.page.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 })
  t.regex(await B.page.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search), /[?&]from=page(&|$)/)
  const sources = await until(async () => {
    const s = await B.page.locator('[data-testid=stream-source]').evaluateAll((els) => els.map((e) => ({ device: e.getAttribute('data-device'), bytes: e.querySelector('span')?.textContent ?? '' })))
    return s.length === 2 && s.every((x) => !/^\(0 B\)$/.test(x.bytes)) ? s : undefined
  }, 30_000, 200)
  t.deepEqual(sources.map((s) => s.device).sort(), ['home-pc', 'laptop'], JSON.stringify(sources))

  phase('page B played from both nodes')
  // Page B plays a track only laptop holds and keeps it whole; with laptop stopped, home-pc fetches it from page B alone.
  await play(B.page, 'Noise 42', only)
  await until(async () => ((await heldRecord(B.page, only))?.complete ? true : undefined), 30_000, 200)
  await B.page.evaluate(() => (window as unknown as Hook).__djcloud.audio.pause())
  await b.stop()
  const fetched = await until(async () => {
    const r = await api('A', '/api/fetch', { sha256: only })
    return r.status === 200 ? (r.body as { path: string; sources: Record<string, number> }) : undefined
  }, 30_000, 300).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  t.deepEqual(Object.keys(fetched.sources), ['phone-b'])
  t.is(await sha256Of(fetched.path), only)

  phase('home-pc fetched from page B')
  // Laptop is down. Page A makes a playlist of both tracks: home-pc takes it in, and page B takes it from home-pc.
  await A.page.click('[data-testid=nav-playlists]')
  await A.page.fill('[data-testid=playlist-create-name]', 'road')
  await A.page.click('[data-testid=playlist-create]')
  await A.page.click('[data-testid=nav-library]')
  await A.page.selectOption('[data-testid=add-target]', 'road')
  for (const sha of [shared, only]) await A.page.locator(`[data-testid=track-row][data-sha256="${sha}"] [data-testid=add-to-playlist]`).click()
  const idsA = await until(async () => {
    const own = (await keptPlaylists(A.page))?.own.road?.entries.map((e) => e.id)
    return own?.length === 2 ? own : undefined
  }, 30_000, 200)
  await nodeShows('A', 'road', idsA)
  const inB = await until(async () => {
    const got = (await keptPlaylists(B.page))?.others[keyA]?.playlists.road?.edits.entries.map((e) => e.id)
    return got?.length === 2 ? got : undefined
  }, 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  t.deepEqual(inB, idsA, 'page B\'s view holds page A\'s entries, passed on by home-pc')
  const [sharedEntry, onlyEntry] = idsA as [string, string]

  phase("page A's edits in home-pc and page B")
  // Page B removes an entry page A added: its own edit, on an entry it knows through home-pc.
  await B.page.click('[data-testid=nav-playlists]')
  await B.page.click('[data-testid=playlist-item][data-name="road"]')
  await B.page.locator(`[data-testid=playlist-entry][data-entry="${onlyEntry}"] [data-testid=playlist-entry-remove]`).click()
  await nodeShows('A', 'road', [sharedEntry])
  t.deepEqual((await keptPlaylists(B.page))?.own.road?.entries, [], 'the removal is page B\'s edit, it added nothing')
  await until(async () => ((await keptPlaylists(A.page))?.others[keyB]?.playlists.road?.edits.removed.includes(onlyEntry) ? true : undefined), 30_000, 200)

  phase("page B removed page A's entry")
  // Both pages closed: laptop comes back and gets both pages' edits from home-pc, no page linked to it.
  await A.page.close()
  await B.page.close()
  b = await serveNode(t, homeB!, laptopArgs, { timings })
  nodes.B = b
  await nodeShows('B', 'road', [sharedEntry])
  t.deepEqual((await linkedTo('B')).map((d) => d.name), ['home-pc'])
  const list = (await api('B', '/api/playlists')).body.playlists as Array<{ name: string; editedBy: number }>
  t.like(list.find((p) => p.name === 'road'), { editedBy: 2 }, 'page A\'s and page B\'s edits, no Node device\'s')

  phase("laptop got the pages' edits from home-pc")
  // The pages again (their devices are kept), linked to both nodes.
  const reopen = async (p: typeof A) => {
    const page = await p.context.newPage()
    page.on('pageerror', (e) => errors.push(e.message))
    return page
  }
  const pageA = await reopen(A)
  const pageB = await reopen(B)
  await Promise.all([openAsDevice(pageA, a.info.api, 2, nodes), openAsDevice(pageB, a.info.api, 2, nodes)])

  phase('pages linked again')
  // Page A revoked from home-pc's admin API: its links drop on both nodes, its signaling is refused.
  const revoked = await api('A', '/api/devices/revoke', { device: keyA })
  t.is(revoked.status, 200, JSON.stringify(revoked.body))
  await waitForLinks(pageA, 0, nodes)
  for (const n of ['A', 'B'] as const) {
    await until(async () => ((await linkedTo(n)).some((d) => d.name === 'phone-a') ? undefined : true), 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  }
  // Its next signaling, with the token pairing gave it (kept in IndexedDB), is refused by the node.
  const signaled = await pageA.evaluate(async () => {
    const kept = await new Promise<{ token: string }>((resolve, reject) => {
      const open = indexedDB.open('djcloud-device')
      open.onerror = () => reject(open.error)
      open.onsuccess = () => {
        const get = open.result.transaction('device').objectStore('device').get('self')
        get.onsuccess = () => resolve(get.result)
        get.onerror = () => reject(get.error)
      }
    })
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/signal`)
    return new Promise<string>((resolve) => {
      ws.onopen = () => ws.send(JSON.stringify({ token: kept.token }))
      ws.onmessage = (ev) => resolve(String(ev.data))
      ws.onclose = (ev) => resolve(`closed ${ev.code}`)
    })
  })
  t.regex(signaled, /failure reason.*not accepted/)

  phase('page A revoked')
  // It gets nothing more, and nothing it edits is taken in; page B keeps linking and editing.
  const seenBefore = (await keptPlaylists(pageA))?.others[keyB]?.seq
  t.true(seenBefore !== undefined, 'page A took page B\'s root in while it counted')
  await pageA.click('[data-testid=nav-playlists]')
  await pageA.fill('[data-testid=playlist-create-name]', 'after')
  await pageA.click('[data-testid=playlist-create]')
  await until(async () => ((await keptPlaylists(pageA))?.own.after ? true : undefined), 30_000, 200)
  await pageB.click('[data-testid=nav-library]')
  await pageB.selectOption('[data-testid=add-target]', 'road')
  await pageB.locator(`[data-testid=track-row][data-sha256="${only}"] [data-testid=add-to-playlist]`).click()
  const idsB = await until(async () => {
    const own = (await keptPlaylists(pageB))?.own.road?.entries.map((e) => e.id)
    return own?.length === 1 ? own : undefined
  }, 30_000, 200)
  // Page A's entries are dropped with it; page B's stays.
  for (const n of ['A', 'B'] as const) await nodeShows(n, 'road', idsB)
  for (const n of ['A', 'B'] as const) {
    t.is((await api(n, '/api/playlists/after')).status, 404, 'the revoked page\'s edit reached no node')
    t.true((await linkedTo(n)).some((d) => d.name === 'phone-b'))
  }
  t.is((await keptPlaylists(pageA))?.others[keyB]?.seq, seenBefore, 'the revoked page took nothing more in')
  // The nodes never tried to punch to or relay for a browser (it has no peer port: it offers WebRTC itself).
  for (const n of [a, nodes.B] as const) t.notRegex(n.stderr(), /cannot reach phone-/)
  phase('done')
  t.deepEqual(errors, [])
})
