import test from 'ava'
import type { IncomingMessage } from 'node:http'
import {
  ApiError, bearerToken, guardRequest, hostPolicy, isLoopbackAddress, MAX_SESSIONS, servedToThisMachine, sessionCookie, SessionStore, SESSION_MAX_AGE,
  tokenMatches, withToken, type GuardPolicy,
} from '../../src/player/index.ts'
import { parseTarget } from '../../src/player/router.ts'

const TOKEN = 'c'.repeat(64)

/** Just what the guard reads of a request. */
function req(method: string, headers: Record<string, string | string[]>, url = '/api/library'): IncomingMessage {
  const distinct: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(headers)) distinct[k] = Array.isArray(v) ? v : [v]
  return { method, url, headersDistinct: distinct } as unknown as IncomingMessage
}

const local = (extra: Partial<GuardPolicy> = {}): GuardPolicy => ({
  ...hostPolicy({ port: 4000, address: '127.0.0.1', allowRemote: false }),
  token: TOKEN,
  allowRemote: false,
  ...extra,
})

const codeOf = (fn: () => void) => {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err instanceof ApiError ? `${err.status} ${err.code}` : String(err)
  }
}

test('loopback names at the bound port; the bound address itself; port 80 may omit the port', (t) => {
  const p = hostPolicy({ port: 4000, address: '127.0.0.2', allowRemote: false })
  t.deepEqual([...p.hosts].sort(), ['127.0.0.1:4000', '127.0.0.2:4000', '[::1]:4000', 'localhost:4000'])
  t.true(p.origins.has('http://localhost:4000'))
  const eighty = hostPolicy({ port: 80, address: '127.0.0.1', allowRemote: false })
  t.true(eighty.hosts.has('localhost'))
  t.true(eighty.origins.has('http://localhost'))
})

test('over TLS: https:// origins only, the certificate\'s names without remote access, port 443 may omit the port', (t) => {
  const p = hostPolicy({ port: 4000, address: '127.0.0.1', allowRemote: false, tls: true, certificateNames: ['dj-laptop.test', '[fe80::7]'] })
  for (const h of ['dj-laptop.test:4000', '[fe80::7]:4000', 'localhost:4000']) t.true(p.hosts.has(h), h)
  t.deepEqual([...p.origins].filter((o) => !o.startsWith('https://')), [])
  t.true(p.origins.has('https://dj-laptop.test:4000'))
  t.is(codeOf(() => guardRequest(req('POST', { host: 'dj-laptop.test:4000', origin: 'https://dj-laptop.test:4000', authorization: `Bearer ${TOKEN}` }), { ...p, token: TOKEN, allowRemote: false })), 'ok')
  t.is(codeOf(() => guardRequest(req('POST', { host: 'dj-laptop.test:4000', origin: 'http://dj-laptop.test:4000', authorization: `Bearer ${TOKEN}` }), { ...p, token: TOKEN, allowRemote: false })), '403 ERR_FORBIDDEN_ORIGIN')
  const standard = hostPolicy({ port: 443, address: '0.0.0.0', allowRemote: true, tls: true, certificateNames: ['dj.example.com'] })
  t.true(standard.hosts.has('dj.example.com'))
  t.true(standard.origins.has('https://dj.example.com'))
  t.false(standard.origins.has('http://dj.example.com'))
})

test('remote access adds the interface addresses of a wildcard bind and configured names', (t) => {
  const p = hostPolicy({ port: 4000, address: '0.0.0.0', allowRemote: true, hostNames: ['DJ-Laptop.local'], interfaceAddresses: ['192.168.1.20', 'fd00::1'] })
  for (const h of ['192.168.1.20:4000', '[fd00::1]:4000', 'dj-laptop.local:4000', 'localhost:4000']) t.true(p.hosts.has(h), h)
  t.false(p.hosts.has('0.0.0.0:4000'))
  const off = hostPolicy({ port: 4000, address: '127.0.0.1', allowRemote: false, hostNames: ['dj.local'] })
  t.false(off.hosts.has('dj.local:4000'), 'names are only for remote access')
})

