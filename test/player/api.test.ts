// The JSON API and the guard, against a real server and library.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { auth, startFixture, TOKEN } from './fixture.ts'
import { writeTrack } from '../helpers/tracks.ts'
import pkg from '../../package.json' with { type: 'json' }

test('GET /api/health', async (t) => {
  const f = await startFixture(t, { count: 0 })
  const r = await f.send({ path: '/api/health' })
  t.is(r.status, 200)
  t.is(r.headers['content-type'], 'application/json; charset=utf-8')
  t.is(r.headers['cache-control'], 'no-store')
  t.deepEqual(r.json(), { ok: true, version: pkg.version })
  t.is(f.server.url, `http://127.0.0.1:${f.port}`)
})

test('GET /api/library lists, searches, sorts and limits', async (t) => {
  const f = await startFixture(t, { count: 3 })
  const all = (await f.send({ path: '/api/library' })).json()
  t.is(all.tracks.length, 3)
  const one = all.tracks.find((x: { sha256: string }) => x.sha256 === f.tracks[0]!.sha256)
  t.like(one, {
    size: f.tracks[0]!.size,
    format: 'wav',
    mimeType: 'audio/wav',
    paths: [f.tracks[0]!.path],
    missing: false,
    stream: `/stream/${f.tracks[0]!.sha256}`,
    tags: { title: 'Track 0', artist: 'Artist 0', bpm: 120 },
  })
  t.deepEqual(Object.keys(one).sort(), ['added', 'audioHash', 'format', 'mimeType', 'missing', 'paths', 'pieceLength', 'sha256', 'size', 'stream', 'tags', 'updated'])
  const found = (await f.send({ path: '/api/library?query=artist%201' })).json()
  t.deepEqual(found.tracks.map((x: { tags: { title: string } }) => x.tags.title), ['Track 1'])
  const sorted = (await f.send({ path: '/api/library?sort=bpm&reverse=true&limit=2' })).json()
  t.deepEqual(sorted.tracks.map((x: { tags: { bpm: number } }) => x.tags.bpm), [122, 121])
})

test('GET /api/library refuses bad parameters with 400', async (t) => {
  const f = await startFixture(t, { count: 0 })
  for (const q of ['sort=colour', 'limit=0', 'limit=100001', 'limit=1.5', 'limit=-1', 'limit=abc', 'reverse=maybe', 'nope=1', 'limit=1&limit=2', `query=${'x'.repeat(2000)}`]) {
    const r = await f.send({ path: `/api/library?${q}` })
    t.is(r.status, 400, q)
    t.is(r.json().error.code, 'ERR_BAD_PARAM', q)
  }
  t.is((await f.send({ path: '/api/library?limit=100000&sort=added&reverse=0' })).status, 200)
})

test('GET /api/library?view=compact: one array per track in the fields\' order, same search, sort and limit', async (t) => {
  const f = await startFixture(t, { count: 3 })
  const full = (await f.send({ path: '/api/library?sort=title' })).json().tracks
  const r = await f.send({ path: '/api/library?view=compact&sort=title' })
  t.is(r.status, 200)
  const { fields, rows } = r.json()
  t.deepEqual(fields, ['sha256', 'audioHash', 'title', 'artist', 'album', 'genre', 'duration', 'format', 'size', 'bpm', 'key', 'tagBpm', 'tagKey', 'camelot', 'openKey', 'lufs', 'holders', 'cached'])
  t.is(rows.length, 3)
  const row = Object.fromEntries(fields.map((name: string, i: number) => [name, rows[0][i]]))
  t.deepEqual(row, {
    sha256: full[0].sha256, audioHash: full[0].audioHash, title: 'Track 0', artist: 'Artist 0', album: null, genre: null,
    duration: full[0].tags.duration, format: 'wav', size: full[0].size, bpm: null, key: null, tagBpm: 120, tagKey: null,
    camelot: null, openKey: null, lufs: null, holders: [], cached: 0,
  })
  t.true(row.duration > 1.9 && row.duration < 2.1)
  const sorted = (await f.send({ path: '/api/library?sort=bpm&reverse=1&limit=2&view=compact' })).json()
  t.deepEqual(sorted.rows.map((x: unknown[]) => x[11]), [122, 121])
  t.deepEqual((await f.send({ path: '/api/library?view=compact&query=artist%202' })).json().rows.map((x: unknown[]) => x[2]), ['Track 2'])
  t.is((await f.send({ path: '/api/library?view=full' })).json().tracks.length, 3)
  for (const q of ['view=table', 'view=compact&view=compact', 'view=compact&nope=1']) {
    const bad = await f.send({ path: `/api/library?${q}` })
    t.is(bad.status, 400, q)
    t.is(bad.json().error.code, 'ERR_BAD_PARAM', q)
  }
})

