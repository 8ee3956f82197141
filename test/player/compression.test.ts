// JSON answers compressed when the client accepts it (br or gzip per
// Accept-Encoding, from COMPRESS_MIN_BYTES up), over real HTTP; audio
// streams and Range answers never are.
import test from 'ava'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { COMPRESS_MIN_BYTES, negotiateEncoding } from '../../src/player/http-io.ts'
import { auth, startFixture } from './fixture.ts'

test('a JSON answer is gzip for a client that accepts gzip, and inflates to the same JSON', async (t) => {
  const f = await startFixture(t, { count: 3 })
  const plain = await f.send({ path: '/api/library', headers: auth() })
  t.true(plain.body.length >= COMPRESS_MIN_BYTES)
  t.is(plain.headers['content-encoding'], undefined)
  t.is(plain.headers['content-length'], String(plain.body.length))
  t.is(plain.headers.vary, 'Accept-Encoding')

  const gz = await f.send({ path: '/api/library', headers: { ...auth(), 'accept-encoding': 'gzip, deflate' } })
  t.is(gz.status, 200)
  t.is(gz.headers['content-encoding'], 'gzip')
  t.is(gz.headers.vary, 'Accept-Encoding')
  t.is(gz.headers['content-type'], 'application/json; charset=utf-8')
  t.is(gz.headers['cache-control'], 'no-store')
  t.true(gz.body.length < plain.body.length)
  t.deepEqual(gunzipSync(gz.body), plain.body)
})

test('brotli when the client accepts it (preferred over gzip at the same q)', async (t) => {
  const f = await startFixture(t, { count: 3 })
  const plain = await f.send({ path: '/api/library', headers: auth() })
  const br = await f.send({ path: '/api/library', headers: { ...auth(), 'accept-encoding': 'gzip, deflate, br, zstd' } })
  t.is(br.headers['content-encoding'], 'br')
  t.deepEqual(brotliDecompressSync(br.body), plain.body)
  const gz = await f.send({ path: '/api/library', headers: { ...auth(), 'accept-encoding': 'br;q=0.5, gzip' } })
  t.is(gz.headers['content-encoding'], 'gzip')
  t.deepEqual(gunzipSync(gz.body), plain.body)
})

test('identity without Accept-Encoding, when every coding is refused, and for small answers', async (t) => {
  const f = await startFixture(t, { count: 3 })
  for (const accept of [null, 'identity', 'gzip;q=0, br;q=0', '*;q=0', 'deflate']) {
    const r = await f.send({ path: '/api/library', headers: { ...auth(), 'accept-encoding': accept } })
    t.is(r.headers['content-encoding'], undefined, String(accept))
    t.is(r.headers['content-length'], String(r.body.length))
    t.is(r.json().tracks.length, 3)
  }
  const small = await f.send({ path: '/api/health', headers: { 'accept-encoding': 'gzip' } })
  t.true(small.body.length < COMPRESS_MIN_BYTES)
  t.is(small.headers['content-encoding'], undefined)
  t.is(small.headers.vary, 'Accept-Encoding')
  t.true(small.json().ok)
})

test('HEAD of a compressed answer: the coding, no body', async (t) => {
  const f = await startFixture(t, { count: 3 })
  const r = await f.send({ method: 'HEAD', path: '/api/library', headers: { ...auth(), 'accept-encoding': 'gzip' } })
  t.is(r.status, 200)
  t.is(r.headers['content-encoding'], 'gzip')
  t.is(r.body.length, 0)
})

test('audio streams and Range answers are never compressed', async (t) => {
  const f = await startFixture(t, { count: 1 })
  const track = f.tracks[0]!
  const whole = await f.send({ path: `/stream/${track.sha256}`, headers: { ...auth(), 'accept-encoding': 'gzip, br' } })
  t.is(whole.status, 200)
  t.is(whole.headers['content-encoding'], undefined)
  t.is(whole.body.length, track.size)
  const part = await f.send({ path: `/stream/${track.sha256}`, headers: { ...auth(), 'accept-encoding': 'gzip, br', range: 'bytes=0-4095' } })
  t.is(part.status, 206)
  t.is(part.headers['content-encoding'], undefined)
  t.is(part.body.length, 4096)
})

test('negotiateEncoding follows q-values and *', (t) => {
  t.is(negotiateEncoding(undefined), null)
  t.is(negotiateEncoding(''), null)
  t.is(negotiateEncoding('gzip'), 'gzip')
  t.is(negotiateEncoding('GZIP, Br'), 'br')
  t.is(negotiateEncoding('br;q=0.1, gzip;q=0.9'), 'gzip')
  t.is(negotiateEncoding('br;q=0, gzip'), 'gzip')
  t.is(negotiateEncoding('*'), 'br')
  t.is(negotiateEncoding('*;q=0.5, br;q=0'), 'gzip')
  t.is(negotiateEncoding('gzip;q=0, *;q=0'), null)
  t.is(negotiateEncoding(['deflate', 'gzip;q=0.3']), 'gzip')
  t.is(negotiateEncoding('gzip;q=nonsense'), null)
})
