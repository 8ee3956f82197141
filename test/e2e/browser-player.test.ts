// The UI's player on a browser device, in Debian's Chromium against a real
// in-process node serving the built UI (dist/ui) with its service worker:
// once the device's runtime registers its streams (stood in for here through
// the ?test hook, as src/rtc's runtime is not in the page yet), the player's
// /stream/ URL carries from=page and its sources list is the page's, not
// the node's. With no page serving the track the worker hands the request to
// the node and the track still plays. Without a runtime, nothing changes:
// the URL is unmarked and the worker never asks a page.
import test, { type ExecutionContext } from 'ava'
import { cp, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { startNode } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

const BUILT_UI = new URL('../../dist/ui/', import.meta.url).pathname

interface Hook {
  __djcloud: { audio: HTMLAudioElement; setPageStreams(fn: (() => unknown[]) | null): void }
}

async function nodeWithTrack(t: ExecutionContext): Promise<{ base: string; root: string }> {
  const root = await tempDir(t)
  const ok = await stat(join(BUILT_UI, 'sw.js')).then((s) => s.isFile(), () => false)
  if (!ok) throw new Error(`${BUILT_UI} has no sw.js: run "node bin/build.js" first`)
  const uiDir = join(root, 'ui')
  await cp(BUILT_UI, uiDir, { recursive: true })
  const [home] = await makeHomes(root, ['laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'Page Fed.wav'), { title: 'Page Fed', artist: 'Browser' }, 30)
  const node = await startNode({ home: home!, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: false, dht: false, analyze: false, uiDir })
  t.teardown(() => node.close())
  const token = (await readApiToken(home!))!
  const scan = await fetch(`${node.info.api}/api/scan`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ roots: [music] }) })
  if (scan.status !== 200) throw new Error(`scan: ${scan.status} ${await scan.text()}`)
  return { base: node.info.api, root }
}

async function openUi(t: ExecutionContext, root: string, base: string): Promise<{ page: Page; errors: string[] }> {
  const { chromium } = await import('playwright-core')
  const context = await chromium.launchPersistentContext(join(root, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`${base}/?test=1`)
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 })
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  return { page, errors }
}

const play = async (page: Page) => {
  await page.locator('[data-testid=track-row]').first().dblclick()
  await page.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 })
  return page.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search)
}

test.serial('on a browser device the player streams with from=page and lists the sources the page reports', async (t) => {
  t.timeout(120_000)
  const { base, root } = await nodeWithTrack(t)
  const { page, errors } = await openUi(t, root, base)
  await page.evaluate(() => {
    const hook = (window as unknown as Hook).__djcloud
    // What servePlayback(...).streams() reports, for whatever track the element plays.
    hook.setPageStreams(() => {
      const sha256 = new URL(hook.audio.src, location.href).pathname.split('/').pop()
      return [{ sha256, bytes: 5000, sources: [{ device: 'nas', name: 'nas', bytes: 3 * 1024 * 1024, rate: 512 * 1024 }, { device: 'home-pc', name: 'home-pc', bytes: 1024 * 1024, rate: 0 }] }]
    })
  })
  // No page answers for the track here (the stand-in serves no bytes): the worker hands it to the node, and it plays.
  t.regex(await play(page), /[?&]from=page(&|$)/)
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=stream-source]').length === 2, undefined, { timeout: 15_000 })
  t.deepEqual(await page.locator('[data-testid=stream-source]').evaluateAll((els) => els.map((e) => e.getAttribute('data-device'))), ['nas', 'home-pc'])
  t.regex((await page.locator('[data-testid=stream-source]').first().textContent()) ?? '', /^nas\b/)
  t.deepEqual(errors, [])
})

test.serial('without a browser device runtime the stream URL is unmarked and the node feeds the player', async (t) => {
  t.timeout(120_000)
  const { base, root } = await nodeWithTrack(t)
  const { page, errors } = await openUi(t, root, base)
  t.notRegex(await play(page), /from=page/)
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=stream-source]').length >= 1, undefined, { timeout: 15_000 })
  t.deepEqual(await page.locator('[data-testid=stream-source]').evaluateAll((els) => els.map((e) => e.getAttribute('data-device'))), ['laptop'])
  t.deepEqual(errors, [])
})
