// Pairing a browser from a link, the node's side: the claim route's
// refusals (a wrong, malformed, replayed or expired code, a key the claim is
// not signed by, too many wrong codes from one address), the device token it
// hands out (good for the API, never for pairing, dead once the device is
// revoked), on a real in-process admin node over 127.0.0.1.
import test, { type ExecutionContext } from 'ava'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { certifyDevice, generateKeyPair, initIdentity, loadIdentity, revokeDevice, saveRoster, signBytes, type KeyPair } from '../../src/identity/index.ts'
import { startNode, type Node } from '../../src/node/index.ts'
import { ApiError, readApiToken } from '../../src/player/index.ts'
import { BrowserPairing, claimMessage } from '../../src/node/browser-pairing.ts'
import { DeviceTokens } from '../../src/node/device-tokens.ts'
import { isLoopbackOrigin, isSecureOrigin } from '../../src/node/browser-pair-routes.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

interface Admin {
  node: Node
  post: (path: string, body: unknown, token?: string) => Promise<Response>
  token: string
}

async function admin(t: ExecutionContext): Promise<Admin> {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const node = await startNode({ home: home!, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, tracker: false, analyze: false, uiDir: null, timings: { rosterReload: 100 } })
  t.teardown(() => node.close())
  const token = (await readApiToken(home!))!
  const post = (path: string, body: unknown, bearer?: string) =>
    fetch(node.info.api + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body) })
  return { node, post, token }
}

