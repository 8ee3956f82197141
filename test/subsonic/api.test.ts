// The Subsonic API on a real node, with subsonic-api (a real client) in its
// three sign-in modes: browsing and search over the union library, a playlist
// made on another own device, streams of tracks held only on the other
// device (Range, exact bytes), cover art, lyrics, plays, stars, and errors.
import test from 'ava'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { addApp, removeApp } from '../../src/subsonic/index.ts'
import { until } from '../helpers/until.ts'
import { LYRICS, subsonicPair } from './pair.ts'

interface Song { id: string; title: string; album: string; artist: string; albumId: string; artistId: string; duration: number; playCount: number; size: number; coverArt?: string; track?: number; year?: number; bitRate?: number; starred?: unknown; userRating?: number }
type Body = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

test('browse and search the union library in token, POST and apiKey modes; ids are the same on another device and after a restart', async (t) => {
  const p = await subsonicPair(t)
  for (const mode of ['token', 'post', 'apiKey'] as const) {
    const c = p.client(mode)
    t.is((await c.ping()).status, 'ok', `ping (${mode})`)
    const artists = (await c.getArtists()) as Body
    t.is(artists.status, 'ok')
    t.is(artists.type, 'djcloud')
    t.is(artists.openSubsonic, true)
    t.is(artists.version, '1.16.1')
    const names = artists.artists.index.flatMap((i: Body) => i.artist.map((a: Body) => a.name))
    t.deepEqual(names.sort(), ['Kavinsky', 'Test'], `artists from both devices (${mode})`)
  }
  const c = p.client()
  const kav = ((await c.getArtists()) as Body).artists.index.flatMap((i: Body) => i.artist).find((a: Body) => a.name === 'Kavinsky')
  t.regex(kav.id, /^ar-[0-9a-f]{24}$/)
  t.is(kav.albumCount, 1)
  const artist = ((await c.getArtist({ id: kav.id })) as Body).artist
  t.is(artist.album.length, 1, 'one album array, even of one')
  const albumId = artist.album[0].id
  const album = ((await c.getAlbum({ id: albumId })) as Body).album
  t.is(album.name, 'Outrun')
  t.is(album.songCount, 2)
  t.is(album.year, 2013)
  t.is(album.coverArt, albumId, 'the album has art from its MP3')
  const songs = album.song as Song[]
  t.deepEqual(songs.map((s) => s.title), ['Night Drive', 'Second'], 'in track order')
  const night = songs[0]!
  t.regex(night.id, /^[0-9a-f]{64}$/, 'a song id is its SHA-256')
  t.is(typeof night.duration, 'number')
  t.true(night.duration >= 19 && night.duration <= 21)
  t.is(typeof night.size, 'number')
  t.is(night.track, 1)
  t.is(night.bitRate, 192)
  const holder = (await p.home.library.list()).find((x) => x.tags.title === 'Night Drive')!
  t.is(night.id, holder.sha256, 'the same id home-pc uses for the file')

  // Ids are the same on a restart: the laptop starts again with the same answers.
  const song = ((await c.getSong({ id: night.id })) as Body).song as Song
  t.like(song, { id: night.id, albumId, artistId: kav.id, title: 'Night Drive', album: 'Outrun', artist: 'Kavinsky', playCount: 0 })

  const list = async (type: string, extra: Record<string, unknown> = {}) =>
    (((await c.getAlbumList2({ type, ...extra } as never)) as Body).albumList2.album as Body[]).map((a) => a.name)
  t.deepEqual(await list('alphabeticalByName'), ['Laptop Songs', 'Outrun'])
  t.deepEqual(await list('alphabeticalByArtist'), ['Outrun', 'Laptop Songs'])
  t.deepEqual((await list('random')).sort(), ['Laptop Songs', 'Outrun'])
  t.deepEqual(await list('byYear', { fromYear: 2000, toYear: 2020 }), ['Outrun'])
  t.deepEqual(await list('byGenre', { genre: 'house' }), ['Laptop Songs'])
  t.deepEqual(await list('alphabeticalByName', { size: 1, offset: 1 }), ['Outrun'])
  t.deepEqual(await list('frequent'), [], 'nothing played yet')
  t.is((await list('newest')).length, 2)

  const found = ((await c.search3({ query: 'night kav' })) as Body).searchResult3
  t.deepEqual(found.song.map((s: Song) => s.title), ['Night Drive'])
  t.deepEqual(found.artist, [], 'no artist is named "night kav"')
  t.deepEqual(found.album, [])
  const everything = ((await c.search3({ query: '""', songCount: 500 })) as Body).searchResult3
  t.is(everything.song.length, 3, 'an empty query lists all (how Symfonium syncs)')
  const genres = ((await c.getGenres()) as Body).genres.genre
  t.deepEqual(genres, [{ value: 'House', songCount: 1, albumCount: 1 }, { value: 'Synthwave', songCount: 2, albumCount: 1 }])
  const random = ((await c.getRandomSongs({ size: 2, genre: 'Synthwave' })) as Body).randomSongs.song as Song[]
  t.deepEqual(random.map((s) => s.album), ['Outrun', 'Outrun'])
  t.is(((await c.getMusicFolders()) as Body).musicFolders.musicFolder[0].id, 1)
  t.true(((await c.getLicense()) as Body).license.valid)
  const ext = ((await c.getOpenSubsonicExtensions()) as Body).openSubsonicExtensions.map((e: Body) => e.name)
  t.true(ext.includes('apiKeyAuthentication') && ext.includes('songLyrics') && ext.includes('transcodeOffset'))
  const indexes = ((await c.getIndexes()) as Body).indexes.index
  t.deepEqual(indexes.map((i: Body) => i.name), ['K', 'T'])

  // home-pc, asked by an app of its own, names everything with the same ids.
  const homeApp = await addApp(p.home.home, 'tablet')
  const fromHome = await until(async () => {
    const r = (await p.client('token', homeApp, p.home).getAlbum({ id: albumId })) as Body
    return r.status === 'ok' ? r.album : undefined
  })
  t.deepEqual(fromHome.song.map((s: Song) => [s.id, s.albumId, s.artistId]), songs.map((s) => [s.id, s.albumId, s.artistId]))

  // Across a restart of the laptop, every id is the same.
  const before = JSON.stringify(((await c.getAlbum({ id: albumId })) as Body).album.song.map((s: Song) => [s.id, s.albumId, s.artistId]))
  await p.laptop.close()
  const { startNode } = await import('../../src/node/index.ts')
  const again = await startNode({ home: p.laptop.home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, tracker: false, trackers: [p.home.info.tracker!], analyze: false, uiDir: null, subsonic: true })
  t.teardown(() => again.close())
  const SubsonicAPI = (await import('subsonic-api')).default
  const c2 = new SubsonicAPI({ url: again.info.api, auth: { username: p.app.name, password: p.app.password } })
  const after = await until(async () => {
    const r = (await c2.getAlbum({ id: albumId })) as Body
    return r.status === 'ok' && r.album.song.length === 2 ? JSON.stringify(r.album.song.map((s: Song) => [s.id, s.albumId, s.artistId])) : undefined
  })
  t.is(after, before)
})

