// A node's web UI open in Debian's Chromium for the end-to-end tests: one
// page at a laptop-sized viewport, with every uncaught error in it collected
// (the tests end by asserting there were none). The browser is closed at
// teardown.
import type { ExecutionContext } from 'ava'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './chromium.ts'

export interface OpenPage {
  browser: Browser
  page: Page
  /** Messages of the page's uncaught errors; pages opened later may push theirs here too. */
  errors: string[]
}

/** Launches Chromium and opens `url` in a 1280x800 page. */
export async function openPage(t: ExecutionContext, url: string): Promise<OpenPage> {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(url)
  return { browser, page, errors }
}
