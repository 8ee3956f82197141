// The admin page's "Pair a phone or browser": press it and take the new
// one-time link (a link already shown is waited past, so it is never reused).
import type { Page } from 'playwright-core'

export async function newPairLink(admin: Page): Promise<string> {
  const before = (await admin.locator('[data-testid=pair-browser-link]').getAttribute('href', { timeout: 100 }).catch(() => null)) ?? undefined
  await admin.click('[data-testid=pair-browser-start]')
  await admin.waitForFunction((old) => {
    const a = document.querySelector('[data-testid=pair-browser-link]')
    return a && a.getAttribute('href') !== old
  }, before)
  return (await admin.locator('[data-testid=pair-browser-link]').getAttribute('href'))!
}
