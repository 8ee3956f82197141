// The catalog across union changes: kept as it is when only holders change,
// built from the last one's songs otherwise (an unchanged record keeps its
// Song), and always the catalog a build from nothing would give.
import test from 'ava'
import { createHash } from 'node:crypto'
import type { TrackRecord } from '../../src/library/index.ts'
import type { TrackHolder, UnionEntry } from '../../src/manifest/index.ts'
import { buildCatalog, CatalogCache, type Catalog } from '../../src/subsonic/catalog.ts'
import { albumId } from '../../src/subsonic/ids.ts'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

function record(n: number, tags: Partial<TrackRecord['tags']> = {}): TrackRecord {
  return {
    sha256: sha(`track ${n}`),
    audioHash: sha(`audio ${n}`),
    size: 1_000_000 + n,
    format: 'mp3',
    pieceLength: 262144,
    tags: { hasCover: n % 3 === 0, duration: 180 + n, title: `Song ${n}`, artist: `Artist ${n % 4}`, album: `Album ${n % 6}`, genre: n % 2 ? 'House' : 'Techno', year: 2000 + (n % 5), trackNo: n, ...tags },
    paths: [`/music/${n}.mp3`],
    missing: false,
    added: Date.UTC(2026, 0, 1 + n),
    updated: Date.UTC(2026, 0, 1 + n),
  }
}

const holder = (name: string, online = true): TrackHolder => ({ device: sha(name), name, online, self: false })

function union(records: readonly TrackRecord[], holders: (r: TrackRecord) => TrackHolder[] = () => [holder('home-pc')]): Map<string, UnionEntry> {
  return new Map(records.map((r) => [r.sha256, { track: r, holders: holders(r) }]))
}

/** A cache over a union the test swaps, as the UnionView gives a new Map after every change. */
function cacheOver(first: Map<string, UnionEntry>) {
  let current = first
  const cache = new CatalogCache(async () => current)
  return { cache, set: (u: Map<string, UnionEntry>) => void (current = u) }
}

/** The catalog as plain ids, to compare an incremental build with one from nothing. */
function shape(c: Catalog) {
  return {
    songs: [...c.songs.keys()].sort(),
    albums: [...c.albums.values()].map((a) => ({ ...a, songs: a.songs.map((s) => s.id), coverSong: a.coverSong?.id })).sort((x, y) => (x.id < y.id ? -1 : 1)),
    artists: c.artistList.map((a) => ({ id: a.id, name: a.name, albums: a.albums.map((al) => al.id) })),
    genres: c.genres,
    albumsByName: c.albumsByName.map((a) => a.id),
    albumsByArtist: c.albumsByArtist.map((a) => a.id),
    albumsNewest: c.albumsNewest.map((a) => a.id),
    search: [...c.songs.values()].map((s) => [s.id, s.searchText, s.artistId, s.albumId, s.track.tags.title]).sort(),
  }
}

const records = Array.from({ length: 40 }, (_, i) => record(i + 1))

test('a union whose holders changed (a track cached here, a device gone) keeps the catalog object: no build', async (t) => {
  const { cache, set } = cacheOver(union(records))
  const first = await cache.get()
  t.deepEqual(cache.stats, { kept: 0, built: 1 })

  // This device became a holder of one track (streamed into the cache), home-pc went offline.
  set(union(records, (r) => (r === records[5] ? [{ device: sha('laptop'), name: 'laptop', online: true, self: true }, holder('home-pc', false)] : [holder('home-pc', false)])))
  t.is(await cache.get(), first, 'the same catalog')
  // The library lists its records afresh for every union: equal records count as the same.
  set(union(records.map((r) => structuredClone(r))))
  t.is(await cache.get(), first, 'equal records: the same catalog')
  t.deepEqual(cache.stats, { kept: 2, built: 1 })
})

