// Artists, albums and genres made from the union library's tags: every
// track some own device holds (or held, when it is listed but offline).
// Kept across union changes (docs/subsonic.md, "The catalog"): a union whose
// holders alone changed keeps the catalog, any other change builds from the
// last catalog's songs, so no request waits for a build from nothing.
import type { TrackRecord } from '../library/index.ts'
import type { UnionEntry } from '../manifest/index.ts'
import { albumId, artistId, normaliseName } from './ids.ts'

export const UNKNOWN_ARTIST = '[Unknown Artist]'
export const UNKNOWN_ALBUM = '[Unknown Album]'

export interface Song {
  id: string
  /** Normalised "title artist album", what search3 matches. */
  searchText: string
  track: TrackRecord
  title: string
  artist: string
  artistId: string
  album: string
  albumId: string
  /** The album's artist (albumArtist, else artist), its id and the normalised names an album sorts by. */
  albumArtist: string
  albumArtistId: string
  sortAlbum: string
  sortAlbumArtist: string
  /** Normalised genre, the key genres group by. */
  genreKey?: string
}

export interface Album {
  id: string
  name: string
  /** Normalised name and artist, for sorting and search without normalising per comparison. */
  sortName: string
  sortArtist: string
  /** "name artist", normalised: what search3 matches. */
  searchText: string
  artist: string
  artistId: string
  songs: Song[]
  year?: number
  genre?: string
  /** ms: the earliest song's `added`. */
  created: number
  /** seconds */
  duration: number
  /** A song of the album with embedded art, whose picture is the album's. */
  coverSong?: Song
}

export interface Artist {
  id: string
  name: string
  sortName: string
  albums: Album[]
}

export interface Genre {
  name: string
  songCount: number
  albumCount: number
}

export interface Catalog {
  songs: Map<string, Song>
  albums: Map<string, Album>
  artists: Map<string, Artist>
  genres: Genre[]
  /** Artists by name, case-insensitively. */
  artistList: Artist[]
  /** Albums by name, then by artist then name, then newest first: the fixed orders of getAlbumList2. */
  albumsByName: Album[]
  albumsByArtist: Album[]
  albumsNewest: Album[]
}

/** Code-point order of normalised names: fast, stable, and the same on every device (no locale). */
const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Ids and normalised names, memoised per build: a library has far fewer artists and albums than songs. */
class Names {
  private readonly norm = new Map<string, string>()
  private readonly artists = new Map<string, string>()
  private readonly albums = new Map<string, string>()
  normal(s: string): string {
    let n = this.norm.get(s)
    if (n === undefined) this.norm.set(s, (n = normaliseName(s)))
    return n
  }
  artistId(name: string): string {
    let id = this.artists.get(name)
    if (id === undefined) this.artists.set(name, (id = artistId(name)))
    return id
  }
  albumId(artist: string, album: string): string {
    const key = `${artist}\0${album}`
    let id = this.albums.get(key)
    if (id === undefined) this.albums.set(key, (id = albumId(artist, album)))
    return id
  }
}

/**
 * The record's Song. `old`, the Song of the same track in the last catalog:
 * when the names it came from are the same, its ids and normalised names are
 * taken as they are (SHA-256 and NFKC are most of a build's cost).
 */
function songOf(t: TrackRecord, names: Names, old?: Song): Song {
  const title = t.tags.title ?? fileTitle(t)
  const artist = t.tags.artist ?? t.tags.albumArtist ?? UNKNOWN_ARTIST
  const albumArtist = t.tags.albumArtist ?? t.tags.artist ?? UNKNOWN_ARTIST
  const album = t.tags.album ?? UNKNOWN_ALBUM
  const genre = t.tags.genre
  if (old && old.title === title && old.artist === artist && old.albumArtist === albumArtist && old.album === album && old.track.tags.genre === genre) {
    return { ...old, track: t }
  }
  return {
    id: t.sha256,
    searchText: `${normaliseName(title)} ${names.normal(artist)} ${names.normal(album)}`,
    track: t,
    title,
    artist,
    artistId: names.artistId(artist),
    album,
    albumId: names.albumId(albumArtist, album),
    albumArtist,
    albumArtistId: names.artistId(albumArtist),
    sortAlbum: names.normal(album),
    sortAlbumArtist: names.normal(albumArtist),
    ...(genre ? { genreKey: names.normal(genre) } : {}),
  }
}

function fileTitle(t: TrackRecord): string {
  const path = t.paths[0] ?? t.lastPaths?.[0]
  const base = path?.split(/[\\/]/).pop()?.replace(/\.[^.]+$/, '')
  return base || t.sha256.slice(0, 12)
}

/** Plain data, compared two levels deep (a record's scalars, its tags, paths and analysis). */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true
  if (depth === 0 || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], depth - 1)) return false
    return true
  }
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  let n = 0
  for (const k in x) {
    if (x[k] === undefined) continue
    n++
    if (!sameValue(x[k], y[k], depth - 1)) return false
  }
  for (const k in y) if (y[k] !== undefined) n--
  return n === 0
}

/**
 * The same record, or one equal to it: the library lists its records afresh
 * for every union, the manifest book keeps the same objects until a manifest
 * changes.
 */
export function sameRecord(a: TrackRecord, b: TrackRecord): boolean {
  return a === b || sameValue(a, b, 3)
}