test('a track held only on home-pc streams through the laptop with Range (206, exact bytes); download, cover art, lyrics', async (t) => {
  const p = await subsonicPair(t)
  const holder = (await p.home.library.list()).find((x) => x.tags.title === 'Night Drive')!
  const bytes = await readFile(holder.paths[0]!)
  t.false((await p.laptop.library.list()).some((x) => x.sha256 === holder.sha256), 'the laptop holds no copy')

  // Cover art of a track held elsewhere reads the file's head only, not the whole track over the swarm.
  const firstCover = await p.rest('getCoverArt', { id: holder.sha256 })
  t.is(firstCover.headers.get('content-type'), 'image/jpeg')
  await firstCover.arrayBuffer()
  const streams = ((await (await p.api(p.laptop, '/api/streams')).json()) as { streams: Array<{ sha256: string; bytes: number }> }).streams
  const read = streams.find((s) => s.sha256 === holder.sha256)?.bytes ?? 0
  t.true(read > 0 && read < bytes.length / 4, `${read} of ${bytes.length} bytes read for the cover`)

  const ranged = await p.rest('stream', { id: holder.sha256 }, { headers: { range: 'bytes=1000-4999' } })
  t.is(ranged.status, 206)
  t.is(ranged.headers.get('content-range'), `bytes 1000-4999/${bytes.length}`)
  t.is(ranged.headers.get('content-type'), 'audio/mpeg', "the track's type, though the bytes come over the swarm")
  t.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(1000, 5000))
  const whole = await p.rest('stream', { id: holder.sha256, format: 'raw' })
  t.is(whole.status, 200)
  t.is(sha(new Uint8Array(await whole.arrayBuffer())), holder.sha256, 'format=raw: the original bytes')
  const dl = await p.client('apiKey').download({ id: holder.sha256 })
  t.is(sha(new Uint8Array(await dl.arrayBuffer())), holder.sha256)

  // Cover art: the embedded JPEG, or resized.
  const cover = await p.rest('getCoverArt', { id: holder.sha256 })
  t.is(cover.status, 200)
  t.is(cover.headers.get('content-type'), 'image/jpeg', cover.headers.get('content-type') === 'image/jpeg' ? '' : await cover.clone().text())
  const full = Buffer.from(await cover.arrayBuffer())
  t.is(full.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG')
  const albumId = ((await p.client().getSong({ id: holder.sha256 })) as Body).song.albumId
  const small = await p.rest('getCoverArt', { id: albumId, size: '16' })
  t.is(small.status, 200)
  const smallBytes = Buffer.from(await small.arrayBuffer())
  t.is(smallBytes.subarray(0, 2).toString('hex'), 'ffd8')
  t.notDeepEqual(smallBytes, full, 'resized')
  const { stdout } = await (await import('node:util')).promisify((await import('node:child_process')).execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', '-i', 'pipe:0'].slice(0, -2).concat(await writeTemp(p.root, smallBytes)))
  t.is(stdout.trim(), '16,16')

  const lyrics = ((await p.client().getLyricsBySongId({ id: holder.sha256 })) as Body).lyricsList.structuredLyrics
  t.is(lyrics.length, 1)
  t.deepEqual(lyrics[0].line.map((l: Body) => l.value), LYRICS.split('\n'))
  t.like(lyrics[0], { displayTitle: 'Night Drive', displayArtist: 'Kavinsky', synced: false, lang: 'eng' })
  const none = ((await p.client().getLyricsBySongId({ id: (await p.laptop.library.list())[0]!.sha256 })) as Body).lyricsList.structuredLyrics
  t.deepEqual(none, [], 'no lyrics: an empty list')
})

async function writeTemp(dir: string, b: Buffer): Promise<string> {
  const path = join(dir, `probe-${Math.random().toString(36).slice(2)}.jpg`)
  await (await import('node:fs/promises')).writeFile(path, b)
  return path
}

test('a playlist made on home-pc shows on the laptop; apps create, update and empty playlists; plays, stars and ratings', async (t) => {
  const p = await subsonicPair(t)
  const tracks = await p.home.library.list()
  const ids = ['Night Drive', 'Second'].map((title) => tracks.find((x) => x.tags.title === title)!.sha256)
  t.is((await p.api(p.home, '/api/playlists', { method: 'POST', body: JSON.stringify({ name: 'Warmup' }) })).status, 201)
  t.is((await p.api(p.home, '/api/playlists/Warmup/tracks', { method: 'POST', body: JSON.stringify({ tracks: ids }) })).status, 200)
  const c = p.client('post')
  const listed = await until(async () => {
    const r = ((await c.getPlaylists()) as Body).playlists.playlist as Body[]
    return r.find((x) => x.name === 'Warmup' && x.songCount === 2)
  })
  t.regex(listed.id, /^pl-/)
  const pl = ((await c.getPlaylist({ id: listed.id })) as Body).playlist
  t.deepEqual(pl.entry.map((s: Song) => s.title), ['Night Drive', 'Second'])
  t.is(typeof pl.duration, 'number')

  const own = (await p.laptop.library.list())[0]!.sha256
  const made = ((await c.createPlaylist({ name: 'Train', songId: [own, ids[0]!] } as never)) as Body).playlist
  t.deepEqual(made.entry.map((s: Song) => s.title), ['Own Tune', 'Night Drive'])
  t.is(((await c.updatePlaylist({ playlistId: made.id, songIndexToRemove: 0, songIdToAdd: ids[1] } as never)) as Body).status, 'ok')
  t.deepEqual((((await c.getPlaylist({ id: made.id })) as Body).playlist.entry as Song[]).map((s) => s.title), ['Night Drive', 'Second'])
  // The laptop's edit reaches home-pc as a djcloud playlist.
  await until(async () => {
    const r = (await (await p.api(p.home, '/api/playlists/Train')).json()) as { playlist?: { entries: unknown[] } }
    return r.playlist?.entries.length === 2 ? true : undefined
  })
  t.is(((await c.deletePlaylist({ id: made.id })) as Body).status, 'ok')
  t.is((((await c.getPlaylist({ id: made.id })) as Body).playlist.entry as Song[]).length, 0, 'emptied: djcloud playlists are not deleted across devices')
  const dup = (await c.createPlaylist({ name: 'Warmup' } as never)) as Body
  t.like(dup, { status: 'failed', error: { code: 0 } })

  // Plays: submission=false is "now playing" and does not count.
  t.is(((await c.scrobble({ id: ids[0]!, submission: false })) as Body).status, 'ok')
  t.is((((await c.getSong({ id: ids[0]! })) as Body).song as Song).playCount, 0)
  t.is(((await c.scrobble({ id: ids[0]!, submission: true })) as Body).status, 'ok')
  const played = ((await c.getSong({ id: ids[0]! })) as Body).song
  t.is(played.playCount, 1)
  t.truthy(played.played)
  t.deepEqual((((await c.getAlbumList2({ type: 'frequent' })) as Body).albumList2.album as Body[]).map((a) => a.name), ['Outrun'])
  t.deepEqual((((await c.getAlbumList2({ type: 'recent' })) as Body).albumList2.album as Body[]).map((a) => [a.name, a.playCount]), [['Outrun', 1]])

  // Stars and ratings.
  const albumId = played.albumId
  t.is(((await c.star({ id: ids[1]!, albumId } as never)) as Body).status, 'ok')
  t.is(((await c.setRating({ id: ids[1]!, rating: 4 })) as Body).status, 'ok')
  const starred = ((await c.getStarred2()) as Body).starred2
  t.deepEqual(starred.song.map((s: Song) => s.title), ['Second'])
  t.deepEqual(starred.album.map((a: Body) => a.name), ['Outrun'])
  t.deepEqual(starred.artist, [])
  t.is((((await c.getSong({ id: ids[1]! })) as Body).song as Song).userRating, 4)
  t.deepEqual((((await c.getAlbumList2({ type: 'starred' })) as Body).albumList2.album as Body[]).map((a) => a.name), ['Outrun'])
  t.is(((await c.unstar({ id: ids[1]! })) as Body).status, 'ok')
  t.deepEqual(((await c.getStarred2()) as Body).starred2.song, [])
  t.like((await c.setRating({ id: ids[1]!, rating: 9 as never })) as Body, { status: 'failed', error: { code: 0 } })
})

test('errors: 40 wrong credentials and a revoked app, 43 apiKey with u, 44 bad apiKey, 10 missing, 70 not found, 501 unknown; hostile input', async (t) => {
  const p = await subsonicPair(t)
  const json = async (r: Response) => ((await r.json()) as Body)['subsonic-response']
  const q = (params: Record<string, string>) => fetch(`${p.laptop.info.api}/rest/ping.view?${new URLSearchParams({ v: '1.16.1', c: 't', f: 'json', ...params })}`)
  t.like(await json(await q({ u: 'phone', p: 'wrong' })), { status: 'failed', error: { code: 40 } })
  t.like(await json(await q({ u: 'phone', p: p.app.password })), { status: 'ok' })
  t.like(await json(await q({ u: 'phone', p: `enc:${Buffer.from(p.app.password).toString('hex')}` })), { status: 'ok' })
  t.like(await json(await q({ u: 'nobody', t: 'a'.repeat(32), s: 'x' })), { status: 'failed', error: { code: 40 } })
  t.like(await json(await q({ u: 'phone', apiKey: p.app.apiKey })), { status: 'failed', error: { code: 43 } })
  t.like(await json(await q({ apiKey: 'nope' })), { status: 'failed', error: { code: 44 } })
  t.like(await json(await q({})), { status: 'failed', error: { code: 10 } })
  t.like(await json(await q({ u: 'phone', t: 'abc' })), { status: 'failed', error: { code: 10 } }, 't without s')

  const f = { f: 'json' }
  t.like(await json(await p.rest('getSong', { ...f, id: 'f'.repeat(64) })), { status: 'failed', error: { code: 70 } })
  t.like(await json(await p.rest('getSong', f)), { status: 'failed', error: { code: 10 } })
  t.like(await json(await p.rest('getAlbum', { ...f, id: '../../etc/passwd' })), { status: 'failed', error: { code: 70 } })
  t.like(await json(await p.rest('getPlaylist', { ...f, id: 'pl-%%%' })), { status: 'failed', error: { code: 70 } })
  t.like(await json(await p.rest('getAlbumList2', { ...f, type: 'newest', offset: '-1' })), { status: 'failed', error: { code: 0 } })
  t.like(await json(await p.rest('getAlbumList2', { ...f, type: 'newest', size: '99999999999999999999' })), { status: 'failed', error: { code: 0 } })
  t.like(await json(await p.rest('getAlbumList2', { ...f, type: 'sideways' })), { status: 'failed', error: { code: 0 } })
  t.like(await json(await p.rest('stream', { ...f, id: 'f'.repeat(64) })), { status: 'failed', error: { code: 70 } })
  t.like(await json(await p.rest('stream', { ...f, id: (await p.laptop.library.list())[0]!.sha256, format: 'flac9' })), { status: 'failed', error: { code: 0 } })
  t.like(await json(await p.rest('search3', { ...f, query: 'x'.repeat(600) })), { status: 'failed', error: { code: 0 } })
  const unknown = await p.rest('getPodcasts', f)
  t.is(unknown.status, 501)
  t.like(await json(unknown), { status: 'failed', error: { code: 0 } })
  const big = await p.rest('ping', {}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x='.padEnd(100_000, 'y') })
  t.regex(await big.text(), /status="failed"[^>]*>.*code="0"/s, 'a huge form body is refused in XML, the default')
  t.is((await p.rest('ping')).status, 200, 'the node still answers')

  // /api keeps its own guard: the app's credentials open nothing there.
  t.is((await fetch(`${p.laptop.info.api}/api/library?u=phone&p=${p.app.password}`, { method: 'POST' })).status, 401)

  // A revoked app is refused at its next request.
  await removeApp(p.laptop.home, 'phone')
  t.like(await json(await q({ u: 'phone', p: p.app.password })), { status: 'failed', error: { code: 40 } })
  t.like(await json(await q({ apiKey: p.app.apiKey })), { status: 'failed', error: { code: 44 } })
})

test('without --subsonic there is no /rest', async (t) => {
  const p = await subsonicPair(t, { subsonic: false })
  const r = await p.rest('ping', { f: 'json' })
  t.not(r.status, 200)
  t.false((await r.text()).includes('subsonic-response'))
})
