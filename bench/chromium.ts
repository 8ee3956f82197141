/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (Functions handed to page.evaluate run in the page: they need the DOM's types.)
// Debian's Chromium driven by playwright-core, for the end-to-end tests and
// bench/ui. The flags keep it off the network (this machine's closed network
// refuses Chromium's background connections; tests must not reach out
// anyway) and let audio start without a user gesture, as a click would.
import type { Browser } from 'playwright-core'

export const CHROMIUM = process.env.DJCLOUD_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
]

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] })
}
