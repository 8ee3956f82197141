import test from 'ava'
import { randomBytes } from 'node:crypto'
import { decode, encode } from '../../src/codec/index.ts'
import {
  decodePage, encodePages, ManifestError, packBlob, pageCountFor, pageOf, rootFromBody, rootToBody, unpackBlob, LIBRARY_CAPS,
} from '../../src/manifest/index.ts'
import { fakeTracks } from './fake-tracks.ts'

const secret = randomBytes(32)

test('page count grows in powers of two with about 64 tracks a page', (t) => {
  t.is(pageCountFor(0), 1)
  t.is(pageCountFor(64), 1)
  t.is(pageCountFor(65), 2)
  t.is(pageCountFor(10_000), 256)
  t.is(pageCountFor(100_000), 1024)
})

test('pages round-trip: every track comes back on the page its hash names, tags intact', (t) => {
  const tracks = fakeTracks(500)
  const pages = encodePages(tracks)
  t.is(pages.length, pageCountFor(500))
  const back = pages.flatMap((p, i) => decodePage(p, i, pages.length))
  t.is(back.length, 500)
  const bySha = new Map(back.map((x) => [x.sha256, x]))
  for (const x of tracks) {
    const y = bySha.get(x.sha256)!
    t.is(y.audioHash, x.audioHash)
    t.is(y.tags.title, x.tags.title)
    t.is(y.tags.bpm, Math.round(x.tags.bpm! * 100) / 100)
    t.is(y.tags.duration, Math.round(x.tags.duration! * 1000) / 1000)
  }
})

test('a one-track change rewrites one page: the rest are byte-identical blobs', (t) => {
  const tracks = fakeTracks(10_000)
  const before = encodePages(tracks).map((p) => packBlob(p, secret).sha256)
  const changed = tracks.map((x, i) => (i === 1234 ? { ...x, tags: { ...x.tags, title: 'Retitled' } } : x))
  const after = encodePages(changed).map((p) => packBlob(p, secret).sha256)
  const differing = before.filter((h, i) => h !== after[i])
  t.is(differing.length, 1)
  t.is(before.indexOf(differing[0]!), pageOf(tracks[1234]!.sha256, before.length))
})

test('a page holding a track of another page, unsorted or repeated tracks is refused', (t) => {
  const tracks = fakeTracks(200)
  const pages = encodePages(tracks)
  const err = t.throws(() => decodePage(pages[0]!, 1, pages.length), { instanceOf: ManifestError })
  t.is(err.code, 'ERR_MALFORMED')
  const d = decode(pages[0]!) as { tracks: unknown[] }
  const twice = encode({ tracks: [d.tracks[0], d.tracks[0]] } as never)
  t.is(t.throws(() => decodePage(twice, 0, pages.length), { instanceOf: ManifestError }).code, 'ERR_MALFORMED')
})

test('hostile pages: bad hashes, unknown formats, oversized tags are refused', (t) => {
  const base = { sha256: Buffer.alloc(32), audio: Buffer.alloc(32), size: 10, format: 'mp3', tags: {} }
  const bad = [
    { ...base, sha256: Buffer.alloc(31) },
    { ...base, format: 'exe' },
    { ...base, size: -1 },
    { ...base, tags: { title: 'x'.repeat(2000) } },
    { ...base, tags: { year: 'nineteen' } },
  ]
  for (const b of bad) {
    const err = t.throws(() => decodePage(encode({ tracks: [b] } as never), 0, 1), { instanceOf: ManifestError })
    t.regex(err.code, /ERR_MALFORMED|ERR_TOO_LARGE/)
  }
})