const codeOf = (url: string) => new URL(url).hash.replace(/^#pair=/, '')

function claim(code: string, name: string, key: KeyPair = generateKeyPair()) {
  return { code, name, key: hex(key.publicKey), sig: hex(signBytes(key.seed, claimMessage(code, key.publicKey, name))) }
}

async function errorCode(r: Response): Promise<[number, string]> {
  return [r.status, ((await r.json()) as { error: { code: string } }).error.code]
}

async function link(a: Admin, ttl?: number): Promise<{ url: string; code: string; expiresAt: number; qrSvg: string; secureContext: boolean; thisMachineOnly: boolean }> {
  const r = await a.post('/api/pair/link', ttl === undefined ? {} : { ttl }, a.token)
  if (r.status !== 200) throw new Error(`link: ${r.status} ${await r.text()}`)
  const body = (await r.json()) as { url: string; expiresAt: number; qrSvg: string; secureContext: boolean; thisMachineOnly: boolean }
  return { ...body, code: codeOf(body.url) }
}

test('a link pairs one browser: certificate with role browser, the roster lists it, and the code is single use', async (t) => {
  const a = await admin(t)
  const l = await link(a)
  t.true(l.url.startsWith(`${a.node.info.api}/#pair=`), 'the code travels in the fragment, never the query')
  t.true(l.secureContext, 'a loopback origin is a secure context')
  t.true(l.thisMachineOnly, 'and one no phone can open')
  t.regex(l.qrSvg, /^<svg/)
  const key = generateKeyPair()
  const r = await a.post('/api/pair/browser', claim(l.code, 'phone', key))
  t.is(r.status, 200, await r.clone().text())
  const w = (await r.json()) as { device: string; role: string; token: string; certificate: string; roster: string; circleSecret: string; trackers: string[]; bootstrap: string[] }
  t.is(w.device, hex(key.publicKey))
  t.is(w.role, 'browser')
  const id = await loadIdentity(a.node.home)
  t.deepEqual(Buffer.from(w.circleSecret, 'base64'), Buffer.from(id.circleSecret))
  const listed = id.roster.devices.find((c) => hex(c.device) === w.device)
  t.is(listed?.role, 'browser')
  t.is(listed?.name, 'phone')
  t.is(a.node.roster.seq, id.roster.seq, 'the node took in the new roster at once')

  // The same code again, with another key or the same: used.
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', claim(l.code, 'thief'))), [410, 'ERR_PAIRING_USED'])
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', claim(l.code, 'phone', key))), [410, 'ERR_PAIRING_USED'])
  t.is((await loadIdentity(a.node.home)).roster.devices.length, 2, 'nothing more was listed')
})

test('refusals: a wrong code, a malformed key or body, a claim not signed by its key (the code survives those), a revoked key', async (t) => {
  const a = await admin(t)
  const l = await link(a)
  const wrong = Buffer.alloc(16, 7).toString('base64url')
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', claim(wrong, 'x'))), [403, 'ERR_PAIRING_CODE'])
  const good = claim(l.code, 'phone')
  for (const body of [
    { ...good, key: 'zz' + good.key.slice(2) },
    { ...good, key: good.key.slice(2) },
    { ...good, sig: good.sig.slice(4) },
    { ...good, code: l.code + '=' },
    { ...good, name: '' },
    { ...good, name: 'a\nb' },
    { ...good, name: ' phone' },
    { ...good, name: 'x'.repeat(65) },
    { ...good, extra: 1 },
    [good],
  ]) {
    t.deepEqual(await errorCode(await a.post('/api/pair/browser', body)), [400, 'ERR_BAD_PARAM'], JSON.stringify(body).slice(0, 80))
  }
  // Signed by another key than the one sent: refused before the code is looked at.
  const other = generateKeyPair()
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', { ...good, sig: claim(l.code, 'phone', other).sig })), [400, 'ERR_BAD_PARAM'])
  // A revoked key cannot be listed again; the code is spent by that claim all the same.
  const revoked = generateKeyPair()
  const id = await loadIdentity(a.node.home)
  await saveRoster(id, revokeDevice(id.roster, revoked.publicKey))
  await until(async () => (a.node.roster.revoked.length === 1 ? true : undefined))
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', claim(l.code, 'again', revoked))), [409, 'ERR_CONFLICT'])
  t.deepEqual(await errorCode(await a.post('/api/pair/browser', good)), [410, 'ERR_PAIRING_USED'])
  // After all that, a fresh link still pairs.
  const l2 = await link(a)
  t.is((await a.post('/api/pair/browser', claim(l2.code, 'phone'))).status, 200)
})

test('a link expires; a newer link retires the older one', async (t) => {
  const root = await tempDir(t)
  const id = await initIdentity(root, { name: 'admin' })
  let now = 1_000_000
  const tokens = new DeviceTokens(root, () => id.roster)
  const pairing = new BrowserPairing({ identity: () => id, tokens, onPaired: async () => {}, ttlMs: 60_000, now: () => now })
  const refused = async (p: Promise<unknown>) => {
    const err = await t.throwsAsync(p, { instanceOf: ApiError })
    return [err?.status, err?.code]
  }
  const sign = (code: string) => {
    const key = generateKeyPair()
    return { code, name: 'p', key: key.publicKey, sig: signBytes(key.seed, claimMessage(code, key.publicKey, 'p')) }
  }
  const first = pairing.start()
  t.is(first.expiresAt, now + 60_000)
  now += 60_000
  t.deepEqual(await refused(pairing.claim(sign(first.code), '127.0.0.1')), [410, 'ERR_PAIRING_EXPIRED'])
  t.deepEqual(await refused(pairing.claim(sign(first.code), '127.0.0.1')), [410, 'ERR_PAIRING_EXPIRED'], 'and stays so')
  const second = pairing.start(10_000)
  const third = pairing.start()
  t.deepEqual(await refused(pairing.claim(sign(second.code), '127.0.0.1')), [410, 'ERR_PAIRING_EXPIRED'], 'replaced by a newer link')
  now += 9_999
  t.is((await pairing.claim(sign(third.code), '127.0.0.1')).role, 'browser')
})

test('wrong codes are rate-limited per address, before the code is looked at', async (t) => {
  const root = await tempDir(t)
  const id = await initIdentity(root, { name: 'admin' })
  let now = 0
  const pairing = new BrowserPairing({ identity: () => id, tokens: new DeviceTokens(root, () => id.roster), onPaired: async () => {}, maxFailures: 3, failureWindowMs: 60_000, now: () => now })
  const open = pairing.start()
  const sign = (code: string) => {
    const key = generateKeyPair()
    return { code, name: 'p', key: key.publicKey, sig: signBytes(key.seed, claimMessage(code, key.publicKey, 'p')) }
  }
  const codeOfError = (p: Promise<unknown>) => p.then(() => 'paired', (e: { code: string }) => e.code)
  for (let i = 0; i < 3; i++) t.is(await codeOfError(pairing.claim(sign(Buffer.alloc(16, i).toString('base64url')), '10.0.0.9')), 'ERR_PAIRING_CODE')
  t.is(await codeOfError(pairing.claim(sign(open.code), '10.0.0.9')), 'ERR_RATE_LIMITED', 'even the right code waits')
  now += 60_000
  t.is(await codeOfError(pairing.claim(sign(open.code), '10.0.0.9')), 'paired', 'after the window')
})

test('the device token: the API takes it, never for pairing, and refuses it (and its sessions) once the device is revoked', async (t) => {
  const a = await admin(t)
  const l = await link(a)
  const key = generateKeyPair()
  const { token } = (await (await a.post('/api/pair/browser', claim(l.code, 'phone', key))).json()) as { token: string }
  // A state change with the device's token: a playlist made.
  t.is((await a.post('/api/playlists', { name: 'from the phone' }, token)).status, 201)
  const session = await a.post('/api/session', { token })
  t.is(session.status, 200, 'a session for <audio>')
  const cookie = session.headers.get('set-cookie')!.split(';')[0]!
  const { key: sessionKey } = (await session.json()) as { key: string }
  const withSession = () => fetch(a.node.info.api + '/api/playlists', { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-djcloud-session': sessionKey }, body: JSON.stringify({ name: `s${Math.random()}` }) })
  t.is((await withSession()).status, 201)
  // Pairing more devices needs the node's own token.
  t.deepEqual(await errorCode(await a.post('/api/pair/link', {}, token)), [403, 'ERR_FORBIDDEN'])
  t.deepEqual(await errorCode(await a.post('/api/pair', {}, token)), [403, 'ERR_FORBIDDEN'])
  t.is((await a.post('/api/pair/link', {}, a.token)).status, 200)

  // Revoked on this home (as `djcloud trust revoke` does): within the roster reload.
  const id = await loadIdentity(a.node.home)
  await saveRoster(id, revokeDevice(id.roster, key.publicKey))
  await until(async () => ((await a.post('/api/playlists', { name: 'after' }, token)).status === 401 ? true : undefined))
  t.deepEqual(await errorCode(await a.post('/api/session', { token })), [401, 'ERR_UNAUTHORIZED'])
  t.deepEqual(await errorCode(await withSession()), [401, 'ERR_UNAUTHORIZED'], 'its session died with it')
})

test('revoking from the page (POST /api/devices/revoke): the owner token only, the token refused in the answer\'s wake, not this device, not twice', async (t) => {
  const a = await admin(t)
  const key = generateKeyPair()
  const { token } = (await (await a.post('/api/pair/browser', claim((await link(a)).code, 'phone', key))).json()) as { token: string }
  t.is((await a.post('/api/playlists', { name: 'before' }, token)).status, 201)
  t.deepEqual(await errorCode(await a.post('/api/devices/revoke', { device: hex(key.publicKey) }, token)), [403, 'ERR_FORBIDDEN'], 'a browser device cannot revoke')
  for (const body of [{}, { device: 'ab' }, { device: hex(key.publicKey), more: 1 }, [hex(key.publicKey)]]) {
    t.deepEqual(await errorCode(await a.post('/api/devices/revoke', body, a.token)), [400, 'ERR_BAD_PARAM'])
  }
  const self = hex((await loadIdentity(a.node.home)).device.publicKey)
  t.deepEqual(await errorCode(await a.post('/api/devices/revoke', { device: self }, a.token)), [409, 'ERR_CONFLICT'])
  const r = await a.post('/api/devices/revoke', { device: hex(key.publicKey) }, a.token)
  t.is(r.status, 200)
  t.is(((await r.json()) as { seq: number }).seq, a.node.roster.seq, 'the node took the roster in before answering')
  t.deepEqual(await errorCode(await a.post('/api/playlists', { name: 'after' }, token)), [401, 'ERR_UNAUTHORIZED'], 'refused at once')
  t.deepEqual(await errorCode(await a.post('/api/devices/revoke', { device: hex(key.publicKey) }, a.token)), [409, 'ERR_CONFLICT'], 'already revoked')
})

test('two claims of one code at the same moment: one device is paired, the other is told the code was used', async (t) => {
  const a = await admin(t)
  const { code } = await link(a)
  const answers = await Promise.all(['one', 'two', 'three'].map(async (name) => (await a.post('/api/pair/browser', claim(code, name))).status))
  t.deepEqual(answers.sort(), [200, 410, 410])
  t.is((await loadIdentity(a.node.home)).roster.devices.filter((c) => c.role === 'browser').length, 1)
})

test('device tokens survive a restart as SHA-256 only (0600), and count only while the device is listed as a browser', async (t) => {
  const root = await tempDir(t)
  const id = await initIdentity(root, { name: 'admin' })
  let roster = id.roster
  const key = generateKeyPair()
  const tokens = new DeviceTokens(root, () => roster)
  const token = await tokens.issue(key.publicKey)
  t.is(tokens.deviceOf(token), null, 'not listed yet')
  const { certificate } = await certifyDevice(id, key.publicKey, 'phone', 'browser')
  roster = (await loadIdentity(root)).roster
  t.is(tokens.deviceOf(token), hex(key.publicKey))
  const again = new DeviceTokens(root, () => roster)
  await again.load()
  t.is(again.deviceOf(token), hex(key.publicKey), 'read back after a restart')
  t.is(again.deviceOf(token + 'x'), null)
  const file = join(root, 'device-tokens')
  t.is((await stat(file)).mode & 0o777, 0o600)
  t.false((await readFile(file, 'utf8')).includes(token), 'the file holds no token')
  // A member certificate for the same key would not do: only a browser device's token counts.
  roster = { ...roster, devices: roster.devices.map((c) => (c === roster.devices.find((d) => hex(d.device) === hex(certificate.device)) ? { ...c, role: 'member' as const } : c)) }
  t.is(again.deviceOf(token), null)
  await writeFile(file, '{oops')
  await t.throwsAsync(new DeviceTokens(root, () => roster).load(), { message: /damaged/ })
})

test('which link origins are secure contexts, and which only this machine can open', (t) => {
  for (const o of ['http://127.0.0.1:7462', 'http://localhost:7462', 'http://[::1]:7462', 'https://dj.example:443', 'http://127.8.0.1:1']) t.true(isSecureOrigin(o), o)
  for (const o of ['http://192.168.1.5:7462', 'http://[fe80::1]:7462', 'http://dj-laptop.local:7462']) t.false(isSecureOrigin(o), o)
  t.true(isLoopbackOrigin('http://127.0.0.1:7462'))
  t.false(isLoopbackOrigin('https://dj.example'))
  t.false(isLoopbackOrigin('http://192.168.1.5:7462'))
})