test('the guard: Host, then Origin and fetch metadata, then the token for unsafe methods', (t) => {
  const p = local()
  t.is(codeOf(() => guardRequest(req('GET', { host: '127.0.0.1:4000' }), p)), 'ok')
  t.is(codeOf(() => guardRequest(req('GET', {}), p)), '403 ERR_FORBIDDEN_HOST')
  t.is(codeOf(() => guardRequest(req('GET', { host: 'attacker.example:4000' }), p)), '403 ERR_FORBIDDEN_HOST')
  t.is(codeOf(() => guardRequest(req('GET', { host: ['127.0.0.1:4000', 'evil'] }), p)), '400 ERR_BAD_REQUEST')
  t.is(codeOf(() => guardRequest(req('GET', { host: '127.0.0.1:4000', origin: 'http://attacker.example' }), p)), '403 ERR_FORBIDDEN_ORIGIN')
  t.is(codeOf(() => guardRequest(req('GET', { host: '127.0.0.1:4000', 'sec-fetch-site': 'cross-site' }), p)), '403 ERR_FORBIDDEN_ORIGIN')
  t.is(codeOf(() => guardRequest(req('PUT', { host: '127.0.0.1:4000' }), p)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(req('PUT', { host: '127.0.0.1:4000', authorization: `Bearer ${TOKEN}` }), p)), 'ok')
  t.is(codeOf(() => guardRequest(req('PUT', { host: '127.0.0.1:4000', authorization: [`Bearer ${TOKEN}`, 'Bearer x'] }), p)), '400 ERR_BAD_REQUEST')
  const remote = local({ allowRemote: true })
  t.is(codeOf(() => guardRequest(req('HEAD', { host: '127.0.0.1:4000' }), remote)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(req('HEAD', { host: '127.0.0.1:4000', authorization: `Bearer ${TOKEN}` }), remote)), 'ok')
})

test('tokens compare whole, bearer parsing is strict', (t) => {
  t.true(tokenMatches(TOKEN, TOKEN))
  t.false(tokenMatches(TOKEN.slice(1), TOKEN))
  t.false(tokenMatches(`${TOKEN}c`, TOKEN))
  t.false(tokenMatches('', TOKEN))
  t.is(bearerToken(`Bearer ${TOKEN}`), TOKEN)
  t.is(bearerToken(`bearer  ${TOKEN} `), TOKEN)
  t.is(bearerToken(`Bearer ${TOKEN} x`), undefined)
  t.is(bearerToken(`Basic ${TOKEN}`), undefined)
  t.is(bearerToken('Bearer'), undefined)
  t.is(bearerToken(undefined), undefined)
})

test('loopback addresses', (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) t.true(isLoopbackAddress(a), a)
  for (const a of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'fe80::1', '128.0.0.1']) t.false(isLoopbackAddress(a), a)
})

test('request targets: decoded segments; traversal, bad escapes and absolute forms refused', (t) => {
  t.deepEqual(parseTarget('/api/library?query=a%20b&limit=2').segments, ['api', 'library'])
  t.is(parseTarget('/api/library?query=a%20b').query.get('query'), 'a b')
  t.deepEqual(parseTarget('/a%20b/c').segments, ['a b', 'c'])
  for (const bad of ['', 'api', 'http://x/api', '/../x', '/a/./b', '/a/%2e%2e/b', '/a%2fb', '/a%5cb', '/a%00', '/%E0%A4%A', '/x#y', `/${'a'.repeat(9000)}`]) {
    const code = codeOf(() => parseTarget(bad))
    t.is(code, '400 ERR_BAD_PATH', bad)
  }
})

