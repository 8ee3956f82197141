/// <reference lib="dom" />
// A browser paired as a device of the circle, running the node's web UI as
// that device (docs/browser.md, "The page as a device"), for the end-to-end
// tests: a new Chromium context (its own IndexedDB and OPFS) pairs from the
// admin page's one-time link, then opens the node's UI, whose app starts the
// device's runtime; and what the page keeps, read from its IndexedDB.
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { newPairLink } from './pair-link.ts'
import { withLogs, type NodeProcess } from './node-process.ts'

export interface PairedBrowser {
  context: BrowserContext
  page: Page
}

/** A new context paired as `name` from the admin page's link; the page's uncaught errors go to `errors`. */
export async function pairBrowser(browser: Browser, admin: Page, name: string, errors: string[]): Promise<PairedBrowser> {
  const link = await newPairLink(admin)
  const context = await browser.newContext()
  const page = await context.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(link)
  await page.waitForSelector('[data-testid=key-kind]')
  await page.fill('[data-testid=pair-name]', name)
  await page.click('[data-testid=pair-submit]')
  await page.waitForSelector('[data-testid=pair-done]')
  return { context, page }
}

/**
 * Opens the node's UI at `origin` (`?test=1`: the player's hook) in a paired
 * page and waits for its service worker and for `links` WebRTC links on its
 * Devices page (the app started the runtime). A timeout shows the nodes' logs.
 */
export async function openAsDevice(page: Page, origin: string, links: number, nodes: Record<string, NodeProcess>): Promise<void> {
  await page.goto(`${origin}/?test=1`)
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 })
  await page.click('[data-testid=nav-devices]')
  await waitForLinks(page, links, nodes)
}

/** Waits until the page's Devices page (open) lists `links` links of its own. */
export async function waitForLinks(page: Page, links: number, nodes: Record<string, NodeProcess>): Promise<void> {
  await page
    .waitForFunction((n) => document.querySelectorAll('[data-testid=page-link]').length === n, links, { timeout: 60_000 })
    .catch((err: Error) => Promise.reject(withLogs(err, nodes)))
}

/** The page's store's index record of a track (IndexedDB `djcloud-tracks`), or null. */
export function heldRecord(page: Page, sha256: string): Promise<{ complete: boolean; pinned: boolean } | null> {
  return page.evaluate(
    (s) =>
      new Promise<{ complete: boolean; pinned: boolean } | null>((resolve) => {
        const open = indexedDB.open('djcloud-tracks')
        open.onerror = () => resolve(null)
        open.onsuccess = () => {
          const get = open.result.transaction('tracks').objectStore('tracks').get(s)
          get.onsuccess = () => resolve(get.result ? { complete: get.result.complete === true, pinned: get.result.pinned === true } : null)
          get.onerror = () => resolve(null)
        }
      }),
    sha256,
  )
}

/** What the page's playlists keep (IndexedDB `djcloud-tracks-playlists`, src/browser/playlists.ts), or null before any. */
export interface KeptPlaylists {
  /** The page's own edits, by playlist name. */
  own: Record<string, { entries: Array<{ id: string }> }>
  /** Edits taken in from other devices, by device key (hex). */
  others: Record<string, { name: string; seq: number; playlists: Record<string, { seq: number; edits: { entries: Array<{ id: string }>; removed: string[] } }> }>
}

export function keptPlaylists(page: Page): Promise<KeptPlaylists | null> {
  return page.evaluate(
    () =>
      new Promise<KeptPlaylists | null>((resolve) => {
        const open = indexedDB.open('djcloud-tracks-playlists')
        open.onerror = () => resolve(null)
        open.onsuccess = () => {
          if (!open.result.objectStoreNames.contains('playlists')) return resolve(null)
          const get = open.result.transaction('playlists').objectStore('playlists').get('state')
          get.onsuccess = () => resolve((get.result as KeptPlaylists | undefined) ?? null)
          get.onerror = () => resolve(null)
        }
      }),
  )
}
