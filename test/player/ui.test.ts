// The web UI's files and browser sessions, against a real server with a
// small stand-in for dist/ui made in a temp dir (these tests do not need the
// UI build).
import test, { type ExecutionContext } from 'ava'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { auth, startFixture, TOKEN, type Fixture } from './fixture.ts'
import { tempDir } from '../helpers/temp.ts'
import { SW_CSP, UI_CSP } from '../../src/player/index.ts'

const INDEX = '<!doctype html><html><head><meta charset="utf-8"><title>djcloud</title><script type="module" src="/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>'
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))})\n`
const SW = "self.addEventListener('fetch', () => {})\n"
const MANIFEST = '{"name":"djcloud","start_url":"/"}\n'

async function fakeUi(t: ExecutionContext, { pwa = true } = {}): Promise<string> {
  const root = await tempDir(t, 'djcloud-ui-')
  const dir = join(root, 'ui')
  await mkdir(join(dir, 'assets', 'deep'), { recursive: true })
  await writeFile(join(dir, 'index.html'), INDEX)
  await writeFile(join(dir, 'assets', 'index-Ab12Cd34.js'), SCRIPT)
  await writeFile(join(dir, 'assets', 'style.css'), 'body{margin:0}')
  await writeFile(join(dir, 'assets', 'logo-Zz99Yy88.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  await writeFile(join(dir, 'assets', 'deep', 'x.js'), 'nested')
  if (pwa) {
    await writeFile(join(dir, 'sw.js'), SW)
    await writeFile(join(dir, 'manifest.webmanifest'), MANIFEST)
  }
  await writeFile(join(dir, 'other.js'), 'not listed at the root')
  await writeFile(join(root, 'secret.txt'), 'not for the web')
  await symlink(join(root, 'secret.txt'), join(dir, 'assets', 'secret.txt'))
  return dir
}

const withMeta = (token: string) => INDEX.replace('<head>', `<head><meta name="djcloud-token" content="${token}">`)

test('GET / and /index.html: the page with the token for this machine, a strict CSP, never cached', async (t) => {
  const f = await startFixture(t, { count: 0, server: { uiDir: await fakeUi(t) } })
  for (const path of ['/', '/index.html', '/?test=1', '/index.html?x=1']) {
    const r = await f.send({ path })
    t.is(r.status, 200, path)
    t.is(r.headers['content-type'], 'text/html; charset=utf-8')
    t.is(r.headers['content-security-policy'], UI_CSP)
    t.is(r.headers['cache-control'], 'no-store')
    t.is(r.headers['x-content-type-options'], 'nosniff')
    t.is(r.body.toString(), withMeta(TOKEN), path)
  }
  // WebAssembly (the browser device's hashes and brotli) may compile; eval stays refused.
  t.is(UI_CSP, "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'")
  t.is((await f.send({ path: '/', headers: { host: `localhost:${f.port}` } })).body.toString(), withMeta(TOKEN))
  const head = await f.send({ method: 'HEAD', path: '/' })
  t.is(head.status, 200)
  t.is(head.body.length, 0)
  // The guard's checks come first: another site's page cannot read it.
  t.is((await f.send({ path: '/', headers: { host: `evil.example:${f.port}` } })).status, 403)
  t.is((await f.send({ path: '/', headers: { 'sec-fetch-site': 'cross-site' } })).status, 403)
  t.is((await f.send({ path: '/?view=x&test=1' })).status, 200, 'the page\'s query is the page\'s business')
  t.is((await f.send({ method: 'POST', path: '/', headers: auth() })).status, 405)
})

test('/assets/<file>: listed files only, with their types, ETag, immutable caching when hashed, gzip', async (t) => {
  const f = await startFixture(t, { count: 0, server: { uiDir: await fakeUi(t) } })
  const js = await f.send({ path: '/assets/index-Ab12Cd34.js' })
  t.is(js.status, 200)
  t.is(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.is(js.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.regex(js.headers.etag ?? '', /^"[A-Za-z0-9_-]{27}"$/)
  t.is(js.body.toString(), SCRIPT)
  t.is(js.headers['content-encoding'], undefined)
  const gz = await f.send({ path: '/assets/index-Ab12Cd34.js', headers: { 'accept-encoding': 'gzip, br' } })
  t.is(gz.headers['content-encoding'], 'gzip')
  t.is(gz.headers.vary, 'Accept-Encoding')
  t.true(gz.body.length < SCRIPT.length / 4)
  t.is(gunzipSync(gz.body).toString(), SCRIPT)
  const cached = await f.send({ path: '/assets/index-Ab12Cd34.js', headers: { 'if-none-match': js.headers.etag! } })
  t.is(cached.status, 304)
  t.is(cached.body.length, 0)

  const css = await f.send({ path: '/assets/style.css' })
  t.is(css.headers['content-type'], 'text/css; charset=utf-8')
  t.is(css.headers['cache-control'], 'no-cache', 'a name without a hash may change')
  t.is((await f.send({ path: '/assets/logo-Zz99Yy88.svg' })).headers['content-type'], 'image/svg+xml')

  // Nothing else: not a symlink out of the folder, not nested paths, not traversal, not the page under /assets.
  for (const [path, status] of [
    ['/assets/secret.txt', 404], ['/assets/deep/x.js', 404], ['/assets/nope.js', 404], ['/assets/index.html', 404],
    ['/assets/..%2Fsecret.txt', 400], ['/assets/%2e%2e', 400], ['/assets/..', 400], ['/favicon.ico', 404],
  ] as const) {
    const r = await f.send({ path })
    t.is(r.status, status, path)
    t.regex(r.headers['content-type'] ?? '', /^application\/json/, path)
  }
})

test('/sw.js and /manifest.webmanifest: served from the build root with their types, revalidated, the worker under its own CSP', async (t) => {
  const f = await startFixture(t, { count: 0, server: { uiDir: await fakeUi(t) } })
  const sw = await f.send({ path: '/sw.js' })
  t.is(sw.status, 200)
  t.is(sw.body.toString(), SW)
  t.is(sw.headers['content-type'], 'text/javascript; charset=utf-8')
  t.is(sw.headers['cache-control'], 'no-cache', 'a new build\'s worker is seen on the next check')
  t.is(sw.headers['content-security-policy'], SW_CSP)
  t.is(SW_CSP, "default-src 'none'; connect-src 'self'")
  t.is((await f.send({ path: '/sw.js', headers: { 'if-none-match': sw.headers.etag! } })).status, 304)
  const manifest = await f.send({ path: '/manifest.webmanifest' })
  t.is(manifest.status, 200)
  t.is(manifest.headers['content-type'], 'application/manifest+json; charset=utf-8')
  t.is(manifest.headers['cache-control'], 'no-cache')
  t.is(manifest.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
  t.deepEqual(manifest.json(), JSON.parse(MANIFEST))
  // Only those two names: other files at the build's root are not served, nor the worker with a query it does not take.
  for (const path of ['/other.js', '/sw.js?x=1', '/assets/sw.js', '/manifest.json']) t.is((await f.send({ path })).status, path === '/sw.js?x=1' ? 400 : 404, path)
  t.is((await f.send({ method: 'POST', path: '/sw.js', headers: auth() })).status, 405)
  // A build without them (an older dist/ui): 404, not a crash.
  const missing = await startFixture(t, { count: 0, server: { uiDir: await fakeUi(t, { pwa: false }) } })
  t.is((await missing.send({ path: '/sw.js' })).status, 404)
  t.is((await missing.send({ path: '/manifest.webmanifest' })).status, 404)
})

test('without a built UI, / answers 503 with what to do; uiDir null serves no UI at all', async (t) => {
  const missing = await startFixture(t, { count: 0, server: { uiDir: join(await tempDir(t), 'nothing') } })
  const r = await missing.send({ path: '/' })
  t.is(r.status, 503)
  t.deepEqual(r.json(), { error: { code: 'ERR_UI_UNAVAILABLE', message: 'the web UI is not built: run "npm run build"' } })
  t.is((await missing.send({ path: '/assets/index-Ab12Cd34.js' })).status, 404)
  const none = await startFixture(t, { count: 0, server: { uiDir: null } })
  t.is((await none.send({ path: '/' })).status, 404)
})

/** Remote access on 127.0.0.1, reached under a LAN name: every request needs the token or a session. */
async function remote(t: ExecutionContext): Promise<Fixture & { lan: Record<string, string> }> {
  const f = await startFixture(t, { count: 1, server: { allowRemote: true, hostNames: ['dj-laptop.local'], uiDir: await fakeUi(t) } })
  return { ...f, lan: { host: `dj-laptop.local:${f.port}` } }
}

test('remote access: the page and its files load without the token, the page carries no token', async (t) => {
  const f = await remote(t)
  const page = await f.send({ path: '/', headers: f.lan })
  t.is(page.status, 200)
  t.is(page.body.toString(), INDEX, 'a page for another machine never holds the token')
  t.is((await f.send({ path: '/assets/index-Ab12Cd34.js', headers: f.lan })).status, 200)
  t.is((await f.send({ path: '/api/health', headers: f.lan })).status, 401)
  t.is((await f.send({ path: '/assets/nope.js', headers: f.lan })).status, 404)
})

test('POST /api/session trades the token for an HttpOnly SameSite=Strict cookie plus keys; the cookie works only with them', async (t) => {
  const f = await remote(t)
  const post = (body: string, headers: Record<string, string> = {}) =>
    f.send({ method: 'POST', path: '/api/session', headers: { ...f.lan, 'content-type': 'application/json', ...headers }, body })
  const wrong = await post(JSON.stringify({ token: 'b'.repeat(64) }))
  t.is(wrong.status, 401)
  t.is(wrong.headers['set-cookie'], undefined)
  for (const body of ['{}', '[]', '{"token":1}', '"x"']) t.is((await post(body)).status, 400, body)
  t.is((await post(JSON.stringify({ token: TOKEN }), { origin: 'http://evil.example' })).status, 403)

  const ok = await post(JSON.stringify({ token: TOKEN }), { origin: `http://dj-laptop.local:${f.port}` })
  t.is(ok.status, 200)
  t.is(ok.headers['cache-control'], 'no-store')
  const keys = ok.json() as { key: string; streamKey: string; maxAge: number }
  t.deepEqual(Object.keys(keys).sort(), ['key', 'maxAge', 'streamKey'])
  t.regex(keys.key, /^[A-Za-z0-9_-]{43}$/)
  t.regex(keys.streamKey, /^[A-Za-z0-9_-]{43}$/)
  t.is(keys.maxAge, 2592000)
  const cookie = ok.headers['set-cookie']?.[0] ?? ''
  t.regex(cookie, /^djcloud_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=2592000$/)
  const session = cookie.split(';')[0]!
  const withKey = { ...f.lan, cookie: session, 'x-djcloud-session': keys.key }
  const sha = f.tracks[0]!.sha256
  t.is((await f.send({ path: '/api/library', headers: withKey })).status, 200)
  const audio = await f.send({ path: `/stream/${sha}?sk=${keys.streamKey}`, headers: { ...f.lan, cookie: `other=1; ${session}`, range: 'bytes=0-9' } })
  t.is(audio.status, 206)
  t.is(audio.body.length, 10)
  t.is((await f.send({ path: `/stream/${sha}`, headers: { ...withKey, range: 'bytes=0-9' } })).status, 206, 'the key works on /stream too')
  // A state-changing request with the session passes the guard (here: 400 for its bad body, not 401).
  const scan = await f.send({ method: 'POST', path: '/api/scan', headers: { ...withKey, 'content-type': 'application/json' }, body: '{"roots":"x"}' })
  t.is(scan.status, 400)
  // The cookie alone is what any service on another port of this host receives: worth nothing.
  t.is((await f.send({ path: '/api/library', headers: { ...f.lan, cookie: session } })).status, 401)
  t.is((await f.send({ path: `/stream/${sha}`, headers: { ...f.lan, cookie: session } })).status, 401)
  t.is((await f.send({ method: 'POST', path: '/api/scan', headers: { ...f.lan, cookie: session, 'content-type': 'application/json' }, body: '{"roots":"x"}' })).status, 401)
  t.is((await f.send({ path: `/api/library?sk=${keys.streamKey}`, headers: { ...f.lan, cookie: session } })).status, 401, 'the stream key opens /stream only')
  // Forged or altered sessions are refused; a wrong Bearer header is not rescued by a good session.
  for (const c of ['djcloud_session=' + 'A'.repeat(43), session.slice(0, -1) + (session.endsWith('A') ? 'B' : 'A'), 'djcloud_session=', session.replace('djcloud_session', 'djcloud_sessions')]) {
    t.is((await f.send({ path: '/api/library', headers: { ...withKey, cookie: c } })).status, 401, c)
  }
  t.is((await f.send({ path: '/api/library', headers: { ...withKey, authorization: 'Bearer wrong-token-0123456789' } })).status, 401)
})
