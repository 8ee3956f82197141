// Installable and offline, end to end in Debian's Chromium against a real
// in-process node on 127.0.0.1 serving a copy of the built UI (dist/ui):
// the manifest and its icons, Chromium's own installability check, the
// service worker in control, the library and playlists of the last visit
// shown with the node stopped, a new build's worker offered and taken, and
// the page without any service worker support.
import test, { type ExecutionContext } from 'ava'
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { startNode, type Node } from '../../src/node/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { pngSize } from '../../src/ui-build/index.ts'
import { API_CACHE, SHELL_CACHE_PREFIX } from '../../src/ui/index.ts'
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const BUILT_UI = new URL('../../dist/ui/', import.meta.url).pathname
const ARTIFACTS = new URL('../../test-artifacts/e2e/', import.meta.url).pathname
const TITLES = ['Offline Alpha', 'Offline Beta', 'Offline Gamma']

/** A copy of dist/ui in the test's temp dir (so a test can make a "new build" of it). */
async function copyUi(root: string, name: string): Promise<string> {
  const ok = await stat(join(BUILT_UI, 'sw.js')).then((s) => s.isFile(), () => false)
  if (!ok) throw new Error(`${BUILT_UI} has no sw.js: run "node bin/build.js" first`)
  const dir = join(root, name)
  await cp(BUILT_UI, dir, { recursive: true })
  return dir
}

interface Served {
  node: Node
  home: string
  base: string
  token: string
}

/** One node (no tracker, no DHT) serving `uiDir`; `apiPort` to come back on the same origin. */
async function serve(t: ExecutionContext, home: string, uiDir: string, apiPort = 0): Promise<Served> {
  const node = await startNode({ home, peerPort: 0, apiPort, peerHost: '127.0.0.1', tracker: false, dht: false, analyze: false, uiDir })
  t.teardown(() => node.close())
  return { node, home, base: node.info.api, token: (await readApiToken(home))! }
}