/**
 * Whether `union` makes the same catalog as the one `songs` came from: the
 * same tracks held somewhere, with the same records. Holders are not part of a
 * catalog, so a track cached here, a device coming or going, leave it as it is.
 */
export function sameSongs(songs: ReadonlyMap<string, Song>, union: ReadonlyMap<string, UnionEntry>): boolean {
  let held = 0
  for (const u of union.values()) {
    if (u.holders.length === 0) continue
    const s = songs.get(u.track.sha256)
    if (!s || !sameRecord(s.track, u.track)) return false
    held++
  }
  return held === songs.size
}

/**
 * The catalog of a union. `last`: the last catalog, whose Song objects are
 * kept for records that did not change and whose ids and normalised names are
 * reused for records whose names did not. The four orders are sorted afresh
 * (16 ms of CPU for 20,000 albums: keeping the last order and merging cost more).
 */
export function buildCatalog(union: ReadonlyMap<string, UnionEntry>, last?: Catalog): Catalog {
  const previous = last?.songs
  const songs = new Map<string, Song>()
  const albums = new Map<string, Album>()
  const artists = new Map<string, Artist>()
  const names = new Names()
  for (const u of union.values()) {
    if (u.holders.length === 0) continue // missing everywhere: nothing to play
    const old = previous?.get(u.track.sha256)
    const song = old && sameRecord(old.track, u.track) ? old : songOf(u.track, names, old)
    songs.set(song.id, song)
    let album = albums.get(song.albumId)
    if (!album) {
      album = {
        id: song.albumId, name: song.album, sortName: song.sortAlbum, artist: song.albumArtist, sortArtist: song.sortAlbumArtist,
        searchText: `${song.sortAlbum} ${song.sortAlbumArtist}`,
        artistId: song.albumArtistId, songs: [], created: song.track.added, duration: 0,
      }
      albums.set(album.id, album)
      let artist = artists.get(album.artistId)
      if (!artist) artists.set(album.artistId, (artist = { id: album.artistId, name: song.albumArtist, sortName: album.sortArtist, albums: [] }))
      artist.albums.push(album)
    }
    const t = song.track
    album.songs.push(song)
    album.created = Math.min(album.created, t.added)
    album.duration += t.tags.duration ?? 0
    album.year ??= t.tags.year
    album.genre ??= t.tags.genre
    if (!album.coverSong && t.tags.hasCover) album.coverSong = song
  }
  const genreSongs = new Map<string, { name: string; key: string; songs: number; albums: Set<string> }>()
  for (const s of songs.values()) {
    const name = s.track.tags.genre
    if (!name || s.genreKey === undefined) continue
    const g = genreSongs.get(s.genreKey) ?? { name, key: s.genreKey, songs: 0, albums: new Set() }
    g.songs++
    g.albums.add(s.albumId)
    genreSongs.set(s.genreKey, g)
  }
  for (const a of albums.values()) {
    if (a.songs.length > 1) a.songs.sort((x, y) => (x.track.tags.trackNo ?? 1e9) - (y.track.tags.trackNo ?? 1e9) || order(x.searchText, y.searchText) || order(x.id, y.id))
  }
  for (const a of artists.values()) a.albums.sort((x, y) => (x.year ?? 0) - (y.year ?? 0) || order(x.sortName, y.sortName))
  const all = [...albums.values()]
  const genres = [...genreSongs.values()].sort((a, b) => order(a.key, b.key)).map((g) => ({ name: g.name, songCount: g.songs, albumCount: g.albums.size }))
  return {
    songs,
    albums,
    artists,
    genres,
    artistList: [...artists.values()].sort(byArtist),
    albumsByName: [...all].sort(byName),
    albumsByArtist: [...all].sort(byAlbumArtist),
    albumsNewest: [...all].sort(byNewest),
  }
}

const byArtist = (a: Artist, b: Artist) => order(a.sortName, b.sortName) || order(a.id, b.id)
const byName = (x: Album, y: Album) => order(x.sortName, y.sortName) || order(x.id, y.id)
const byAlbumArtist = (x: Album, y: Album) => order(x.sortArtist, y.sortArtist) || order(x.sortName, y.sortName) || order(x.id, y.id)
const byNewest = (x: Album, y: Album) => y.created - x.created || order(x.id, y.id)

/**
 * One catalog, kept across union changes: a new union with the same songs
 * (holders changed: a track cached or evicted here, a device online or gone)
 * keeps the catalog object as it is; any other change builds the next one from
 * the last one (buildCatalog's `last`).
 */
export class CatalogCache {
  private last: { union: ReadonlyMap<string, UnionEntry>; catalog: Catalog } | null = null
  /** How each union was taken in: `kept` the catalog as it was, `built` a new one. */
  readonly stats = { kept: 0, built: 0 }

  constructor(private readonly union: () => Promise<ReadonlyMap<string, UnionEntry>>) {}

  async get(): Promise<Catalog> {
    const union = await this.union()
    const last = this.last
    if (last?.union === union) return last.catalog
    if (last && sameSongs(last.catalog.songs, union)) {
      this.stats.kept++
      this.last = { union, catalog: last.catalog }
    } else {
      this.stats.built++
      this.last = { union, catalog: buildCatalog(union, last?.catalog) }
    }
    return this.last.catalog
  }
}
