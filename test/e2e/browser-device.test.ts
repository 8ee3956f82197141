/// <reference lib="dom" />
// The paired browser's web UI runs as a device (docs/browser.md, "The page
// as a device"), end to end in Debian's Chromium on loopback with three
// `djcloud serve` processes (home-pc runs the circle's tracker and serves the
// page; laptop holds the track too; nas holds nothing): a second browser
// context pairs from the admin page's link and opens the node's UI; the app
// starts the runtime, its Devices page lists its own WebRTC links (and sets
// the budget of its store), and the
// player's <audio> plays a track held by home-pc and laptop from the swarm
// (its /stream/ URL marked from=page) with both listed as its live sources.
// The page keeps the track it played, and once the two holders are gone the
// nas fetches it from the page alone (/api/fetch, SHA-256 checked).
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { heldRecord, openAsDevice, pairBrowser } from '../helpers/paired-app.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

interface Hook {
  __djcloud: { audio: HTMLAudioElement }
}

test('a paired browser\'s UI runs as a device: links over WebRTC, plays from the swarm with live sources, and serves the track it kept', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [homeA, homeB, homeC] = await makeHomes(root, ['home-pc', 'laptop', 'nas'])
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeNoiseWav(join(music, 'noise.wav'), 3 * 1024 * 1024, 11)
  const songSha = createHash('sha256').update(await readFile(song)).digest('hex')
  await scanHome(homeA!, music)
  await scanHome(homeB!, music)
  const timings = { rosterReload: 200 }
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const b = await serveNode(t, homeB!, ['--tracker', a.info.tracker!], { timings })
  const c = await serveNode(t, homeC!, ['--tracker', a.info.tracker!], { timings })
  const nodes: Record<string, NodeProcess> = { A: a, B: b, C: c }
  const base = a.info.api

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const errors: string[] = []

  // The admin page makes a link; another context (its own IndexedDB and OPFS) pairs from it.
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(base)
  await admin.click('[data-testid=nav-devices]')
  const { page: phone } = await pairBrowser(browser, admin, 'phone', errors)

  // The node's UI in the paired browser: the app starts the device; its Devices page shows its own links.
  await openAsDevice(phone, base, 3, nodes)
  const linked = await phone.locator('[data-testid=page-link]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))
  t.deepEqual(linked.sort(), ['home-pc', 'laptop', 'nas'])
  t.regex((await phone.locator('[data-testid=page-link]').first().textContent())!, /WebRTC data channel/)
  // Its store's budget: the default until set, then kept.
  t.is(await phone.locator('[data-testid=page-budget]').inputValue(), '512')
  await phone.fill('[data-testid=page-budget]', '256')
  await phone.click('[data-testid=page-budget-save]')
  const kept = () =>
    phone.evaluate(
      () =>
        new Promise<unknown>((resolve) => {
          const open = indexedDB.open('djcloud-tracks')
          open.onsuccess = () => {
            const get = open.result.transaction('settings').objectStore('settings').get('budget')
            get.onsuccess = () => resolve(get.result)
          }
        }),
    )
  t.is(await until(async () => ((await kept()) === 256 * 1024 * 1024 ? 256 * 1024 * 1024 : undefined), 10_000, 100), 256 * 1024 * 1024)

  // A track home-pc and laptop hold plays from the swarm, both feeding it.
  await phone.click('[data-testid=nav-library]')
  await phone.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  await phone.locator('[data-testid=track-row]').first().dblclick()
  await phone.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 })
  t.regex(await phone.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search), /[?&]from=page(&|$)/)
  const sources = await until(async () => {
    const s = await phone.locator('[data-testid=stream-source]').evaluateAll((els) => els.map((e) => ({ device: e.getAttribute('data-device'), bytes: e.querySelector('span')?.textContent ?? '' })))
    return s.length === 2 && s.every((x) => !/^\(0 B\)$/.test(x.bytes)) ? s : undefined
  }, 30_000, 200)
  t.deepEqual(sources.map((s) => s.device).sort(), ['home-pc', 'laptop'], JSON.stringify(sources))

  // The page kept what it played: with both holders gone, the nas fetches it from the page alone.
  await until(async () => ((await heldRecord(phone, songSha))?.complete ? true : undefined), 30_000, 200)
  await b.stop()
  await a.stop()
  const tokenC = (await readApiToken(homeC!))!
  const fetched = await until(async () => {
    const res = await fetch(`${c.info.api}/api/fetch`, { method: 'POST', headers: { authorization: `Bearer ${tokenC}`, 'content-type': 'application/json' }, body: JSON.stringify({ sha256: songSha }) })
    return res.status === 200 ? ((await res.json()) as { path: string; sources: Record<string, number> }) : undefined
  }, 30_000, 300).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  t.deepEqual(Object.keys(fetched.sources), ['phone'])
  t.is(createHash('sha256').update(await readFile(fetched.path)).digest('hex'), songSha)
  t.deepEqual(errors, [])
})
