/// <reference lib="dom" />
// Pairing a browser as a device of the circle, end to end in Debian's
// Chromium on loopback: the admin node's Devices page shows a link and its
// QR code; another browser (its own context: its own IndexedDB) opens the
// link, makes a non-extractable Ed25519 key, pairs; the admin lists it as a
// browser device; the link cannot be used again; once revoked, its API token
// is refused. A browser whose WebCrypto has no Ed25519 pairs with the
// fallback key and is told so.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { shortId, verifyBytes } from '../../src/identity/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { newPairLink } from '../helpers/pair-link.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { runCli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const ARTIFACTS = new URL('../../test-artifacts/e2e/', import.meta.url).pathname

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
}

interface Kept {
  device: string
  token: string
  kind: string
  extractable: boolean | null
  exportRefused: string | null
  signature: number[]
}

/** What the paired page keeps in IndexedDB, read in the page: its key's extractability, an export attempt, a signature. */
function readKept(page: Page, message: number[]): Promise<Kept> {
  return page.evaluate(async (msg) => {
    const rec = await new Promise<any>((resolve, reject) => {
      const open = indexedDB.open('djcloud-device')
      open.onerror = () => reject(open.error)
      open.onsuccess = () => {
        const get = open.result.transaction('device').objectStore('device').get('self')
        get.onsuccess = () => resolve(get.result)
        get.onerror = () => reject(get.error)
      }
    })
    const priv: CryptoKey | undefined = rec.key.keys?.privateKey
    let exportRefused: string | null = null
    if (priv) {
      for (const format of ['pkcs8', 'jwk'] as const) {
        try {
          await crypto.subtle.exportKey(format, priv)
        } catch (err) {
          exportRefused = (err as DOMException).name
          continue
        }
        exportRefused = null
        break
      }
    }
    const signature = priv ? Array.from(new Uint8Array(await crypto.subtle.sign('Ed25519', priv, new Uint8Array(msg)))) : []
    return { device: rec.device, token: rec.token, kind: rec.key.kind, extractable: priv ? priv.extractable : null, exportRefused, signature }
  }, message)
}

async function pairIn(context: BrowserContext, url: string, name: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForSelector('[data-testid=key-kind]')
  await page.fill('[data-testid=pair-name]', name)
  await page.click('[data-testid=pair-submit]')
  await page.waitForSelector('[data-testid=pair-done], [data-testid=pair-error]')
  return page
}