test('GET /api/tracks/<sha256>: one track, 404 unknown, 400 malformed', async (t) => {
  const f = await startFixture(t)
  const r = await f.send({ path: `/api/tracks/${f.tracks[1]!.sha256}` })
  t.is(r.status, 200)
  t.is(r.json().track.sha256, f.tracks[1]!.sha256)
  const unknown = await f.send({ path: `/api/tracks/${'f'.repeat(64)}` })
  t.is(unknown.status, 404)
  t.deepEqual(Object.keys(unknown.json().error).sort(), ['code', 'message'])
  t.is(unknown.json().error.code, 'ERR_TRACK_NOT_FOUND')
  t.is((await f.send({ path: '/api/tracks/123' })).json().error.code, 'ERR_BAD_ID')
})

test('unknown /api/ paths are 404 JSON, wrong methods 405 with Allow', async (t) => {
  const f = await startFixture(t, { count: 0 })
  for (const path of ['/api/nope', '/api', '/', '/api/health/', '/api//health']) {
    const r = await f.send({ path })
    t.is(r.status, 404, path)
    t.is(r.json().error.code, 'ERR_NOT_FOUND', path)
  }
  const r = await f.send({ method: 'POST', path: '/api/health', headers: auth() })
  t.is(r.status, 405)
  t.is(r.headers.allow, 'GET, HEAD, OPTIONS')
  const get = await f.send({ path: '/api/scan' })
  t.is(get.status, 405)
  t.is(get.headers.allow, 'POST, OPTIONS')
})

test('POST /api/scan needs the token; with it, it scans and returns the summary', async (t) => {
  const f = await startFixture(t, { count: 1 })
  const more = join(f.music, 'more')
  await mkdir(more)
  await writeTrack(join(more, 'new.wav'), { title: 'New' }, 9)
  const body = JSON.stringify({ roots: [f.music] })
  const json = { 'content-type': 'application/json' }

  const none = await f.send({ method: 'POST', path: '/api/scan', headers: json, body })
  t.is(none.status, 401)
  t.is(none.json().error.code, 'ERR_UNAUTHORIZED')
  t.is(none.headers['www-authenticate'], 'Bearer realm="djcloud"')
  const wrong = await f.send({ method: 'POST', path: '/api/scan', headers: { ...json, ...auth('b'.repeat(64)) }, body })
  t.is(wrong.status, 401)
  const short = await f.send({ method: 'POST', path: '/api/scan', headers: { ...json, ...auth(TOKEN.slice(1)) }, body })
  t.is(short.status, 401)
  t.is((await f.library.list()).length, 1, 'nothing was scanned without the token')

  const ok = await f.send({ method: 'POST', path: '/api/scan', headers: { ...json, ...auth() }, body })
  t.is(ok.status, 200)
  t.like(ok.json().summary, { roots: [f.music], files: 2, added: 1, unchanged: 1 })
  t.is((await f.library.list()).length, 2)

  // No body: the folders scanned before.
  const again = await f.send({ method: 'POST', path: '/api/scan', headers: auth() })
  t.is(again.status, 200)
  t.like(again.json().summary, { files: 2, unchanged: 2 })
})

test('POST /api/scan validates its body', async (t) => {
  const f = await startFixture(t, { count: 0, scan: false })
  const post = (body: string, type = 'application/json') => f.send({ method: 'POST', path: '/api/scan', headers: { 'content-type': type, ...auth() }, body })
  const cases: Array<[string, number, string, string?]> = [
    ['{"roots": "/music"}', 400, 'ERR_BAD_PARAM'],
    ['{"roots": [1]}', 400, 'ERR_BAD_PARAM'],
    ['{"roots": ["music"]}', 400, 'ERR_BAD_PARAM'], // relative
    ['{"roots": []}', 400, 'ERR_BAD_PARAM'],
    [JSON.stringify({ roots: Array.from({ length: 65 }, (_, i) => `/m${i}`) }), 400, 'ERR_BAD_PARAM'],
    ['{"roots": ["/x"], "force": true}', 400, 'ERR_BAD_PARAM'],
    ['[]', 400, 'ERR_BAD_PARAM'],
    ['{"roots": [', 400, 'ERR_BAD_JSON'],
    ['{}', 400, 'ERR_BAD_PARAM'], // no roots given and none scanned before
    [JSON.stringify({ roots: [join(f.music, 'not-there')] }), 400, 'ERR_BAD_ROOT'],
    ['roots=/x', 415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'application/x-www-form-urlencoded'],
    [JSON.stringify({ roots: ['/' + 'x'.repeat(1024 * 1024)] }), 413, 'ERR_PAYLOAD_TOO_LARGE'],
  ]
  for (const [body, status, code, type] of cases) {
    const r = await post(body, type)
    t.is(r.status, status, body.slice(0, 40))
    t.is(r.json().error.code, code, body.slice(0, 40))
  }
})

