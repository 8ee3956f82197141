// Subsonic playlists are djcloud playlists: the merge of every own device's
// edits (a playlist made on the laptop shows on the phone through the home
// PC). Edits from an app are this device's own, published at once, as the
// local API's are. djcloud has no playlist deletion across devices, so
// deletePlaylist empties it (the name stays).
import { addTracks, ManifestError, removeEntries, type MergedPlaylist, type TrackRef } from '../manifest/index.ts'
import type { Catalog, Song } from './catalog.ts'
import type { Handler, HandlerContext } from './context.ts'
import { invalid, notFound, SubsonicError, SUBSONIC_ERRORS } from './errors.ts'
import { playlistId, playlistName, SONG_ID } from './ids.ts'
import type { Node } from './response.ts'
import { songNode } from './shapes.ts'

const MAX_NAME_BYTES = 256

function checkName(raw: string): string {
  const name = raw.normalize('NFC').trim()
  if (!name || Buffer.byteLength(name) > MAX_NAME_BYTES || /[\u0000-\u001f/\\]/.test(name)) {
    throw invalid('name', `a playlist name is 1-${MAX_NAME_BYTES} bytes of text without "/" or "\\"`)
  }
  return name
}

function named(ctx: HandlerContext, param = 'id'): { name: string; playlist: MergedPlaylist } {
  const name = playlistName(ctx.params.need(param))
  const playlist = name === null ? undefined : ctx.deps.book.playlist(name)
  if (!playlist || name === null) throw notFound('playlist')
  return { name, playlist }
}

async function songsOf(ctx: HandlerContext, p: MergedPlaylist): Promise<Node[]> {
  const catalog = await ctx.deps.catalog.get()
  const a = await ctx.annotated()
  // By the exact file, else the same recording retagged (by audio hash), as the local API resolves entries.
  let byAudio: Map<string, Song> | undefined
  const out: Node[] = []
  for (const e of p.entries) {
    let song = catalog.songs.get(e.track.sha256)
    if (!song && e.track.audio) {
      byAudio ??= new Map([...catalog.songs.values()].map((x) => [x.track.audioHash, x]))
      song = byAudio.get(e.track.audio)
    }
    if (song) out.push(songNode(song, a))
  }
  return out
}

function playlistNode(ctx: HandlerContext, name: string, p: MergedPlaylist, catalog: Catalog, entries?: Node[]): Node {
  let duration = 0
  for (const e of p.entries) duration += catalog.songs.get(e.track.sha256)?.track.tags.duration ?? e.track.duration ?? 0
  return {
    id: playlistId(name),
    name,
    owner: ctx.app.name,
    public: false,
    songCount: entries ? entries.length : p.entries.length,
    duration: Math.round(duration),
    // djcloud playlists carry no dates: the epoch stands for "unknown" (clients require the field).
    created: new Date(0).toISOString(),
    changed: new Date(0).toISOString(),
    ...(entries ? { entry: entries } : {}),
  }
}

export const getPlaylists: Handler = async (ctx) => {
  const catalog = await ctx.deps.catalog.get()
  const playlists = ctx.deps.book.playlistNames().flatMap((name) => {
    const p = ctx.deps.book.playlist(name)
    return p ? [playlistNode(ctx, name, p, catalog)] : []
  })
  return { playlists: { playlist: playlists } }
}

export const getPlaylist: Handler = async (ctx) => {
  const { name, playlist } = named(ctx)
  return { playlist: playlistNode(ctx, name, playlist, await ctx.deps.catalog.get(), await songsOf(ctx, playlist)) }
}

