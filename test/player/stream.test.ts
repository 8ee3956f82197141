// /stream/<sha256> against a real LocalLibrary and real WAV files.
import test from 'ava'
import { readFile, truncate, unlink } from 'node:fs/promises'
import { startFixture } from './fixture.ts'

test('no Range: 200 with the whole file, its type, ETag and Accept-Ranges', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[0]!
  const bytes = await readFile(track.path)
  const r = await f.send({ path: `/stream/${track.sha256}` })
  t.is(r.status, 200)
  t.is(r.headers['content-type'], 'audio/wav')
  t.is(r.headers['content-length'], String(bytes.length))
  t.is(r.headers['accept-ranges'], 'bytes')
  t.is(r.headers.etag, `"${track.sha256}"`)
  t.is(r.headers['content-range'], undefined)
  t.is(r.headers['x-content-type-options'], 'nosniff')
  t.true(r.body.equals(bytes))
})

test('ranges: first byte, middle, open-ended, suffix, past the end, all byte-exact', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[1]!
  const bytes = await readFile(track.path)
  const size = bytes.length
  const cases: Array<[string, number, number]> = [
    ['bytes=0-0', 0, 0],
    ['bytes=100-4099', 100, 4099],
    [`bytes=${size - 1000}-`, size - 1000, size - 1],
    ['bytes=-500', size - 500, size - 1],
    [`bytes=-${size * 2}`, 0, size - 1], // a suffix longer than the track is the whole track
    [`bytes=10-${size * 3}`, 10, size - 1], // an end past the track is clamped
    [`BYTES = 5-9`, 5, 9], // the unit is case-insensitive
  ]
  for (const [range, start, end] of cases) {
    const r = await f.send({ path: `/stream/${track.sha256}`, headers: { range } })
    t.is(r.status, 206, range)
    t.is(r.headers['content-range'], `bytes ${start}-${end}/${size}`, range)
    t.is(r.headers['content-length'], String(end - start + 1), range)
    t.true(r.body.equals(bytes.subarray(start, end + 1)), range)
  }
})

test('HEAD gives the headers of GET and no body, with or without a range', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[0]!
  const full = await f.send({ method: 'HEAD', path: `/stream/${track.sha256}` })
  t.is(full.status, 200)
  t.is(full.headers['content-length'], String(track.size))
  t.is(full.headers['content-type'], 'audio/wav')
  t.is(full.body.length, 0)
  const part = await f.send({ method: 'HEAD', path: `/stream/${track.sha256}`, headers: { range: 'bytes=10-19' } })
  t.is(part.status, 206)
  t.is(part.headers['content-range'], `bytes 10-19/${track.size}`)
  t.is(part.headers['content-length'], '10')
  t.is(part.body.length, 0)
})

test('unsatisfiable ranges: 416 with Content-Range bytes */SIZE and a JSON error', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[0]!
  for (const range of [`bytes=${track.size}-`, `bytes=${track.size + 10}-${track.size + 20}`, 'bytes=-0', `bytes=${track.size}-, ${track.size + 1}-`]) {
    const r = await f.send({ path: `/stream/${track.sha256}`, headers: { range } })
    t.is(r.status, 416, range)
    t.is(r.headers['content-range'], `bytes */${track.size}`, range)
    t.is(r.json().error.code, 'ERR_RANGE_NOT_SATISFIABLE')
  }
})

test('malformed, foreign-unit and multiple ranges are ignored: 200 with the whole file', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[0]!
  const bytes = await readFile(track.path)
  for (const range of ['bytes=abc', 'bytes=9-5', 'bytes=-', 'bytes 0-10', 'items=0-10', 'bytes=0-1,5-6', 'bytes=1-2-3']) {
    const r = await f.send({ path: `/stream/${track.sha256}`, headers: { range } })
    t.is(r.status, 200, range)
    t.is(r.headers['content-range'], undefined, range)
    t.true(r.body.equals(bytes), range)
  }
})

