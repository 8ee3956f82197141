/// <reference lib="dom" />
// A page at a node's own UI origin (its address and CSP, as a phone's page
// has: Chromium's local network checks and the CSP then allow its WebSocket
// to /api/signal) with the browser bundle (dist/browser) and its chunks
// loaded as `window.dj`; Playwright answers those files, everything else is
// the node's.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Page } from 'playwright-core'

const build = (await import('../../bin/build.js' as string)) as { buildBrowser(): Promise<void>; BROWSER_BUNDLE: string }

/** Builds the bundle when its sources are newer (for test.before). */
export const buildBrowserBundle = (): Promise<void> => build.buildBrowser()

export async function pageAtNode(page: Page, origin: string): Promise<void> {
  const dir = dirname(build.BROWSER_BUNDLE)
  const files = new Set(await readdir(dir))
  await page.route(`${origin}/bundle-test/**`, async (r) => {
    const name = new URL(r.request().url()).pathname.slice('/bundle-test/'.length)
    if (name === 'entry.js') return r.fulfill({ contentType: 'text/javascript', body: "import * as dj from './djcloud-device.js'; window.dj = dj" })
    if (!files.has(name)) return r.fulfill({ status: 404, body: '' })
    return r.fulfill({ contentType: 'text/javascript', body: await readFile(join(dir, name)) })
  })
  // tsx keeps function names, and functions handed to page.evaluate call __name.
  await page.addInitScript({ content: 'window.__name = (f) => f' })
  await page.goto(`${origin}/`)
  await loadBundle(page)
}

/** Loads the bundle as `window.dj` into a page pageAtNode set up (again, after a reload). */
export async function loadBundle(page: Page): Promise<void> {
  await page.addScriptTag({ url: '/bundle-test/entry.js', type: 'module' })
  await page.waitForFunction(() => 'dj' in window)
}
