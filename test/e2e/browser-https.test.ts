/// <reference lib="dom" />
// A phone on the LAN as a browser device over HTTPS (docs/ui.md, "Phones and
// remote access"), end to end in Debian's Chromium on loopback: one
// `djcloud serve --listen 0.0.0.0 --tls-cert --tls-key` with a certificate
// for dj-laptop.test from a CA made in the test (Chromium maps the name to
// 127.0.0.1 and trusts the certificate by its key's SPKI hash). The admin page
// at https://dj-laptop.test:PORT makes a pairing link naming that origin; a
// second context pairs from it and opens the UI there: a secure context that
// is not localhost, so its service worker controls the page, its device
// runtime links to the node over WebRTC (signaling over wss:// /api/signal),
// and the track the node holds plays from the page's swarm (from=page).
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, withLogs } from '../helpers/node-process.ts'
import { newPairLink } from '../helpers/pair-link.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { makeTestCa } from '../helpers/test-ca.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'

interface Hook {
  __djcloud: { audio: HTMLAudioElement }
}

test('over HTTPS a phone\'s browser pairs from the link, runs as a device (service worker, WebRTC links) and plays from its swarm', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const ca = await makeTestCa(root)
  const leaf = await ca.leaf('dj-laptop.test', ['DNS:dj-laptop.test'])
  const [home] = await makeHomes(root, ['laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeNoiseWav(join(music, 'noise.wav'), 1024 * 1024, 5)
  await scanHome(home!, music)
  const node = await serveNode(t, home!, ['--listen', '0.0.0.0', '--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile, '--tracker-port', '0', '--tracker-host', '127.0.0.1'], {
    timings: { rosterReload: 200 },
  })
  const nodes = { LAPTOP: node }
  t.regex(node.info.api, /^https:\/\/0\.0\.0\.0:\d+$/)
  const origin = `https://dj-laptop.test:${new URL(node.info.api).port}`

  const browser = await launchChromium([`--host-resolver-rules=MAP dj-laptop.test 127.0.0.1`, `--ignore-certificate-errors-spki-list=${leaf.spkiHash}`])
  t.teardown(() => browser.close())
  const errors: string[] = []

  // The admin: the page has no token (its Host is not loopback), so the person types it once.
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(`${origin}/`)
  await admin.fill('[data-testid=token-input]', (await readApiToken(home!))!)
  await admin.click('[data-testid=token-submit]')
  const [cookie] = (await admin.context().cookies(origin)).filter((c) => c.name === 'djcloud_session')
  t.true(cookie?.secure, 'the session cookie is Secure over https')
  await admin.click('[data-testid=nav-devices]')
  const link = await newPairLink(admin)
  t.true(link.startsWith(`${origin}/#pair=`), link)
  t.is(await admin.locator('[data-testid=pair-browser-insecure], [data-testid=pair-browser-local]').count(), 0, 'neither the plain-http warning nor the this-computer-only note')

  // The phone: its own context (IndexedDB, OPFS, service worker) pairs from the link.
  const phone = await (await browser.newContext()).newPage()
  phone.on('pageerror', (e) => errors.push(e.message))
  await phone.goto(link)
  await phone.waitForSelector('[data-testid=key-kind]')
  await phone.fill('[data-testid=pair-name]', 'phone')
  await phone.click('[data-testid=pair-submit]')
  await phone.waitForSelector('[data-testid=pair-done]')

  await phone.goto(`${origin}/?test=1`)
  t.deepEqual(await phone.evaluate(() => ({ secure: isSecureContext, host: location.hostname, subtle: typeof crypto.subtle })), { secure: true, host: 'dj-laptop.test', subtle: 'object' })
  await phone.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', undefined, { timeout: 30_000 })
  await phone.click('[data-testid=nav-devices]')
  await phone
    .waitForFunction(() => document.querySelectorAll('[data-testid=page-link]').length === 1, undefined, { timeout: 30_000 })
    .catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  t.is(await phone.locator('[data-testid=page-link]').getAttribute('data-name'), 'laptop')
  t.regex((await phone.locator('[data-testid=page-link]').textContent())!, /WebRTC data channel/)

  // The node's track plays from the page's swarm (the service worker answers /stream/...?from=page).
  await phone.click('[data-testid=nav-library]')
  await phone.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  await phone.locator('[data-testid=track-row]').first().dblclick()
  await phone.waitForFunction(() => (window as unknown as Hook).__djcloud.audio.currentTime > 0.5, undefined, { timeout: 30_000 })
  t.regex(await phone.evaluate(() => new URL((window as unknown as Hook).__djcloud.audio.src).search), /[?&]from=page(&|$)/)
  await phone.waitForSelector('[data-testid=stream-source][data-device=laptop]', { timeout: 30_000 })
  t.deepEqual(errors, [])
})