test('If-Range: the ETag keeps the range, anything else sends it all; If-None-Match gives 304', async (t) => {
  const f = await startFixture(t)
  const track = f.tracks[0]!
  const etag = `"${track.sha256}"`
  const kept = await f.send({ path: `/stream/${track.sha256}`, headers: { range: 'bytes=0-9', 'if-range': etag } })
  t.is(kept.status, 206)
  const dropped = await f.send({ path: `/stream/${track.sha256}`, headers: { range: 'bytes=0-9', 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT' } })
  t.is(dropped.status, 200)
  t.is(dropped.body.length, track.size)
  const cached = await f.send({ path: `/stream/${track.sha256}`, headers: { 'if-none-match': `W/"x", ${etag}` } })
  t.is(cached.status, 304)
  t.is(cached.headers.etag, etag)
  t.is(cached.body.length, 0)
})

test('ids: malformed is 400, unknown is 404, traversal attempts never reach a file', async (t) => {
  const f = await startFixture(t)
  const bad = await f.send({ path: '/stream/XYZ' })
  t.is(bad.status, 400)
  t.is(bad.json().error.code, 'ERR_BAD_ID')
  t.is((await f.send({ path: `/stream/${f.tracks[0]!.sha256.toUpperCase()}` })).status, 400)
  const unknown = await f.send({ path: `/stream/${'0'.repeat(64)}` })
  t.is(unknown.status, 404)
  t.is(unknown.json().error.code, 'ERR_TRACK_NOT_FOUND')
  t.is(unknown.headers['cache-control'], 'no-store')
  for (const path of [
    '/stream/..%2F..%2Fetc%2Fpasswd',
    '/stream/../../etc/passwd',
    '/stream/%2e%2e',
    '/stream/..%5C..%5Cwindows',
    '/stream/%00',
    '/stream/%zz',
    `/stream/${f.tracks[0]!.sha256}%2F..`,
  ]) {
    const r = await f.send({ path })
    t.true(r.status === 400 || r.status === 404, `${path} -> ${r.status}`)
    t.truthy(r.json().error.code, path)
    t.false(r.body.toString('latin1').includes('root:'), path)
  }
  t.is((await f.send({ path: 'http://evil.example/stream/x' })).status, 400) // absolute-form target
})

test('a track whose file changed size or vanished is not served from the stale record', async (t) => {
  const f = await startFixture(t)
  const [a, b] = f.tracks
  await truncate(a!.path, 100)
  t.is((await f.send({ path: `/stream/${a!.sha256}` })).status, 404)
  await unlink(b!.path)
  t.is((await f.send({ path: `/stream/${b!.sha256}` })).status, 404)
})

test('only GET and HEAD: other methods are 405 with Allow (state-changing ones need the token first)', async (t) => {
  const f = await startFixture(t)
  const path = `/stream/${f.tracks[0]!.sha256}`
  t.is((await f.send({ method: 'DELETE', path })).status, 401)
  const r = await f.send({ method: 'DELETE', path, headers: { authorization: `Bearer ${'a'.repeat(64)}` } })
  t.is(r.status, 405)
  t.is(r.headers.allow, 'GET, HEAD, OPTIONS')
  const opts = await f.send({ method: 'OPTIONS', path })
  t.is(opts.status, 204)
  t.is(opts.headers.allow, 'GET, HEAD, OPTIONS')
})

test('the track source learns where a GET will start reading: 0 without a Range, the first byte of bytes=N-, nothing for a suffix or HEAD', async (t) => {
  const seen: Array<number | undefined> = []
  const f = await startFixture(t, {
    server: {
      tracks: {
        resolve: async (_sha, _signal, from) => {
          seen.push(from)
          return null
        },
      },
    },
  })
  const sha = f.tracks[0]!.sha256
  const ranges: Array<Record<string, string>> = [{}, { range: 'bytes=600000-' }, { range: 'bytes=100-199' }, { range: 'bytes=-500' }]
  for (const headers of ranges) await f.send({ path: `/stream/${sha}`, headers })
  await f.send({ method: 'HEAD', path: `/stream/${sha}` })
  t.deepEqual(seen, [0, 600000, 100, undefined, undefined])
})
