// The service worker's policy (src/ui/logic/offline.ts): which requests it
// answers and how, what it keeps, and the page's reading of a kept answer.
import test from 'ava'
import { cachedAt, CACHED_AT_HEADER, offlineBanner, requestKind, withoutToken, type RequestFacts } from '../../src/ui/logic/index.ts'
import { withToken } from '../../src/player/index.ts'

const ORIGIN = 'http://127.0.0.1:7465'
const kind = (path: string, more: Partial<RequestFacts> = {}) => requestKind({ method: 'GET', url: ORIGIN + path, origin: ORIGIN, mode: 'cors', range: false, ...more })

test('page loads, built files, the library view\'s reads, /stream/ and the rest', (t) => {
  t.is(kind('/', { mode: 'navigate' }), 'page')
  t.is(kind('/?test=1', { mode: 'navigate' }), 'page')
  t.is(kind('/index.html', { mode: 'navigate' }), 'page')
  t.is(kind('/api/library', { mode: 'navigate' }), 'network', 'opening an API URL in a tab is not the app')
  t.is(kind('/assets/index-C7GI7Ipx.js'), 'shell')
  t.is(kind('/manifest.webmanifest'), 'shell')
  for (const path of ['/api/library', '/api/library?view=compact', '/api/plays/counts', '/api/playlists', '/api/playlists/Friday%20set']) t.is(kind(path), 'api', path)
  t.is(kind('/stream/' + 'a'.repeat(64)), 'stream')
  t.is(kind('/stream/' + 'a'.repeat(64), { range: true }), 'stream', 'the browser device\'s hook sees every /stream/ request')
})

test('never kept: other API reads (tokens, sessions, pairing codes, the roster), writes, Range requests, other origins', (t) => {
  for (const path of ['/api/health', '/api/session', '/api/circle', '/api/pair', '/api/devices', '/api/cache', '/api/stats', '/api/streams', '/api/playlists/x/tracks', '/api/cues/abc', '/api/export/rekordbox', '/sw.js', '/rest/ping']) {
    t.is(kind(path), 'network', path)
  }
  t.is(kind('/api/library', { method: 'POST' }), 'network')
  t.is(kind('/api/playlists', { method: 'POST' }), 'network')
  t.is(kind('/api/library', { range: true }), 'network')
  t.is(kind('/assets/index-C7GI7Ipx.js', { range: true }), 'network')
  t.is(requestKind({ method: 'GET', url: 'http://127.0.0.1:9999/api/library', origin: ORIGIN, mode: 'cors', range: false }), 'network', 'another port is another origin')
  t.is(requestKind({ method: 'GET', url: 'not a url', origin: ORIGIN, mode: 'cors', range: false }), 'network')
})

test('the kept page never holds the token the node puts in a loopback page', (t) => {
  const page = '<!doctype html><html><head><meta charset="utf-8"><title>djcloud</title></head><body></body></html>'
  const token = 'tok-' + 'x'.repeat(40)
  const live = withToken(page, token)
  t.true(live.includes(token))
  t.is(withoutToken(live), page)
  t.is(withoutToken(page), page)
  t.is(withoutToken(withToken(page, 'a"<b>&c' + 'y'.repeat(20))), page, 'an escaped token too')
})

test('a kept answer is told by its header; the banner says when it was fetched', (t) => {
  const h = (v: string | null) => ({ get: (name: string) => (name === CACHED_AT_HEADER ? v : null) })
  t.is(cachedAt(h(null)), null)
  t.is(cachedAt(h('1765000000000')), 1765000000000)
  t.is(cachedAt(h('soon')), null)
  t.is(cachedAt(h('-1')), null)
  const at = Date.UTC(2026, 11, 7, 3, 45)
  t.regex(offlineBanner(at, 'en-GB'), /^offline: showing the library as of 7 Dec 2026, \d\d:\d\d$/)
})