test('a browser pairs from the admin page\'s link with a non-extractable key, is listed, cannot reuse the link, and is refused once revoked from the page', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const env = { DJCLOUD_HOME: home! }
  const node = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings: { rosterReload: 200 } })
  const base = node.info.api
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const errors: string[] = []

  // The admin's Devices page: a link with the code in its fragment, and its QR code.
  const adminContext = await browser.newContext()
  const admin = await adminContext.newPage()
  admin.on('pageerror', (e) => errors.push(e.message))
  await admin.goto(base)
  await admin.click('[data-testid=nav-devices]')
  const link = await newPairLink(admin)
  t.regex(link, new RegExp(`^${base}/#pair=[A-Za-z0-9_-]{22}$`))
  t.regex((await admin.locator('[data-testid=pair-browser-qr]').getAttribute('src'))!, /^data:image\/svg\+xml/)
  t.is(await admin.locator('[data-testid=pair-browser-insecure]').count(), 0, 'loopback is a secure context')
  t.is(await admin.locator('[data-testid=pair-browser-local]').count(), 1, 'and says only this computer can open it')
  await shot(admin, 'browser-pair-1-link')

  // The phone: its own context, so its own IndexedDB.
  const phoneContext = await browser.newContext()
  const phone = await pairIn(phoneContext, link, 'Phone browser')
  phone.on('pageerror', (e) => errors.push(e.message))
  t.is(await phone.locator('[data-testid=pair-error]').count(), 0, (await phone.locator('[data-testid=pair-error]').textContent({ timeout: 100 }).catch(() => null)) ?? '')
  t.is(await phone.locator('[data-testid=pair-done]').getAttribute('data-key-kind'), 'webcrypto')
  await shot(phone, 'browser-pair-2-paired')
  t.false(phone.url().includes('#pair='), 'the code left the address bar')
  const message = [...Buffer.from('djcloud browser device test')]
  const kept = await readKept(phone, message)
  t.is(kept.kind, 'webcrypto')
  t.is(kept.extractable, false, 'the private key is non-extractable')
  t.is(kept.exportRefused, 'InvalidAccessError', 'exporting it throws')
  t.true(verifyBytes(Buffer.from(kept.device, 'hex'), Buffer.from(message), Uint8Array.from(kept.signature)), 'the kept key signs for the certified device key')

  // The admin lists it, as the CLI and the page show devices.
  const devices = await until(async () => {
    const r = await runCli(['devices', '--json'], env)
    const list = JSON.parse(r.stdout) as Array<{ device: string; name: string; role: string | null; revoked: boolean }>
    return list.some((d) => d.device === kept.device) ? list : undefined
  }, 30_000, 200)
  t.like(devices.find((d) => d.device === kept.device), { name: 'Phone browser', role: 'browser', revoked: false })
  await admin.waitForSelector('[data-testid=device-item][data-name="Phone browser"]', { timeout: 30_000 })

  // The same link again, in a third browser: refused, and nothing is listed.
  const thief = await pairIn(await browser.newContext(), link, 'Thief')
  t.regex((await thief.locator('[data-testid=pair-error]').textContent())!, /already used/)
  await shot(thief, 'browser-pair-3-used')
  const code = new URL(link).hash.slice('#pair='.length)
  const replay = await fetch(`${base}/api/pair/browser`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name: 'x', key: kept.device, sig: '00'.repeat(64) }) })
  t.is(replay.status, 400, 'a forged signature is refused first')

  // Its token works on the admin node's API, as the node's own would (a state change)...
  const post = (token: string, name: string) =>
    fetch(`${base}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ name }) })
  t.is((await post(kept.token, 'made on the phone')).status, 201)
  t.not(kept.token, await readApiToken(home!), 'a token of its own')
  // ...until it is revoked, from the admin's Devices page (two presses).
  const row = admin.locator('[data-testid=device-item][data-name="Phone browser"]')
  await row.locator('[data-testid=device-revoke]').click()
  await row.locator('[data-testid=device-revoke-confirm]').click()
  await admin.waitForSelector(`[data-testid=device-item].revoked[data-name="${shortId(Buffer.from(kept.device, 'hex'))}"]`)
  t.is((await post(kept.token, 'after')).status, 401, 'refused once the page shows it revoked')
  const after = await runCli(['devices', '--json'], env)
  t.like((JSON.parse(after.stdout) as Array<{ device: string; revoked: boolean }>).find((d) => d.device === kept.device), { revoked: true })
  t.deepEqual(errors, [])
})

test('a browser without Ed25519 in WebCrypto pairs with the fallback key and is told so', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const node = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(node.info.api)
  await admin.click('[data-testid=nav-devices]')
  const link = await newPairLink(admin)

  const old = await browser.newContext()
  // An older browser: WebCrypto without Ed25519.
  // (No named inner functions: the test loader would wrap them in a helper the page does not have.)
  await old.addInitScript(() => {
    const proto = SubtleCrypto.prototype
    const generate = proto.generateKey
    proto.generateKey = function (this: SubtleCrypto, alg: AlgorithmIdentifier, ...rest: unknown[]) {
      if (alg === 'Ed25519' || (alg as { name?: string } | null)?.name === 'Ed25519') return Promise.reject(new DOMException('Ed25519 is not supported', 'NotSupportedError'))
      return (generate as (...a: unknown[]) => Promise<unknown>).call(this, alg, ...rest)
    } as typeof proto.generateKey
  })
  const page = await old.newPage()
  await page.goto(link)
  t.regex((await page.locator('[data-testid=key-kind]').textContent())!, /any script of this page could read it/)
  await shot(page, 'browser-pair-4-fallback')
  await page.fill('[data-testid=pair-name]', 'Old tablet')
  await page.click('[data-testid=pair-submit]')
  await page.waitForSelector('[data-testid=pair-done]')
  t.is(await page.locator('[data-testid=pair-done]').getAttribute('data-key-kind'), 'noble')
  const r = await runCli(['devices', '--json'], { DJCLOUD_HOME: home! })
  t.like((JSON.parse(r.stdout) as Array<{ name: string; role: string }>).find((d) => d.name === 'Old tablet'), { role: 'browser' })
})
