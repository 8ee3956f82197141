/// <reference lib="dom" />
// A paired browser plays what it keeps with its node offline (docs/browser.md,
// "Offline"), end to end in Debian's Chromium on loopback with one real
// `djcloud serve` (home-pc: the circle's tracker, the page, two tracks): the
// page plays one track from the swarm (now held whole in OPFS) and pins it
// from the player; then the node is stopped and the page reloaded: the
// service worker's kept library shows, the kept track plays from OPFS (the
// runtime starts without signaling), and the other one says at once that it
// cannot play offline.
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { heldRecord, openAsDevice, pairBrowser } from '../helpers/paired-app.ts'
import { serveNode } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'

interface Hook {
  __djcloud: { audio: HTMLAudioElement }
}

test('a paired browser plays the track it keeps with its node stopped, pins it from the player, and says a track it does not keep cannot play offline', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const music = join(root, 'music')
  await mkdir(music)
  const kept = await writeNoiseWav(join(music, 'kept.wav'), 2 * 1024 * 1024, 21)
  const other = await writeNoiseWav(join(music, 'other.wav'), 2 * 1024 * 1024, 22)
  const keptSha = createHash('sha256').update(await readFile(kept)).digest('hex')
  const otherSha = createHash('sha256').update(await readFile(other)).digest('hex')
  await scanHome(home!, music)
  const a = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings: { rosterReload: 200 } })
  const base = a.info.api

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(base)
  await admin.click('[data-testid=nav-devices]')
  const { page: phone } = await pairBrowser(browser, admin, 'phone', errors)
  const logs: string[] = []
  phone.on('console', (m) => logs.push(m.text()))

  // Online: linked to home-pc, it plays the track from the swarm and keeps it whole.
  await openAsDevice(phone, base, 1, { A: a })
  await phone.click('[data-testid=nav-library]')
  await phone.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 2, undefined, { timeout: 30_000 })
  await phone.locator(`[data-testid=track-row][data-sha256="${keptSha}"]`).dblclick()
  await phone.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 })
  t.regex(await phone.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search), /[?&]from=page(&|$)/)
  await phone.waitForSelector('[data-testid=page-held][data-held=whole]', { timeout: 30_000 })
  t.is(await phone.locator('[data-testid=page-held]').getAttribute('data-pinned'), 'no')
  t.deepEqual(await heldRecord(phone, keptSha), { complete: true, pinned: false })

  // Pinned from the player: kept in the store's index.
  await phone.click('[data-testid=page-pin]')
  await phone.waitForSelector('[data-testid=page-held][data-pinned=yes]', { timeout: 10_000 })
  t.deepEqual(await heldRecord(phone, keptSha), { complete: true, pinned: true })
  t.is(await heldRecord(phone, otherSha), null, 'the other track was never played here')
  await phone.evaluate(() => (window as unknown as Hook).__djcloud.audio.pause())

  // The node is gone: the reload is the worker's kept page and library, and the runtime starts without it.
  await a.stop()
  t.is((await fetch(`${base}/`).catch(() => null))?.status, undefined, 'the node is gone')
  await phone.reload()
  await phone.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 2, undefined, { timeout: 30_000 })
  await phone.waitForSelector('[data-testid=offline-banner]', { timeout: 30_000 })
  await phone.locator(`[data-testid=track-row][data-sha256="${keptSha}"]`).dblclick()
  await phone.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 }).catch(async (err: Error) => {
    const state = await phone.evaluate(() => ({ src: (window as unknown as Hook).__djcloud.audio.src, error: document.querySelector('[data-testid=player-error]')?.textContent, held: document.querySelector('[data-testid=page-held]')?.outerHTML }))
    throw new Error(`${err.message}: ${JSON.stringify(state)}\n${logs.join('\n')}`)
  })
  t.regex(await phone.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search), /[?&]from=page(&|$)/)
  t.is(await phone.locator('[data-testid=page-held]').getAttribute('data-held'), 'whole')
  t.is(await phone.locator('[data-testid=page-held]').getAttribute('data-pinned'), 'yes')

  // A track it does not keep: a clear message, not a hang.
  await phone.locator(`[data-testid=track-row][data-sha256="${otherSha}"]`).dblclick()
  await phone.waitForSelector('[data-testid=player-error]', { timeout: 30_000 })
  t.regex((await phone.locator('[data-testid=player-error]').textContent())!, /not kept in this browser.*cannot play offline/i)
  t.is(await phone.locator('[data-testid=page-held]').getAttribute('data-held'), 'none')
  t.deepEqual(errors, [])
})