test('Host must be one of the server own names (DNS rebinding is refused)', async (t) => {
  const f = await startFixture(t, { count: 1 })
  const path = `/stream/${f.tracks[0]!.sha256}`
  for (const host of ['evil.example', `evil.example:${f.port}`, '127.0.0.1', `127.0.0.1:${f.port + 1}`, `192.168.1.10:${f.port}`, `localhost.evil.example:${f.port}`]) {
    const r = await f.send({ path, headers: { host } })
    t.is(r.status, 403, host)
    t.is(r.json().error.code, 'ERR_FORBIDDEN_HOST', host)
  }
  for (const host of [`127.0.0.1:${f.port}`, `localhost:${f.port}`, `LOCALHOST:${f.port}`, `[::1]:${f.port}`]) {
    t.is((await f.send({ path, headers: { host } })).status, 200, host)
  }
  // The token does not replace the Host check.
  t.is((await f.send({ path, headers: { host: 'evil.example', ...auth() } })).status, 403)
})

test('Origin must be absent or the server own; cross-site fetch metadata is refused', async (t) => {
  const f = await startFixture(t, { count: 1 })
  const path = `/stream/${f.tracks[0]!.sha256}`
  for (const origin of ['http://evil.example', `http://127.0.0.1:${f.port + 1}`, `https://127.0.0.1:${f.port}`, 'null']) {
    const r = await f.send({ path, headers: { origin } })
    t.is(r.status, 403, origin)
    t.is(r.json().error.code, 'ERR_FORBIDDEN_ORIGIN', origin)
  }
  // A page elsewhere POSTing with the right token still cannot: its Origin gives it away.
  const post = await f.send({ method: 'POST', path: '/api/scan', headers: { origin: 'http://evil.example', ...auth() } })
  t.is(post.status, 403)
  t.is((await f.send({ path, headers: { origin: `http://127.0.0.1:${f.port}` } })).status, 200)
  t.is((await f.send({ path, headers: { origin: `http://localhost:${f.port}` } })).status, 200)
  t.is((await f.send({ path, headers: { 'sec-fetch-site': 'cross-site' } })).status, 403)
  t.is((await f.send({ path, headers: { 'sec-fetch-site': 'same-site' } })).status, 403)
  t.is((await f.send({ path, headers: { 'sec-fetch-site': 'same-origin' } })).status, 200)
  t.is((await f.send({ path, headers: { 'sec-fetch-site': 'none' } })).status, 200)
})

test('remote access: every request needs the token', async (t) => {
  const f = await startFixture(t, { count: 1, server: { allowRemote: true } })
  const path = `/stream/${f.tracks[0]!.sha256}`
  for (const p of [path, '/api/health', '/api/library', '/nope']) {
    const r = await f.send({ path: p })
    t.is(r.status, 401, p)
    t.is(r.json().error.code, 'ERR_UNAUTHORIZED', p)
  }
  t.is((await f.send({ method: 'OPTIONS', path })).status, 401)
  t.is((await f.send({ path, headers: auth() })).status, 200)
  t.is((await f.send({ path: '/api/health', headers: { authorization: `bearer ${TOKEN}` } })).status, 200)
  t.is((await f.send({ path: '/api/health', headers: { authorization: `Basic ${TOKEN}` } })).status, 401)
})

test('bodies on GET are refused, and a refused POST body is not drained', async (t) => {
  const f = await startFixture(t, { count: 0 })
  const r = await f.send({ path: '/api/health', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.is(r.status, 400)
  const refused = await f.send({ method: 'POST', path: '/api/scan', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.is(refused.status, 401)
  t.is(refused.headers.connection, 'close')
})

test('HEAD on JSON endpoints: headers without a body; oversized headers are refused by the server', async (t) => {
  const f = await startFixture(t, { count: 0 })
  const head = await f.send({ method: 'HEAD', path: '/api/health' })
  t.is(head.status, 200)
  t.true(Number(head.headers['content-length']) > 0)
  t.is(head.body.length, 0)
  const big = await f.send({ path: '/api/health', headers: { 'x-filler': 'x'.repeat(20 * 1024) } })
  t.is(big.status, 431)
})
