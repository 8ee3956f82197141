// System and browsing endpoints: ping, license, extensions, folders, the
// artist index, artists, albums, songs, album lists, random songs, search
// and genres, all over the catalog of the union library.
import { randomInt } from 'node:crypto'
import type { Album, Catalog, Song } from './catalog.ts'
import type { Handler, HandlerContext } from './context.ts'
import { invalid, notFound } from './errors.ts'
import { ALBUM_ID, ARTIST_ID, normaliseName, SONG_ID } from './ids.ts'
import { MAX_LIST_SIZE } from './params.ts'
import { sendSubsonicText, subsonicText, type Node } from './response.ts'
import { albumNode, artistIndex, artistNode, IGNORED_ARTICLES, songNode, type Annotated } from './shapes.ts'

export const MUSIC_FOLDER = { id: 1, name: 'djcloud' } as const

export const EXTENSIONS: Node[] = [
  { name: 'apiKeyAuthentication', versions: [1] },
  { name: 'formPost', versions: [1] },
  { name: 'songLyrics', versions: [1] },
  { name: 'transcodeOffset', versions: [1] },
]

function shuffle<T>(list: T[], n: number): T[] {
  const a = [...list]
  const k = Math.min(n, a.length)
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(a.length - i)
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a.slice(0, k)
}

async function songIn(ctx: HandlerContext, name = 'id'): Promise<{ catalog: Catalog; song: Song }> {
  const id = ctx.params.need(name)
  const catalog = await ctx.deps.catalog.get()
  const song = SONG_ID.test(id) ? catalog.songs.get(id) : undefined
  if (!song) throw notFound('song')
  return { catalog, song }
}

export const ping: Handler = async () => ({})
export const getLicense: Handler = async () => ({ license: { valid: true, email: 'djcloud@localhost' } })
export const getOpenSubsonicExtensions: Handler = async () => ({ openSubsonicExtensions: EXTENSIONS })
export const getMusicFolders: Handler = async () => ({ musicFolders: { musicFolder: [{ ...MUSIC_FOLDER }] } })

function checkFolder(ctx: HandlerContext): void {
  const f = ctx.params.str('musicFolderId')
  if (f !== undefined && f !== String(MUSIC_FOLDER.id)) throw notFound('music folder')
}

/**
 * getIndexes and getArtists answer the same until the catalog or the stars and
 * ratings change, and at 12,000 artists making the answer is most of its time:
 * the text is made once per catalog, annotations version and format.
 */
const artistAnswers = new WeakMap<Catalog, { version: number; texts: Map<string, string> }>()

async function artistAnswer(ctx: HandlerContext, kind: 'indexes' | 'artists'): Promise<undefined> {
  checkFolder(ctx)
  const catalog = await ctx.deps.catalog.get()
  const version = ctx.deps.annotations.version
  let answers = artistAnswers.get(catalog)
  if (answers?.version !== version) artistAnswers.set(catalog, (answers = { version, texts: new Map() }))
  const key = `${kind} ${ctx.format}`
  let text = answers.texts.get(key)
  if (text === undefined) {
    const index = artistIndex(catalog.artistList, await ctx.annotated())
    const body: Node = kind === 'indexes'
      ? { indexes: { lastModified: 0, ignoredArticles: IGNORED_ARTICLES, index } }
      : { artists: { ignoredArticles: IGNORED_ARTICLES, index } }
    answers.texts.set(key, (text = subsonicText(ctx.format, body)))
  }
  sendSubsonicText(ctx.res, ctx.format, text)
  return undefined
}

export const getIndexes: Handler = (ctx) => artistAnswer(ctx, 'indexes')
export const getArtists: Handler = (ctx) => artistAnswer(ctx, 'artists')

export const getArtist: Handler = async (ctx) => {
  const id = ctx.params.need('id')
  const artist = ARTIST_ID.test(id) ? (await ctx.deps.catalog.get()).artists.get(id) : undefined
  if (!artist) throw notFound('artist')
  return { artist: artistNode(artist, await ctx.annotated(), true) }
}

export const getAlbum: Handler = async (ctx) => {
  const id = ctx.params.need('id')
  const album = ALBUM_ID.test(id) ? (await ctx.deps.catalog.get()).albums.get(id) : undefined
  if (!album) throw notFound('album')
  return { album: albumNode(album, await ctx.annotated(), true) }
}

export const getSong: Handler = async (ctx) => {
  const { song } = await songIn(ctx)
  return { song: songNode(song, await ctx.annotated()) }
}

const LIST_TYPES = ['random', 'newest', 'frequent', 'recent', 'alphabeticalByName', 'alphabeticalByArtist', 'starred', 'byGenre', 'byYear', 'highest'] as const

function albumsPlayed(al: Album, a: Annotated): { count: number; last: number } {
  let count = 0
  let last = 0
  for (const s of al.songs) {
    const p = a.plays.get(s.id)
    if (p) (count += p.count), (last = Math.max(last, p.last ?? 0))
  }
  return { count, last }
}

