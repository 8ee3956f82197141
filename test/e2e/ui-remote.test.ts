// A remote browser against a real node with remote access (serve --listen
// 0.0.0.0 --no-page-token, so a browser on loopback is served as a remote one
// is: traffic stays on loopback), in Debian's Chromium: the page has no token, the person types it,
// the node opens a session, and the library loads, a track plays and a
// playlist is made. Then what another service on another port of the same host
// receives (the session cookie: cookies are not isolated by port) is replayed
// from a plain HTTP client: refused; with the session's key it works.
import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildId3, encodeWav, synthLoop } from '../../src/demo/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { openPage } from '../helpers/browser-page.ts'
import { runCli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

test('remote browser: token form, library, playback and a playlist; the session cookie alone is refused', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home, desk] = await makeHomes(root, ['laptop', 'desk'])
  const music = join(root, 'music')
  await mkdir(music)
  const pcm = synthLoop({ bpm: 124, key: 'A minor', seconds: 20, seed: 7, sampleRate: 44100 })
  await writeFile(join(music, 'Remote Ridge.wav'), encodeWav(pcm, 44100, 1, buildId3({ title: 'Remote Ridge', artist: 'E2E', bpm: 124 })))
  for (const h of [home!, desk!]) {
    const scanned = await runCli(['scan', music, '--json'], { DJCLOUD_HOME: h })
    t.is(scanned.code, 0, scanned.stderr)
  }
  // --no-page-token: the page never carries the token, so this browser is treated as a remote one.
  const node = await serveNode(t, home!, ['--listen', '0.0.0.0', '--no-page-token', '--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  const port = new URL(node.info.api).port
  const base = `http://127.0.0.1:${port}`
  const noToken = await (await fetch(`${base}/`)).text()
  t.false(noToken.includes('djcloud-token'), 'no token in the page')
  const token = (await readApiToken(home!))!

  const { browser, page, errors } = await openPage(t, `${base}/?test=1`)
  await page.fill('[data-testid=token-input]', token)
  await page.click('[data-testid=token-submit]')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  const cookies = await page.context().cookies(base)
  const cookie = cookies.find((c) => c.name === 'djcloud_session')!
  t.true(cookie.httpOnly)
  t.is(cookie.sameSite, 'Strict')
  const keys = JSON.parse((await page.evaluate(() => localStorage.getItem('djcloud.session')))!) as { key: string; streamKey: string }

  // Playback: the <audio> element's request carries the cookie and the stream key.
  await page.locator('[data-testid=track-row]').first().dblclick()
  await page.waitForFunction(() => (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio.currentTime > 1, undefined, { timeout: 30_000 })
  t.regex(await page.evaluate(() => (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio.src), /\/stream\/[0-9a-f]{64}\?sk=/)
  await page.click('[data-testid=play-pause]')

  // A playlist made from the page (a state change under the session).
  await page.click('[data-testid=nav-playlists]')
  await page.fill('[data-testid=playlist-create-name]', 'Remote Set')
  await page.click('[data-testid=playlist-create]')
  await page.waitForSelector('[data-testid=playlist-item][data-name="Remote Set"]')

  // Another "service": a plain HTTP client holding only what the browser would send it, the cookie.
  const send = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const onlyCookie = { cookie: `djcloud_session=${cookie.value}` }
  t.is((await send('/api/library', onlyCookie)).status, 401)
  t.is((await send('/api/playlists', onlyCookie, { name: 'Replayed' })).status, 401)
  const withKey = { ...onlyCookie, 'x-djcloud-session': keys.key }
  t.is((await send('/api/library', withKey)).status, 200)
  t.is((await send('/api/playlists', withKey, { name: 'With Key' })).status, 201)
  const { playlists } = (await (await send('/api/playlists', withKey)).json()) as { playlists: Array<{ name: string }> }
  t.deepEqual(playlists.map((p) => p.name).sort(), ['Remote Set', 'With Key'])
  // A page on this machine (loopback: the token is in the page) of a node with remote access (the
  // default page token): its <audio> element needs a session too, which the page opens with its own token.
  const other = await serveNode(t, desk!, ['--listen', '0.0.0.0'])
  const otherPort = new URL(other.info.api).port
  t.true((await (await fetch(`http://127.0.0.1:${otherPort}/`)).text()).includes('djcloud-token'), 'the token is in a loopback page')
  const local = await browser.newPage()
  local.on('pageerror', (e) => errors.push(e.message))
  await local.goto(`http://127.0.0.1:${otherPort}/?test=1`)
  await local.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  await local.locator('[data-testid=track-row]').first().dblclick()
  await local.waitForFunction(() => (window as unknown as { __djcloud: { audio: HTMLAudioElement } }).__djcloud.audio.currentTime > 1, undefined, { timeout: 30_000 })
  await local.click('[data-testid=play-pause]')
  // The session still works in the page after all that.
  await until(async () => ((await page.evaluate(async () => (await fetch('/api/health', { headers: { 'X-Djcloud-Session': JSON.parse(localStorage.getItem('djcloud.session')!).key } })).status)) === 200 ? true : undefined), 5_000, 100)
  t.deepEqual(errors, [], 'no uncaught errors in the page')
})