test('a session stands in for the token only as cookie AND key (or stream key on /stream); only sessions the store made, unexpired', (t) => {
  let now = 1_000_000
  const sessions = new SessionStore(() => now)
  const s = sessions.create()
  const { id, key, streamKey } = s
  for (const v of [id, key, streamKey]) t.regex(v, /^[A-Za-z0-9_-]{43}$/)
  t.is(new Set([id, key, streamKey]).size, 3)
  t.not(sessions.create().id, id)
  const remote = local({ allowRemote: true, sessions })
  const host = { host: '127.0.0.1:4000' }
  const withKey = { ...host, 'x-djcloud-session': key }
  t.is(codeOf(() => guardRequest(req('GET', { ...withKey, cookie: `djcloud_session=${id}` }), remote)), 'ok')
  t.is(codeOf(() => guardRequest(req('POST', { ...withKey, cookie: `a=b; djcloud_session=${id}; c=d` }), local({ sessions }))), 'ok')
  t.is(codeOf(() => guardRequest(req('POST', { ...withKey, cookie: ['a=b', `djcloud_session=${id}`] }), local({ sessions }))), 'ok')
  // The cookie alone (what another service on this host, any port, receives) is refused, on reads and writes.
  t.is(codeOf(() => guardRequest(req('GET', { ...host, cookie: `djcloud_session=${id}` }), remote)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(req('POST', { ...host, cookie: `djcloud_session=${id}` }), local({ sessions }))), '401 ERR_UNAUTHORIZED')
  // So is the key alone, another session's key, or the stream key as the header.
  t.is(codeOf(() => guardRequest(req('GET', withKey), remote)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(req('GET', { ...host, 'x-djcloud-session': sessions.create().key, cookie: `djcloud_session=${id}` }), remote)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(req('GET', { ...host, 'x-djcloud-session': streamKey, cookie: `djcloud_session=${id}` }), remote)), '401 ERR_UNAUTHORIZED')
  // The stream key: in the query of a GET/HEAD /stream/... only; not the session key there, and not elsewhere.
  const stream = `/stream/${'a'.repeat(64)}`
  t.is(codeOf(() => guardRequest(req('GET', { ...host, cookie: `djcloud_session=${id}` }, `${stream}?sk=${streamKey}`), remote)), 'ok')
  t.is(codeOf(() => guardRequest(req('HEAD', { ...host, cookie: `djcloud_session=${id}` }, `${stream}?sk=${streamKey}`), remote)), 'ok')
  for (const url of [`${stream}?sk=${key}`, `${stream}?sk=${streamKey}&sk=${streamKey}`, `${stream}`, `/api/library?sk=${streamKey}`, `/streamx?sk=${streamKey}`]) {
    t.is(codeOf(() => guardRequest(req('GET', { ...host, cookie: `djcloud_session=${id}` }, url), remote)), '401 ERR_UNAUTHORIZED', url)
  }
  t.is(codeOf(() => guardRequest(req('GET', { ...host }, `${stream}?sk=${streamKey}`), remote)), '401 ERR_UNAUTHORIZED', 'no cookie')
  t.is(codeOf(() => guardRequest(req('POST', { ...host, cookie: `djcloud_session=${id}` }, `${stream}?sk=${streamKey}`), local({ sessions }))), '401 ERR_UNAUTHORIZED')
  for (const cookie of [`djcloud_session=${id}x`, `djcloud_session=${'A'.repeat(43)}`, `xdjcloud_session=${id}`, 'djcloud_session=']) {
    t.is(codeOf(() => guardRequest(req('GET', { ...withKey, cookie }), remote)), '401 ERR_UNAUTHORIZED', cookie)
  }
  // The session never gets past the Host and Origin checks, and a policy without sessions ignores it.
  t.is(codeOf(() => guardRequest(req('POST', { ...withKey, origin: 'http://evil.example', cookie: `djcloud_session=${id}` }), remote)), '403 ERR_FORBIDDEN_ORIGIN')
  t.is(codeOf(() => guardRequest(req('POST', { ...withKey, cookie: `djcloud_session=${id}` }), local())), '401 ERR_UNAUTHORIZED')
  // A wrong Authorization header is not rescued by the session.
  t.is(codeOf(() => guardRequest(req('POST', { ...withKey, authorization: 'Bearer nope', cookie: `djcloud_session=${id}` }), remote)), '401 ERR_UNAUTHORIZED')
  t.is(sessionCookie(req('GET', { cookie: ` djcloud_session = ${id} ` })), id)
  now += SESSION_MAX_AGE * 1000 + 1
  t.false(sessions.check(id, key, 'key'), 'expired after 30 days')
  t.is(codeOf(() => guardRequest(req('GET', { ...withKey, cookie: `djcloud_session=${id}` }), remote)), '401 ERR_UNAUTHORIZED')
})

