// What an app says about tracks: plays (scrobble), stars and ratings.
// Plays go to the PlayLog (the play-history module's seam); stars and ratings
// to this device's annotations file.
import type { Handler } from './context.ts'
import { invalid, missing, notFound } from './errors.ts'
import { ALBUM_ID, ARTIST_ID, SONG_ID } from './ids.ts'
import { albumNode, artistNode, songNode } from './shapes.ts'

export const scrobble: Handler = async (ctx) => {
  const ids = ctx.params.all('id')
  if (!ids.length) throw missing('id')
  const times = ctx.params.all('time')
  const submission = ctx.params.bool('submission', true)
  const catalog = await ctx.deps.catalog.get()
  const now = Date.now()
  const plays = ids.map((id, i) => {
    if (!SONG_ID.test(id) || !catalog.songs.has(id)) throw notFound('song')
    const t = times[i]
    if (t !== undefined && !/^\d{1,15}$/.test(t)) throw invalid('time', 'ms since the epoch')
    return { sha256: id, at: t === undefined ? now : Math.min(Number(t), now), client: ctx.app.name }
  })
  // "Now playing" (submission=false) is not a play.
  if (submission) for (const p of plays) await ctx.deps.plays.record(p)
  return {}
}

async function starIds(ctx: Parameters<Handler>[0]): Promise<string[]> {
  const ids = [...ctx.params.all('id'), ...ctx.params.all('albumId'), ...ctx.params.all('artistId')]
  if (!ids.length) throw missing('id')
  const catalog = await ctx.deps.catalog.get()
  for (const id of ids) {
    const known = (SONG_ID.test(id) && catalog.songs.has(id)) || (ALBUM_ID.test(id) && catalog.albums.has(id)) || (ARTIST_ID.test(id) && catalog.artists.has(id))
    if (!known) throw notFound('item')
  }
  return ids
}

export const star: Handler = async (ctx) => {
  await ctx.deps.annotations.star(await starIds(ctx), true)
  return {}
}

export const unstar: Handler = async (ctx) => {
  await ctx.deps.annotations.star(await starIds(ctx), false)
  return {}
}

export const setRating: Handler = async (ctx) => {
  const id = ctx.params.need('id')
  if (ctx.params.str('rating') === undefined) throw missing('rating')
  const rating = ctx.params.int('rating', 0, 0, 5)
  const catalog = await ctx.deps.catalog.get()
  if (!((SONG_ID.test(id) && catalog.songs.has(id)) || catalog.albums.has(id) || catalog.artists.has(id))) throw notFound('item')
  await ctx.deps.annotations.rate(id, rating)
  return {}
}

export const getStarred2: Handler = async (ctx) => {
  const catalog = await ctx.deps.catalog.get()
  const a = await ctx.annotated()
  const ids = [...a.starred.entries()].sort((x, y) => y[1] - x[1]).map(([id]) => id)
  return {
    starred2: {
      artist: ids.flatMap((id) => (catalog.artists.has(id) ? [artistNode(catalog.artists.get(id)!, a)] : [])),
      album: ids.flatMap((id) => (catalog.albums.has(id) ? [albumNode(catalog.albums.get(id)!, a)] : [])),
      song: ids.flatMap((id) => (catalog.songs.has(id) ? [songNode(catalog.songs.get(id)!, a)] : [])),
    },
  }
}
