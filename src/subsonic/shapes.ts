// Wire shapes (Subsonic's Child, AlbumID3, ArtistID3, Playlist), kept apart
// from the catalog. Integers are numbers within int32; dates are ISO 8601.
import { mimeTypeOf } from '../player/index.ts'
import type { Album, Artist, Song } from './catalog.ts'
import type { PlayStats } from './play-log.ts'
import type { Node } from './response.ts'

export interface Annotated {
  plays: ReadonlyMap<string, PlayStats>
  starred: ReadonlyMap<string, number>
  ratings: ReadonlyMap<string, number>
}

const INT32 = 2_147_483_647
const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? undefined : Math.max(0, Math.min(INT32, Math.round(n))))
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

const SUFFIX: Record<string, string> = { mp3: 'mp3', flac: 'flac', wav: 'wav', aiff: 'aiff', m4a: 'm4a', ogg: 'ogg', opus: 'opus' }

export function songNode(s: Song, a: Annotated): Node {
  const t = s.track
  const tags = t.tags
  const plays = a.plays.get(s.id)
  const suffix = SUFFIX[t.format] ?? t.format
  return {
    id: s.id,
    parent: s.albumId,
    isDir: false,
    title: s.title,
    album: s.album,
    artist: s.artist,
    track: int(tags.trackNo),
    year: int(tags.year),
    genre: tags.genre,
    coverArt: tags.hasCover ? s.id : undefined,
    size: t.size,
    contentType: mimeTypeOf(t.format),
    suffix,
    duration: int(tags.duration) ?? 0,
    bitRate: int(tags.bitrate === undefined ? undefined : tags.bitrate / 1000),
    path: `${s.artist}/${s.album}/${s.title}.${suffix}`.replace(/[\\:*?"<>|]/g, '_'),
    isVideo: false,
    playCount: plays?.count ?? 0,
    played: iso(plays?.last),
    created: iso(t.added),
    albumId: s.albumId,
    artistId: s.artistId,
    type: 'music',
    mediaType: 'song',
    starred: iso(a.starred.get(s.id)),
    userRating: a.ratings.get(s.id),
    bpm: int(t.analysis?.bpm ?? tags.bpm) ?? 0,
    comment: tags.comment,
    sampleRate: int(tags.sampleRate),
    channelCount: int(tags.channels),
  }
}

export function albumNode(al: Album, a: Annotated, withSongs = false): Node {
  let count = 0
  let last: number | undefined
  for (const s of al.songs) {
    const p = a.plays.get(s.id)
    if (!p) continue
    count += p.count
    if (p.last !== undefined) last = Math.max(last ?? 0, p.last)
  }
  return {
    id: al.id,
    name: al.name,
    artist: al.artist,
    artistId: al.artistId,
    coverArt: al.coverSong ? al.id : undefined,
    songCount: al.songs.length,
    duration: int(al.duration) ?? 0,
    playCount: count,
    played: last === undefined ? undefined : new Date(last).toISOString(),
    created: iso(al.created),
    year: int(al.year),
    genre: al.genre,
    starred: iso(a.starred.get(al.id)),
    userRating: a.ratings.get(al.id),
    ...(withSongs ? { song: al.songs.map((s) => songNode(s, a)) } : {}),
  }
}

export function artistNode(ar: Artist, a: Annotated, withAlbums = false): Node {
  return {
    id: ar.id,
    name: ar.name,
    albumCount: ar.albums.length,
    coverArt: ar.albums.find((al) => al.coverSong)?.id,
    starred: iso(a.starred.get(ar.id)),
    userRating: a.ratings.get(ar.id),
    ...(withAlbums ? { album: ar.albums.map((al) => albumNode(al, a)) } : {}),
  }
}

/** getArtists / getIndexes: artists under their first letter ("#" for anything else). */
export function artistIndex(artists: readonly Artist[], a: Annotated): Node[] {
  const groups = new Map<string, Node[]>()
  for (const ar of artists) {
    const first = ar.name.normalize('NFKD').replace(/^(the|a|an)\s+/i, '').charAt(0).toUpperCase()
    const letter = /[A-Z]/.test(first) ? first : '#'
    const list = groups.get(letter) ?? []
    list.push(artistNode(ar, a))
    groups.set(letter, list)
  }
  return [...groups.entries()].sort(([x], [y]) => (x === '#' ? 1 : y === '#' ? -1 : x.localeCompare(y))).map(([name, artist]) => ({ name, artist }))
}

export const IGNORED_ARTICLES = 'The A An'
