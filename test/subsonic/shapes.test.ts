// The wire shapes against golden files (XML, the default, and JSON), the
// sign-in rules, content-derived ids, the apps file and the rendition cache.
import test from 'ava'
import { createHash } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TrackRecord } from '../../src/library/index.ts'
import type { UnionEntry } from '../../src/manifest/index.ts'
import { addApp, appsPath, AppsError, readApps, removeApp, SubsonicError, type AppCredential } from '../../src/subsonic/index.ts'
import { Annotations } from '../../src/subsonic/annotations.ts'
import { authenticate } from '../../src/subsonic/auth.ts'
import { buildCatalog } from '../../src/subsonic/catalog.ts'
import { albumId, artistId, playlistId, playlistName } from '../../src/subsonic/ids.ts'
import { toJson, toXml } from '../../src/subsonic/response.ts'
import { albumNode, artistIndex } from '../../src/subsonic/shapes.ts'
import { RenditionCache } from '../../src/transcode/index.ts'
import { tempDir } from '../helpers/temp.ts'

const GOLDEN = new URL('./golden/', import.meta.url)

function record(n: number, tags: Partial<TrackRecord['tags']>): TrackRecord {
  return {
    sha256: createHash('sha256').update(`track ${n}`).digest('hex'),
    audioHash: createHash('sha256').update(`audio ${n}`).digest('hex'),
    size: 1_000_000 + n,
    format: 'mp3',
    pieceLength: 262144,
    tags: { hasCover: n === 1, duration: 180.4 + n, bitrate: 320_000, sampleRate: 44100, channels: 2, ...tags },
    paths: [`/music/${n}.mp3`],
    missing: false,
    added: Date.UTC(2026, 0, n),
    updated: Date.UTC(2026, 0, n),
  }
}

function union(): Map<string, UnionEntry> {
  const holders = [{ device: 'aa', name: 'home-pc', online: true, self: false }]
  const tracks = [
    record(1, { title: 'Night Drive', artist: 'Kavinsky', album: 'Outrun', genre: 'Synthwave', year: 2013, trackNo: 1 }),
    record(2, { title: 'Nightcall <live> & "more"', artist: 'Kavinsky', album: 'Outrun', trackNo: 2 }),
    record(3, { title: 'Solo' }),
  ]
  return new Map(tracks.map((t) => [t.sha256, { track: t, holders }]))
}

const annotated = { plays: new Map([[record(1, {}).sha256, { count: 3, last: Date.UTC(2026, 5, 1) }]]), starred: new Map(), ratings: new Map() }

async function golden(t: import('ava').ExecutionContext, name: string, text: string): Promise<void> {
  const path = new URL(name, GOLDEN)
  if (process.env.UPDATE_GOLDEN) await writeFile(path, text)
  t.is(text, await readFile(path, 'utf8'), name)
}