async function withTracks(t: ExecutionContext, root: string): Promise<{ home: string }> {
  const [home] = await makeHomes(root, ['laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  for (const [i, title] of TITLES.entries()) await writeTrack(join(music, `${title}.wav`), { title, artist: 'PWA' }, 40 + i)
  const n = await serve(t, home!, await copyUi(root, 'scan-ui'))
  const post = (path: string, body: unknown) =>
    fetch(n.base + path, { method: 'POST', headers: { authorization: `Bearer ${n.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const scan = await post('/api/scan', { roots: [music] })
  if (scan.status !== 200) throw new Error(`scan: ${scan.status} ${await scan.text()}`)
  const made = await post('/api/playlists', { name: 'Offline Set' })
  if (made.status >= 300) throw new Error(`playlist: ${made.status} ${await made.text()}`)
  await n.node.close()
  return { home: home! }
}

/**
 * Chromium with a profile of its own in a temp dir: a persistent context, as
 * a phone's browser is (Chromium never offers to install from an incognito
 * one, which newContext() makes).
 */
async function browser(t: ExecutionContext, root: string, opts: { noServiceWorker?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { chromium } = await import('playwright-core')
  const context = await chromium.launchPersistentContext(join(root, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  // A browser without service workers (an old one, or one that turned them off).
  if (opts.noServiceWorker) await context.addInitScript(() => void delete (Navigator.prototype as { serviceWorker?: unknown }).serviceWorker)
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  return { context, page, errors }
}

const rowCount = (page: Page) => page.locator('[data-testid=track-row]').count()
const controlled = (page: Page) => page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 })
const cacheNames = (page: Page) => page.evaluate(() => caches.keys())
const keptUrls = (page: Page, name: string) => page.evaluate(async (n) => (await (await caches.open(n)).keys()).map((r) => r.url), name)

test.serial('installable: the manifest and its icons are served and valid, and Chromium finds nothing missing', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const { home } = await withTracks(t, root)
  const n = await serve(t, home, await copyUi(root, 'ui'))

  const res = await fetch(`${n.base}/manifest.webmanifest`)
  t.is(res.status, 200)
  t.is(res.headers.get('content-type'), 'application/manifest+json; charset=utf-8')
  const manifest = (await res.json()) as Record<string, unknown> & { icons: Array<{ src: string; sizes: string; type: string; purpose: string }> }
  t.like(manifest, { name: 'djcloud', short_name: 'djcloud', start_url: '/', scope: '/', display: 'standalone', theme_color: '#1c1f26', background_color: '#14161b' })
  t.deepEqual(manifest.icons.map((i) => `${i.sizes} ${i.purpose}`).sort(), ['192x192 any', '512x512 any', '512x512 maskable'])
  for (const icon of manifest.icons) {
    const r = await fetch(n.base + icon.src)
    t.is(r.status, 200, icon.src)
    t.is(r.headers.get('content-type'), icon.type, icon.src)
    t.is(icon.type, 'image/png')
    const size = pngSize(new Uint8Array(await r.arrayBuffer()))
    t.is(`${size?.width}x${size?.height}`, icon.sizes, icon.src)
  }

  const { page, errors } = await browser(t, root)
  await page.goto(`${n.base}/?test=1`)
  t.true(await page.evaluate(() => window.isSecureContext), 'http://127.0.0.1 is a secure context')
  t.is(await page.locator('link[rel=manifest]').getAttribute('href'), '/manifest.webmanifest')
  await controlled(page)
  const cdp = await page.context().newCDPSession(page)
  const app = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] }
  t.is(app.url, `${n.base}/manifest.webmanifest`)
  t.deepEqual(app.errors, [], 'Chromium parses the manifest without errors')
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] }
  t.deepEqual(installabilityErrors, [], 'Chromium finds the app installable')
  t.deepEqual(errors, [])
})

test.serial('offline: the worker controls the page; with the node stopped a reload shows the last library and playlists under an offline banner', async (t) => {
  t.timeout(150_000)
  const root = await tempDir(t)
  const { home } = await withTracks(t, root)
  const n = await serve(t, home, await copyUi(root, 'ui'))
  const { page, errors } = await browser(t, root)
  await page.goto(`${n.base}/?test=1`)
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=track-row]').length === k, TITLES.length, { timeout: 30_000 })
  t.is(await page.locator('[data-testid=offline-banner]').count(), 0, 'online: no offline banner')
  await controlled(page)
  // The first visit's reads are made again once the worker is in control, and kept.
  const library = `${n.base}/api/library?view=compact`
  await until(async () => ((await keptUrls(page, API_CACHE)).includes(library) && (await keptUrls(page, API_CACHE)).includes(`${n.base}/api/playlists`) ? true : undefined), 30_000, 200)
  // Only the library view's reads are kept: nothing else of the API (the health check, sessions, the circle).
  for (const url of await keptUrls(page, API_CACHE)) t.regex(new URL(url).pathname, /^\/api\/(library|plays\/counts|playlists(\/[^/]+)?)$/, url)
  // The kept page never holds the API token the node put in the live one.
  const shell = (await cacheNames(page)).find((c) => c.startsWith(SHELL_CACHE_PREFIX))!
  t.truthy(shell)
  const keptPage = await page.evaluate(async (name) => (await (await caches.open(name)).match('/'))?.text(), shell)
  t.truthy(keptPage)
  t.true(await page.evaluate(() => document.querySelector('meta[name=djcloud-token]') !== null), 'the live page has the token')
  t.false(keptPage!.includes(n.token), 'the kept page has no token')
  t.false(keptPage!.includes('djcloud-token'))

  await n.node.close()
  t.is((await fetch(`${n.base}/`).catch(() => null))?.status, undefined, 'the node is gone')
  await page.reload()
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=track-row]').length === k, TITLES.length, { timeout: 30_000 })
  t.deepEqual((await page.locator('[data-testid=track-row]').allTextContents()).map((x) => TITLES.find((title) => x.includes(title))).sort(), TITLES)
  t.regex((await page.locator('[data-testid=offline-banner]').textContent()) ?? '', /^offline: showing the library as of .+\d/)
  t.is(await page.locator('[data-testid=error-banner]').count(), 0, 'the node being away is the offline banner, not an error')
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'pwa-offline.png') })
  await page.click('[data-testid=nav-playlists]')
  await page.waitForSelector('[data-testid=playlist-item][data-name="Offline Set"]', { timeout: 10_000 })
  t.is(await rowCount(page), 0)
  t.deepEqual(errors, [])
})

test.serial("a new build's worker waits beside the running one, is offered as \"reload for the new version\", and takes over after the reload", async (t) => {
  t.timeout(150_000)
  const root = await tempDir(t)
  const { home } = await withTracks(t, root)
  const first = await copyUi(root, 'ui-1')
  const n = await serve(t, home, first)
  const port = Number(new URL(n.base).port)
  const { page, errors } = await browser(t, root)
  await page.goto(`${n.base}/?test=1`)
  await controlled(page)
  const shells = async () => (await cacheNames(page)).filter((c) => c.startsWith(SHELL_CACHE_PREFIX)).sort()
  const [v1] = await until(async () => ((await shells()).length === 1 ? shells() : undefined), 30_000, 200)
  const version = v1!.slice(SHELL_CACHE_PREFIX.length)
  t.is(await page.locator('[data-testid=update-banner]').count(), 0, 'nothing to offer on the first visit')

  // The next build: the same files under another build id, as a rebuild after a change gives.
  const second = await copyUi(root, 'ui-2')
  const sw = await readFile(join(second, 'sw.js'), 'utf8')
  t.true(sw.includes(JSON.stringify(version)), 'the worker carries its build id')
  const next = version.split('').reverse().join('')
  await writeFile(join(second, 'sw.js'), sw.replaceAll(JSON.stringify(version), JSON.stringify(next)))
  await n.node.close()
  const again = await serve(t, home, second, port) // the same origin, as after upgrading djcloud

  await page.reload()
  await page.waitForSelector('[data-testid=update-banner]', { timeout: 30_000 })
  t.is(await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.waiting?.state)), 'installed', 'the new worker waits')
  t.deepEqual(await shells(), [`${SHELL_CACHE_PREFIX}${version}`, `${SHELL_CACHE_PREFIX}${next}`].sort(), 'both builds are kept while the old one runs')
  await page.click('[data-testid=update-reload]')
  await until(async () => {
    const s = await shells()
    return s.length === 1 && s[0] === `${SHELL_CACHE_PREFIX}${next}` ? true : undefined
  }, 30_000, 200)
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=track-row]').length === k, TITLES.length, { timeout: 30_000 })
  t.is(await page.locator('[data-testid=update-banner]').count(), 0, 'after the reload the new build runs: nothing to offer')
  t.is(await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.waiting ?? null)), null)
  t.truthy(again.node)
  t.deepEqual(errors, [])
})

test.serial('a browser without service workers: the same page, the library loads, nothing fails', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const { home } = await withTracks(t, root)
  const n = await serve(t, home, await copyUi(root, 'ui'))
  const { page, errors } = await browser(t, root, { noServiceWorker: true })
  await page.goto(`${n.base}/?test=1`)
  t.false(await page.evaluate(() => 'serviceWorker' in navigator))
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=track-row]').length === k, TITLES.length, { timeout: 30_000 })
  t.is(await page.locator('[data-testid=error-banner]').count(), 0)
  t.is(await page.locator('[data-testid=offline-banner]').count(), 0)
  t.deepEqual(await cacheNames(page), [], 'nothing kept')
  t.deepEqual(errors, [])
})