test('the session store keeps at most MAX_SESSIONS, dropping the oldest', (t) => {
  const sessions = new SessionStore()
  const first = sessions.create()
  const second = sessions.create()
  for (let i = 2; i < MAX_SESSIONS; i++) sessions.create()
  t.true(sessions.check(first.id, first.key, 'key'))
  sessions.create()
  t.is(sessions.size, MAX_SESSIONS)
  t.false(sessions.check(first.id, first.key, 'key'))
  t.true(sessions.check(second.id, second.key, 'key'))
  t.true(sessions.check(second.id, second.streamKey, 'stream'))
  t.false(sessions.check(second.id, second.streamKey, 'key'))
})

test('the token goes into the page only for a loopback Host from a loopback peer', (t) => {
  const page = (host: string, remoteAddress: string) => ({ headers: { host }, socket: { remoteAddress } }) as unknown as IncomingMessage
  t.true(servedToThisMachine(page('127.0.0.1:4000', '127.0.0.1')))
  t.true(servedToThisMachine(page('localhost:4000', '::1')))
  t.true(servedToThisMachine(page('[::1]:4000', '::ffff:127.0.0.1')))
  t.false(servedToThisMachine(page('127.0.0.1:4000', '192.168.1.30')), 'a LAN client naming a loopback Host')
  t.false(servedToThisMachine(page('dj-laptop.local:4000', '127.0.0.1')))
  t.false(servedToThisMachine(page('192.168.1.20:4000', '192.168.1.30')))
  t.is(withToken('<HTML><HEAD lang="x"><title>t</title></HEAD></HTML>', 'a"<b'), '<HTML><HEAD lang="x"><meta name="djcloud-token" content="a&quot;&lt;b"><title>t</title></HEAD></HTML>')
  t.is(withToken('<p>no head</p>', 'tok'), '<meta name="djcloud-token" content="tok"><p>no head</p>')
})

test('a paired browser device\'s token stands in for the token while its device may use it, and says whose it is; so do its sessions', (t) => {
  const DEVICE_TOKEN = 'd'.repeat(43)
  let allowed = true
  const deviceTokens = { deviceOf: (tok: string) => (tok === DEVICE_TOKEN && allowed ? 'ab'.repeat(32) : null), allowed: () => allowed }
  const sessions = new SessionStore(Date.now, () => allowed)
  const policy = local({ deviceTokens, sessions, allowRemote: true })
  const host = { host: '127.0.0.1:4000' }
  t.deepEqual(guardRequest(req('POST', { ...host, authorization: `Bearer ${TOKEN}` }), policy), { kind: 'token' })
  t.deepEqual(guardRequest(req('POST', { ...host, authorization: `Bearer ${DEVICE_TOKEN}` }), policy), { kind: 'device', device: 'ab'.repeat(32) })
  t.deepEqual(guardRequest(req('GET', host), local()), { kind: 'none' }, 'a read on loopback needs nothing')
  const mine = sessions.create('ab'.repeat(32))
  const owners = sessions.create()
  const withSession = (s: { id: string; key: string }) => req('POST', { ...host, cookie: `djcloud_session=${s.id}`, 'x-djcloud-session': s.key })
  t.deepEqual(guardRequest(withSession(mine), policy), { kind: 'device', device: 'ab'.repeat(32) })
  t.deepEqual(guardRequest(withSession(owners), policy), { kind: 'token' })
  allowed = false // revoked
  t.is(codeOf(() => guardRequest(req('POST', { ...host, authorization: `Bearer ${DEVICE_TOKEN}` }), policy)), '401 ERR_UNAUTHORIZED')
  t.is(codeOf(() => guardRequest(withSession(mine), policy)), '401 ERR_UNAUTHORIZED', 'its session ends with it')
  t.deepEqual(guardRequest(withSession(owners), policy), { kind: 'token' }, 'the node token\'s session lives on')
  t.is(codeOf(() => guardRequest(req('POST', { ...host, authorization: `Bearer ${DEVICE_TOKEN}` }), local())), '401 ERR_UNAUTHORIZED', 'a server without device tokens takes none')
})