test('getAlbum and getArtists answers match the golden XML and JSON', async (t) => {
  const catalog = buildCatalog(union())
  const album = catalog.albums.get(albumId('Kavinsky', 'Outrun'))!
  const body = { album: albumNode(album, annotated, true) }
  await golden(t, 'album.xml', toXml('ok', body).replace(/serverVersion="[^"]*"/, 'serverVersion="X"'))
  await golden(t, 'album.json', JSON.stringify(JSON.parse(toJson('ok', body)), null, 2).replace(/"serverVersion": "[^"]*"/, '"serverVersion": "X"'))
  const artists = { artists: { ignoredArticles: 'The A An', index: artistIndex(catalog.artistList, annotated) } }
  await golden(t, 'artists.json', JSON.stringify(JSON.parse(toJson('ok', artists)), null, 2).replace(/"serverVersion": "[^"]*"/, '"serverVersion": "X"'))
  const failed = toXml('failed', { error: { code: 40, message: 'wrong username or password' } })
  t.regex(failed, /^<\?xml version="1.0" encoding="UTF-8"\?><subsonic-response xmlns="http:\/\/subsonic.org\/restapi" status="failed" version="1.16.1" type="djcloud" serverVersion="[^"]+" openSubsonic="true"><error code="40" message="wrong username or password"\/><\/subsonic-response>$/)
  // JSON: one song is still an array; integers are numbers.
  const one = JSON.parse(toJson('ok', { album: albumNode(catalog.albums.get(albumId('[Unknown Artist]', '[Unknown Album]'))!, annotated, true) }))['subsonic-response']
  t.true(Array.isArray(one.album.song))
  t.is(one.album.song.length, 1)
  t.is(one.album.song[0].duration, 183)
  t.is(one.album.song[0].bitRate, 320)
})

test('sign-in: token, plain, enc:, apiKey; 10, 40, 43, 44', (t) => {
  const app: AppCredential = { name: 'phone', password: 'sesame', apiKey: 'k'.repeat(32), created: 0 }
  const auth = (q: Record<string, string>) => authenticate(new URLSearchParams(q), [app])
  const md5 = (s: string) => createHash('md5').update(s).digest('hex')
  t.is(auth({ u: 'phone', t: md5('sesame' + 'abc'), s: 'abc' }).name, 'phone')
  t.is(auth({ u: 'phone', t: md5('sesame' + 'abc').toUpperCase(), s: 'abc' }).name, 'phone')
  t.is(auth({ u: 'phone', p: 'sesame' }).name, 'phone')
  t.is(auth({ u: 'phone', p: 'enc:' + Buffer.from('sesame').toString('hex') }).name, 'phone')
  t.is(auth({ apiKey: app.apiKey }).name, 'phone')
  const code = (q: Record<string, string>) => (t.throws(() => auth(q)) as SubsonicError | undefined)?.code
  t.is(code({ u: 'phone', t: md5('sesame' + 'abc'), s: 'abd' }), 40)
  t.is(code({ u: 'phone', p: 'enc:zz' }), 40)
  t.is(code({ u: 'other', p: 'sesame' }), 40)
  t.is(code({ u: 'phone', p: 'x'.repeat(10_000) }), 40)
  t.is(code({ u: 'phone', apiKey: app.apiKey }), 43)
  t.is(code({ apiKey: 'nope' }), 44)
  t.is(code({ p: 'sesame' }), 10)
  t.is(code({ u: 'phone', t: 'abc' }), 10)
  t.is(code({ u: 'phone' }), 10)
})

test('ids derive from content: case and spacing do not split an artist or album; playlist ids round-trip', (t) => {
  t.is(artistId('Kavinsky'), artistId('  KAVINSKY '))
  t.is(albumId('Daft Punk', 'Discovery'), albumId('daft  punk', 'DISCOVERY'))
  t.not(albumId('Daft Punk', 'Discovery'), albumId('Daft Punk', 'Homework'))
  t.not(albumId('A', 'B C'), albumId('A B', 'C'), 'the separator keeps fields apart')
  t.regex(albumId('x', 'y'), /^al-[0-9a-f]{24}$/)
  // Fixed by the derivation: a change here renames every album on every phone.
  t.is(artistId('Kavinsky'), `ar-${createHash('sha256').update('djcloud/subsonic/artist\0kavinsky').digest('hex').slice(0, 24)}`)
  for (const name of ['Warmup', 'Ünïcode ✓ set', 'a b/c'.replace('/', '-')]) t.is(playlistName(playlistId(name)), name)
  t.is(playlistName('pl-!!'), null)
  t.is(playlistName('al-0123'), null)
})

test('djcloud apps: secrets in a 0600 file, names checked, revocation', async (t) => {
  const home = await tempDir(t)
  const a = await addApp(home, 'phone')
  t.regex(a.password, /^[A-Za-z0-9_-]{22}$/)
  t.not(a.password, a.apiKey)
  t.is((await stat(appsPath(home))).mode & 0o777, 0o600)
  await t.throwsAsync(addApp(home, 'phone'), { instanceOf: AppsError, message: /already exists/ })
  await t.throwsAsync(addApp(home, 'bad name'), { instanceOf: AppsError })
  await addApp(home, 'feishin')
  t.deepEqual((await readApps(home)).map((x) => x.name), ['phone', 'feishin'])
  await removeApp(home, 'phone')
  t.deepEqual((await readApps(home)).map((x) => x.name), ['feishin'])
  await t.throwsAsync(removeApp(home, 'phone'), { instanceOf: AppsError, message: /no app/ })
})

test('the rendition cache keeps to its budget, least recently used first', async (t) => {
  const dir = await tempDir(t)
  const cache = new RenditionCache(join(dir, 'r'), 250)
  const key = (n: number) => ({ sha256: String(n).repeat(64).slice(0, 64), format: 'mp3', kbps: 128, encoder: 'ffmpeg-test' })
  for (const n of [1, 2]) {
    const tmp = await cache.tempPath(key(n))
    await writeFile(tmp, Buffer.alloc(100))
    await cache.commit(tmp, key(n))
    await new Promise((r) => setTimeout(r, 20)) // distinct use times
  }
  t.truthy(await cache.get(key(1)), 'used again: now the most recent')
  const tmp = await cache.tempPath(key(3))
  await writeFile(tmp, Buffer.alloc(100))
  await cache.commit(tmp, key(3))
  t.truthy(await cache.get(key(1)))
  t.is(await cache.get(key(2)), null, 'the least recently used went')
  t.truthy(await cache.get(key(3)))
  t.true((await cache.used()) <= 250)
  t.not(RenditionCache.fileName(key(1)), RenditionCache.fileName({ ...key(1), encoder: 'ffmpeg-other' }), 'another encoder build is another rendition')
})

test('stars and ratings persist; a file that does not parse is set aside, not overwritten', async (t) => {
  const home = await tempDir(t)
  const first = new Annotations(home)
  await first.star(['ar-1', 'al-2'], true, 1000)
  await first.rate('al-2', 4)
  const again = new Annotations(home)
  t.deepEqual([...(await again.starred()).entries()], [['ar-1', 1000], ['al-2', 1000]])
  t.deepEqual([...(await again.ratings()).entries()], [['al-2', 4]])
  await writeFile(join(home, 'subsonic-annotations.json'), '{not json')
  const broken = new Annotations(home)
  await broken.star(['ar-3'], true)
  const aside = (await readdir(home)).filter((f) => f.startsWith('subsonic-annotations.json.corrupt-'))
  t.is(aside.length, 1)
  t.is(await readFile(join(home, aside[0]!), 'utf8'), '{not json')
})
