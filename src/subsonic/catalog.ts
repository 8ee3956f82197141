// Artists, albums and genres made from the union library's tags: every
// track some own device holds (or held, when it is listed but offline).
// Built once per union (the UnionView keeps one Map until something changes),
// so browsing a 20,000-track library costs one pass per change.
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
}

export interface Album {
  id: string
  name: string
  /** Normalised name and artist, for sorting and search without normalising per comparison. */
  sortName: string
  sortArtist: string
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

function songOf(t: TrackRecord, names: Names): Song {
  const title = t.tags.title ?? fileTitle(t)
  const artist = t.tags.artist ?? t.tags.albumArtist ?? UNKNOWN_ARTIST
  const albumArtist = t.tags.albumArtist ?? t.tags.artist ?? UNKNOWN_ARTIST
  const album = t.tags.album ?? UNKNOWN_ALBUM
  return {
    id: t.sha256,
    searchText: `${normaliseName(title)} ${names.normal(artist)} ${names.normal(album)}`,
    track: t,
    title,
    artist,
    artistId: names.artistId(artist),
    album,
    albumId: names.albumId(albumArtist, album),
  }
}

function fileTitle(t: TrackRecord): string {
  const path = t.paths[0] ?? t.lastPaths?.[0]
  const base = path?.split(/[\\/]/).pop()?.replace(/\.[^.]+$/, '')
  return base || t.sha256.slice(0, 12)
}

export function buildCatalog(union: ReadonlyMap<string, UnionEntry>): Catalog {
  const songs = new Map<string, Song>()
  const albums = new Map<string, Album>()
  const artists = new Map<string, Artist>()
  const names = new Names()
  for (const u of union.values()) {
    if (u.holders.length === 0) continue // missing everywhere: nothing to play
    const song = songOf(u.track, names)
    songs.set(song.id, song)
    let album = albums.get(song.albumId)
    if (!album) {
      const albumArtist = u.track.tags.albumArtist ?? u.track.tags.artist ?? UNKNOWN_ARTIST
      album = {
        id: song.albumId, name: song.album, sortName: names.normal(song.album), artist: albumArtist, sortArtist: names.normal(albumArtist),
        artistId: names.artistId(albumArtist), songs: [], created: u.track.added, duration: 0,
      }
      albums.set(album.id, album)
      let artist = artists.get(album.artistId)
      if (!artist) artists.set(album.artistId, (artist = { id: album.artistId, name: albumArtist, sortName: album.sortArtist, albums: [] }))
      artist.albums.push(album)
    }
    album.songs.push(song)
    album.created = Math.min(album.created, u.track.added)
    album.duration += u.track.tags.duration ?? 0
    album.year ??= u.track.tags.year
    album.genre ??= u.track.tags.genre
    if (!album.coverSong && u.track.tags.hasCover) album.coverSong = song
  }
  const genreSongs = new Map<string, { name: string; songs: number; albums: Set<string> }>()
  for (const s of songs.values()) {
    const name = s.track.tags.genre
    if (!name) continue
    const key = names.normal(name)
    const g = genreSongs.get(key) ?? { name, songs: 0, albums: new Set() }
    g.songs++
    g.albums.add(s.albumId)
    genreSongs.set(key, g)
  }
  for (const a of albums.values()) {
    if (a.songs.length > 1) a.songs.sort((x, y) => (x.track.tags.trackNo ?? 1e9) - (y.track.tags.trackNo ?? 1e9) || order(x.searchText, y.searchText) || order(x.id, y.id))
  }
  for (const a of artists.values()) a.albums.sort((x, y) => (x.year ?? 0) - (y.year ?? 0) || order(x.sortName, y.sortName))
  const all = [...albums.values()]
  return {
    songs,
    albums,
    artists,
    genres: [...genreSongs.values()].map((g) => ({ name: g.name, songCount: g.songs, albumCount: g.albums.size })).sort((a, b) => order(names.normal(a.name), names.normal(b.name))),
    artistList: [...artists.values()].sort((a, b) => order(a.sortName, b.sortName) || order(a.id, b.id)),
    albumsByName: [...all].sort((x, y) => order(x.sortName, y.sortName) || order(x.id, y.id)),
    albumsByArtist: [...all].sort((x, y) => order(x.sortArtist, y.sortArtist) || order(x.sortName, y.sortName) || order(x.id, y.id)),
    albumsNewest: [...all].sort((x, y) => y.created - x.created || order(x.id, y.id)),
  }
}

/** One catalog per union Map: rebuilt only when the union is. */
export class CatalogCache {
  private last: { union: ReadonlyMap<string, UnionEntry>; catalog: Catalog } | null = null

  constructor(private readonly union: () => Promise<ReadonlyMap<string, UnionEntry>>) {}

  async get(): Promise<Catalog> {
    const union = await this.union()
    if (this.last?.union !== union) this.last = { union, catalog: buildCatalog(union) }
    return this.last.catalog
  }
}