test('a changed record builds a new catalog from the last one: other songs are the same objects, the result equals a build from nothing', async (t) => {
  const { cache, set } = cacheOver(union(records))
  const first = await cache.get()

  const renamed = { ...records[7]!, tags: { ...records[7]!.tags, album: 'Brand New Album', title: 'Renamed' }, updated: Date.UTC(2026, 5, 1) }
  const analysed = { ...records[8]!, analysis: { bpm: 124 } as unknown as NonNullable<TrackRecord['analysis']> }
  const next = records.map((r) => (r === records[7] ? renamed : r === records[8] ? analysed : r))
  set(union(next))
  const second = await cache.get()
  t.not(second, first)
  t.deepEqual(cache.stats, { kept: 0, built: 2 })
  for (const r of next) {
    if (r === renamed || r === analysed) continue
    t.is(second.songs.get(r.sha256), first.songs.get(r.sha256), 'an unchanged record keeps its Song')
  }
  const song = second.songs.get(renamed.sha256)!
  t.is(song.title, 'Renamed')
  t.is(song.albumId, albumId('Artist 0', 'Brand New Album'))
  t.is(second.songs.get(analysed.sha256)!.track.analysis?.bpm, 124, 'a record with new analysis is not the old Song')
  t.deepEqual(shape(second), shape(buildCatalog(union(next))))
})

test('a track no device holds any more leaves the catalog, and comes back when one does', async (t) => {
  const { cache, set } = cacheOver(union(records))
  const first = await cache.get()
  const gone = records[3]!
  set(union(records, (r) => (r === gone ? [] : [holder('home-pc')])))
  const second = await cache.get()
  t.false(second.songs.has(gone.sha256))
  t.deepEqual(shape(second), shape(buildCatalog(union(records, (r) => (r === gone ? [] : [holder('home-pc')])))))
  set(union(records))
  const third = await cache.get()
  t.true(third.songs.has(gone.sha256))
  t.is(third.songs.get(records[0]!.sha256), first.songs.get(records[0]!.sha256))
  t.deepEqual(shape(third), shape(first))
  t.deepEqual(cache.stats, { kept: 0, built: 3 })
})

test('a new track and a genre change: the same catalog as one built from nothing', async (t) => {
  const { cache, set } = cacheOver(union(records))
  await cache.get()
  const next = [...records.map((r, i) => (i === 2 ? { ...r, tags: { ...r.tags, genre: 'Ambient' } } : r)), record(99, { artist: undefined, album: undefined, title: undefined })]
  set(union(next))
  const c = await cache.get()
  t.deepEqual(shape(c), shape(buildCatalog(union(next))))
  t.true(c.genres.some((g) => g.name === 'Ambient' && g.songCount === 1))
  t.is(c.songs.get(record(99).sha256)!.title, '99', 'no title tag: the file name')
})

test('rounds of adds, removals, retags and re-dates keep every order the same as a build from nothing', async (t) => {
  let lib = Array.from({ length: 300 }, (_, i) => record(i + 1, { artist: `Artist ${i % 37}`, album: `Album ${i % 53}`, albumArtist: i % 5 ? undefined : `Various ${i % 3}` }))
  const { cache, set } = cacheOver(union(lib))
  await cache.get()
  for (let round = 1; round <= 6; round++) {
    const pick = (i: number) => (i * 7 + round * 13) % 11 === 0
    lib = lib
      .filter((_, i) => (i + round) % 17 !== 0) // some tracks gone
      .map((r, i) => (pick(i) ? { ...r, tags: { ...r.tags, album: `Album ${(i + round) % 53}`, artist: `Artist ${(i * round) % 41}` }, added: r.added - round * 86_400_000 } : r))
      .concat(Array.from({ length: 9 }, (_, i) => record(1000 * round + i, { album: i % 2 ? `Album ${i}` : `New ${round}` })))
    set(union(lib))
    const c = await cache.get()
    t.deepEqual(shape(c), shape(buildCatalog(union(lib))), `round ${round}`)
  }
  t.deepEqual(cache.stats, { kept: 0, built: 7 })
})