export const getAlbumList2: Handler = async (ctx) => {
  const type = ctx.params.need('type')
  if (!(LIST_TYPES as readonly string[]).includes(type)) throw invalid('type', `one of ${LIST_TYPES.join(', ')}`)
  checkFolder(ctx)
  const { size, offset } = ctx.params.page()
  const catalog = await ctx.deps.catalog.get()
  const a = await ctx.annotated()
  const byName = (x: Album, y: Album) => (x.sortName < y.sortName ? -1 : x.sortName > y.sortName ? 1 : 0)
  let list: Album[]
  switch (type) {
    case 'random':
      return { albumList2: { album: shuffle([...catalog.albums.values()], size).map((al) => albumNode(al, a)) } }
    case 'newest':
      list = catalog.albumsNewest
      break
    case 'alphabeticalByName':
      list = catalog.albumsByName
      break
    case 'alphabeticalByArtist':
      list = catalog.albumsByArtist
      break
    case 'frequent':
    case 'recent': {
      const played = new Map<Album, { count: number; last: number }>()
      for (const al of catalog.albumsByName) {
        const p = albumsPlayed(al, a)
        if (p.count > 0) played.set(al, p)
      }
      const key = type === 'frequent' ? 'count' : 'last'
      list = [...played.keys()].sort((x, y) => played.get(y)![key] - played.get(x)![key] || byName(x, y))
      break
    }
    case 'starred':
      list = catalog.albumsByName.filter((al) => a.starred.has(al.id))
      break
    case 'highest':
      list = catalog.albumsByName.filter((al) => a.ratings.has(al.id)).sort((x, y) => a.ratings.get(y.id)! - a.ratings.get(x.id)! || byName(x, y))
      break
    case 'byGenre': {
      const genre = normaliseName(ctx.params.need('genre'))
      list = catalog.albumsByName.filter((al) => al.songs.some((s) => s.genreKey === genre))
      break
    }
    default: {
      // byYear
      ctx.params.need('fromYear')
      ctx.params.need('toYear')
      const from = ctx.params.int('fromYear', 0, 0, 9999)
      const to = ctx.params.int('toYear', 0, 0, 9999)
      const [lo, hi] = from <= to ? [from, to] : [to, from]
      list = catalog.albumsByName.filter((al) => al.year !== undefined && al.year >= lo && al.year <= hi).sort((x, y) => (from <= to ? x.year! - y.year! : y.year! - x.year!) || byName(x, y))
    }
  }
  return { albumList2: { album: list.slice(offset, offset + size).map((al) => albumNode(al, a)) } }
}

export const getRandomSongs: Handler = async (ctx) => {
  checkFolder(ctx)
  const size = ctx.params.int('size', 10, 0, MAX_LIST_SIZE)
  const genre = ctx.params.str('genre')
  const from = ctx.params.optInt('fromYear', 0, 9999)
  const to = ctx.params.optInt('toYear', 0, 9999)
  const catalog = await ctx.deps.catalog.get()
  const g = genre === undefined ? undefined : normaliseName(genre)
  const list = [...catalog.songs.values()].filter((s) => {
    const t = s.track.tags
    if (g !== undefined && s.genreKey !== g) return false
    if (from !== undefined && (t.year ?? -1) < from) return false
    if (to !== undefined && (t.year ?? Infinity) > to) return false
    return true
  })
  const a = await ctx.annotated()
  return { randomSongs: { song: shuffle(list, size).map((s) => songNode(s, a)) } }
}

/** Every word of the query in the (already normalised) text; an empty query or "" matches all (Symfonium syncs that way). */
function matcher(query: string): (normalised: string) => boolean {
  const words = normaliseName(query.replace(/^"+|"+$/g, '')).split(' ').filter(Boolean)
  return (t) => words.every((w) => t.includes(w))
}

export const search3: Handler = async (ctx) => {
  checkFolder(ctx)
  const query = ctx.params.str('query') ?? ''
  if (query.length > 512) throw invalid('query', 'at most 512 characters')
  const artists = ctx.params.page('artistCount', 'artistOffset', 20)
  const albums = ctx.params.page('albumCount', 'albumOffset', 20)
  const songs = ctx.params.page('songCount', 'songOffset', 20)
  const catalog = await ctx.deps.catalog.get()
  const a = await ctx.annotated()
  const hit = matcher(query)
  const take = <T>(it: Iterable<T>, test: (x: T) => boolean, p: { size: number; offset: number }): T[] => {
    const out: T[] = []
    let skipped = 0
    if (p.size === 0) return out
    for (const x of it) {
      if (!test(x)) continue
      if (skipped++ < p.offset) continue
      out.push(x)
      if (out.length >= p.size) break
    }
    return out
  }
  return {
    searchResult3: {
      artist: take(catalog.artistList, (ar) => hit(ar.sortName), artists).map((ar) => artistNode(ar, a)),
      album: take(catalog.albumsByName, (al) => hit(al.searchText), albums).map((al) => albumNode(al, a)),
      song: take(catalog.songs.values(), (s) => hit(s.searchText), songs).map((s) => songNode(s, a)),
    },
  }
}

export const getGenres: Handler = async (ctx) => {
  const catalog = await ctx.deps.catalog.get()
  return { genres: { genre: catalog.genres.map((g) => ({ value: g.name, songCount: g.songCount, albumCount: g.albumCount })) } }
}

export { songIn }