test('roots: page count must match the track count; names unique; caps hold', (t) => {
  const ok = rootToBody({ count: 100, pages: [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')], playlists: [] })
  t.is(rootFromBody(decode(encode(ok))).count, 100)
  const wrongPages = rootToBody({ count: 100, pages: [randomBytes(32).toString('hex')], playlists: [] })
  t.is(t.throws(() => rootFromBody(decode(encode(wrongPages))), { instanceOf: ManifestError }).code, 'ERR_MALFORMED')
  const dup = rootToBody({
    count: 0,
    pages: [randomBytes(32).toString('hex')],
    playlists: [
      { name: 'a', seq: 1, blob: randomBytes(32).toString('hex') },
      { name: 'a', seq: 2, blob: randomBytes(32).toString('hex') },
    ],
  })
  t.is(t.throws(() => rootFromBody(decode(encode(dup))), { instanceOf: ManifestError }).code, 'ERR_MALFORMED')
  t.throws(() => encodePages(fakeTracks(LIBRARY_CAPS.tracks + 1)), { instanceOf: ManifestError })
})

test('a library manifest refuses unknown fields in its root, its playlists, track, tags, analysis, overview; a page passes over sections it does not know', (t) => {
  const [track] = fakeTracks(1)
  const overview = { columns: 2, secondsPerColumn: 1, data: new Uint8Array(8) }
  const analysis = {
    version: 2, duration: 10, bpm: 120, tempoRange: { min: 60, max: 180 }, bpmConfidence: 0.5, beatOffset: 0, key: 'A minor', camelot: '8A',
    openKey: '1m', keyStrength: 0.5, lufs: -9, peakDb: -1, overview,
  }
  const page = decode(encodePages([{ ...track!, analysis }])[0]!) as Record<string, any>
  t.is(decodePage(encode(page as never), 0, 1).length, 1, 'the valid base case reads')
  const withExtra = (edit: (p: Record<string, any>) => void) => {
    const copy = decode(encode(page as never)) as Record<string, any>
    edit(copy)
    return encode(copy as never)
  }
  t.is(decodePage(withExtra((p) => (p.extra = [1, 2])), 0, 1).length, 1, 'a later version\'s page section is passed over')
  for (const [where, edit] of [
    ['track', (p) => (p.tracks[0].extra = 1)],
    ['tags', (p) => (p.tracks[0].tags.extra = 1)],
    ['analysis', (p) => (p.tracks[0].analysis.extra = 1)],
    ['overview', (p) => (p.tracks[0].analysis.overview.extra = 1)],
  ] as Array<[string, (p: Record<string, any>) => void]>) {
    const err = t.throws(() => decodePage(withExtra(edit), 0, 1), { instanceOf: ManifestError }, where)
    t.is(err.code, 'ERR_MALFORMED', where)
    t.regex(err.message, new RegExp(`${where}: unknown field "extra"`), where)
  }
  const root = rootToBody({ count: 1, pages: [randomBytes(32).toString('hex')], playlists: [{ name: 'a', seq: 1, blob: randomBytes(32).toString('hex') }] })
  t.is(rootFromBody(decode(encode(root))).count, 1)
  t.regex(t.throws(() => rootFromBody(decode(encode({ ...root, extra: 1 }))), { instanceOf: ManifestError }).message, /library root: unknown field "extra"/)
  const listed = { ...root, playlists: root.playlists.map((p) => ({ ...p, extra: 1 })) }
  t.regex(t.throws(() => rootFromBody(decode(encode(listed))), { instanceOf: ManifestError }).message, /playlist: unknown field "extra"/)
})

test('a blob that inflates past its cap is refused as too large (no decompression bomb)', (t) => {
  const bomb = packBlob(Buffer.alloc(16 * 1024 * 1024), secret)
  t.true(bomb.data.length < 64 * 1024)
  const err = t.throws(() => unpackBlob(bomb.data, 1024 * 1024), { instanceOf: ManifestError })
  t.is(err.code, 'ERR_TOO_LARGE')
  // (Not random bytes: now and then those are a valid brotli stream.)
  t.is(t.throws(() => unpackBlob(Buffer.from('this is not brotli at all'), 1024), { instanceOf: ManifestError }).code, 'ERR_MALFORMED')
})

test('an analysis rides in its track: summary, tempo range and overview round-trip; one from before the range reads as the default', (t) => {
  const [track] = fakeTracks(1)
  const overview = { columns: 128, secondsPerColumn: 1.5, data: new Uint8Array(128 * 4).map((_, i) => i % 256) }
  const analysis = {
    version: 2, duration: 192.5, bpm: 87.02, tempoRange: { min: 60, max: 120 }, bpmConfidence: 0.812, beatOffset: 0.123,
    key: 'F minor', camelot: '4A', openKey: '9m', keyStrength: 0.77, lufs: -8.25, peakDb: -0.31, overview,
  }
  const [page] = encodePages([{ ...track!, analysis }])
  const back = decodePage(page!, 0, 1)[0]!.analysis!
  t.deepEqual({ ...back, overview: undefined }, { ...analysis, overview: undefined })
  t.deepEqual(Buffer.from(back.overview!.data), Buffer.from(overview.data))
  t.is(back.overview!.secondsPerColumn, 1.5)

  const raw = decode(page!) as { tracks: Array<{ analysis: Record<string, unknown> }> }
  delete raw.tracks[0]!.analysis.centiRange
  t.deepEqual(decodePage(encode(raw as never), 0, 1)[0]!.analysis!.tempoRange, { min: 85, max: 175 })
  for (const bad of [[17500, 8500], [8500], [0, 100]]) {
    raw.tracks[0]!.analysis.centiRange = bad
    t.is(t.throws(() => decodePage(encode(raw as never), 0, 1), { instanceOf: ManifestError }).code, 'ERR_MALFORMED', String(bad))
  }
})