async function refs(ctx: HandlerContext, ids: readonly string[]): Promise<TrackRef[]> {
  const catalog = await ctx.deps.catalog.get()
  return ids.map((id) => {
    const t = SONG_ID.test(id) ? catalog.songs.get(id)?.track : undefined
    if (!t) throw notFound(`song ${id.slice(0, 64)}`)
    const ref: TrackRef = { sha256: t.sha256, audio: t.audioHash }
    if (t.tags.title) ref.title = t.tags.title
    if (t.tags.artist) ref.artist = t.tags.artist
    if (t.tags.duration) ref.duration = Math.round(t.tags.duration * 1000) / 1000
    return ref
  })
}

async function edit(ctx: HandlerContext, name: string, fn: Parameters<HandlerContext['deps']['book']['editPlaylist']>[1], create = false): Promise<void> {
  // What the edit refuses (an index past the end, a cap) is the client's error, not the node's.
  const guarded: typeof fn = (own, merged) => {
    try {
      return fn(own, merged)
    } catch (err) {
      throw new RangeError((err as Error).message)
    }
  }
  try {
    const { publication } = await ctx.deps.book.editPlaylist(name, guarded, { create })
    void ctx.deps.publishPlaylist(publication).catch(() => {})
  } catch (err) {
    if (err instanceof ManifestError && err.code === 'ERR_NOT_FOUND') throw notFound('playlist')
    if (err instanceof ManifestError && err.code === 'ERR_EXISTS') throw new SubsonicError(SUBSONIC_ERRORS.generic, `a playlist named "${name}" already exists`)
    if (err instanceof ManifestError || err instanceof RangeError) throw new SubsonicError(SUBSONIC_ERRORS.generic, (err as Error).message)
    throw err
  }
}

const self = (ctx: HandlerContext) => ctx.deps.book.selfId

/** createPlaylist: a new one by `name`, or `playlistId` to replace an existing one's songs. */
export const createPlaylist: Handler = async (ctx) => {
  const songs = await refs(ctx, ctx.params.all('songId'))
  let name: string
  if (ctx.params.str('playlistId') !== undefined) {
    const found = named(ctx, 'playlistId')
    name = found.name
    await edit(ctx, name, (own, merged) => {
      const cleared = removeEntries(own, merged, merged.entries.map((e) => e.id))
      return addTracks(cleared, { ...merged, entries: [] }, self(ctx), songs)
    })
  } else {
    name = checkName(ctx.params.need('name'))
    await edit(ctx, name, (own, merged) => (songs.length ? addTracks(own, merged, self(ctx), songs) : { ...own, clock: own.clock + 1 }), true)
  }
  const p = ctx.deps.book.playlist(name)!
  return { playlist: playlistNode(ctx, name, p, await ctx.deps.catalog.get(), await songsOf(ctx, p)) }
}

export const updatePlaylist: Handler = async (ctx) => {
  const { name } = named(ctx, 'playlistId')
  const rename = ctx.params.str('name')
  if (rename !== undefined && checkName(rename) !== name) throw new SubsonicError(SUBSONIC_ERRORS.generic, 'djcloud playlists cannot be renamed (the name is the playlist\'s key on every device)')
  const add = await refs(ctx, ctx.params.all('songIdToAdd'))
  const remove = ctx.params.all('songIndexToRemove').map((v) => {
    if (!/^\d{1,6}$/.test(v)) throw invalid('songIndexToRemove', 'a 0-based index')
    return Number(v)
  })
  await edit(ctx, name, (own, merged) => {
    const ids = [...new Set(remove)].map((i) => {
      const e = merged.entries[i]
      if (!e) throw new RangeError(`no song at index ${i}`)
      return e.id
    })
    let next = ids.length ? removeEntries(own, merged, ids) : own
    const left = { ...merged, entries: merged.entries.filter((e) => !ids.includes(e.id)) }
    if (add.length) next = addTracks(next, left, self(ctx), add)
    return next
  })
  return {}
}

export const deletePlaylist: Handler = async (ctx) => {
  const { name } = named(ctx)
  await edit(ctx, name, (own, merged) => removeEntries(own, merged, merged.entries.map((e) => e.id)))
  return {}
}
