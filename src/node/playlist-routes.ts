// Playlists over the local API (what `djcloud playlist` and the UI call).
// Every edit is this device's own, published at once; reads show the merge of
// every own device's edits, each entry resolved against the union library
// (playlist-view.ts). The handlers parse, call the book, shape the answer.
import { parseId } from '../identity/index.ts'
import {
  addTracks, ManifestError, moveEntry, removeEntries, setCollaborator, setShare, type ManifestBook, type TrackRef, type UnionEntry,
} from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import type { ManifestSync } from './manifest-sync.ts'
import { resolveEntries, type PlaylistView } from './playlist-view.ts'
import type { Sharing } from './sharing.ts'
import { formatId } from '../identity/index.ts'

export interface PlaylistRoutesOptions {
  book: ManifestBook
  sync: ManifestSync
  union: () => Promise<Map<string, UnionEntry>>
  sharing: Sharing
}

const MAX_NAME_BYTES = 256

function playlistName(raw: string | undefined): string {
  const name = (raw ?? '').normalize('NFC').trim()
  if (!name || Buffer.byteLength(name) > MAX_NAME_BYTES || /[\u0000-\u001f]/.test(name)) {
    throw new ApiError(400, 'ERR_BAD_PARAM', `a playlist name is 1-${MAX_NAME_BYTES} bytes of text`)
  }
  // A name is one segment of /api/playlists/<name>, where the router refuses these: a playlist made with one could never be opened.
  if (/[/\\]/.test(name)) throw new ApiError(400, 'ERR_BAD_PARAM', 'a playlist name cannot hold "/" or "\\"')
  return name
}

function body<T>(raw: unknown): Partial<T> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is a JSON object')
  return raw as Partial<T>
}

const ownerHex = (id: string) => Buffer.from(parseId('owner', id)).toString('hex')

function translate(err: unknown): never {
  if (err instanceof ManifestError) {
    if (err.code === 'ERR_NOT_FOUND') throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', err.message)
    if (err.code === 'ERR_EXISTS') throw new ApiError(409, 'ERR_CONFLICT', err.message)
    throw new ApiError(400, 'ERR_BAD_PARAM', err.message)
  }
  if (err instanceof RangeError) throw new ApiError(400, 'ERR_BAD_PARAM', err.message)
  throw err
}

export function playlistRoutes({ book, sync, union, sharing }: PlaylistRoutesOptions): Route[] {
  const view = async (name: string): Promise<PlaylistView> => {
    const p = book.playlist(name)
    if (!p) throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', `no playlist named "${name}"`)
    return { name, entries: resolveEntries(p, await union()), shared: p.shared }
  }
  const edit = async (name: string, fn: Parameters<ManifestBook['editPlaylist']>[1], create = false) => {
    try {
      const { publication } = await book.editPlaylist(name, fn, { create })
      void sync.publishPlaylist(publication)
    } catch (err) {
      translate(err)
    }
    await sharing.settled()
    return { playlist: await view(name) }
  }
  const route = (methods: string[], path: string, fn: Route['handle']): Route => ({ methods, path, handle: fn })
  const self = () => book.selfId

  return [
    // Playlists friends share with us: what their devices last sent, tracks streamable at /stream/<sha256>.
    route(['GET'], '/api/shared', async ({ res }) => {
      sendJson(res, 200, {
        friends: sharing.sharedWithMe().map((f) => ({
          owner: formatId('owner', Buffer.from(f.owner, 'hex')),
          name: f.name,
          devicesOnline: f.online,
          from: f.device,
          updated: f.created,
          playlists: f.playlists.map((p) => ({ name: p.name, entries: p.entries.map((e) => ({ ...e, stream: `/stream/${e.sha256}` })) })),
        })),
      })
    }),
    route(['GET'], '/api/playlists', async ({ res }) => {
      const playlists = book.playlistNames().map((name) => {
        const p = book.playlist(name)!
        return { name, tracks: p.entries.length, shared: p.shared, editedBy: [...book.playlistEdits(name).keys()].length }
      })
      sendJson(res, 200, { playlists })
    }),
    route(['POST'], '/api/playlists', async ({ req, res }) => {
      const name = playlistName(body<{ name: string }>(await readJsonBody(req)).name)
      sendJson(res, 201, await edit(name, (own) => ({ ...own, clock: own.clock + 1 }), true))
    }),
    route(['GET'], '/api/playlists/:name', async ({ params, res }) => {
      sendJson(res, 200, { playlist: await view(playlistName(params.name)) })
    }),
    route(['POST'], '/api/playlists/:name/tracks', async ({ params, req, res }) => {
      const name = playlistName(params.name)
      const b = body<{ tracks: unknown; at: unknown }>(await readJsonBody(req))
      if (!Array.isArray(b.tracks) || b.tracks.length === 0 || b.tracks.length > 10_000 || !b.tracks.every((s) => typeof s === 'string' && SHA256_HEX.test(s))) {
        throw new ApiError(400, 'ERR_BAD_ID', 'tracks is a list of track ids (SHA-256, 64 lowercase hex digits)')
      }
      const all = await union()
      const refs: TrackRef[] = (b.tracks as string[]).map((sha) => {
        const t = all.get(sha)?.track
        if (!t) throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', `no own device lists track ${sha.slice(0, 12)}`)
        const ref: TrackRef = { sha256: t.sha256, audio: t.audioHash }
        if (t.tags.title) ref.title = t.tags.title
        if (t.tags.artist) ref.artist = t.tags.artist
        if (t.tags.duration) ref.duration = Math.round(t.tags.duration * 1000) / 1000
        return ref
      })
      const at = b.at === undefined ? undefined : Number(b.at)
      if (at !== undefined && !(Number.isInteger(at) && at >= 0)) throw new ApiError(400, 'ERR_BAD_PARAM', 'at is a 0-based position')
      sendJson(res, 200, await edit(name, (own, merged) => addTracks(own, merged, self(), refs, at === undefined ? undefined : Math.min(at, merged.entries.length))))
    }),
    route(['POST'], '/api/playlists/:name/remove', async ({ params, req, res }) => {
      const name = playlistName(params.name)
      const b = body<{ entries: unknown }>(await readJsonBody(req))
      if (!Array.isArray(b.entries) || b.entries.length === 0 || !b.entries.every((e) => typeof e === 'string' && e.length <= 80)) {
        throw new ApiError(400, 'ERR_BAD_PARAM', 'entries is a list of entry ids')
      }
      const ids = b.entries as string[]
      sendJson(res, 200, await edit(name, (own, merged) => {
        const missing = ids.find((id) => !merged.entries.some((e) => e.id === id))
        if (missing) throw new RangeError(`no entry "${missing}" in the playlist`)
        return removeEntries(own, merged, ids)
      }))
    }),
    route(['POST'], '/api/playlists/:name/move', async ({ params, req, res }) => {
      const name = playlistName(params.name)
      const b = body<{ entry: unknown; to: unknown }>(await readJsonBody(req))
      const to = Number(b.to)
      if (typeof b.entry !== 'string' || !Number.isInteger(to) || to < 0) throw new ApiError(400, 'ERR_BAD_PARAM', 'move takes an entry id and a 0-based position "to"')
      sendJson(res, 200, await edit(name, (own, merged) => {
        try {
          return moveEntry(own, merged, b.entry as string, to)
        } catch (err) {
          throw new RangeError((err as Error).message)
        }
      }))
    }),
    route(['POST'], '/api/playlists/:name/share', async ({ params, req, res }) => {
      const name = playlistName(params.name)
      const b = body<{ friend: unknown; off: unknown }>(await readJsonBody(req))
      let friend: string
      try {
        friend = ownerHex(String(b.friend ?? ''))
      } catch (err) {
        throw new ApiError(400, 'ERR_BAD_PARAM', `friend: ${(err as Error).message}`)
      }
      if (!book.isFriend(friend)) throw new ApiError(400, 'ERR_BAD_PARAM', 'that owner is not a friend on the roster: run "djcloud trust add <owner-id> --role friend" first')
      // Read-only sharing: a collaborator shared with again this way (or unshared) loses edit rights; what they merged stays.
      sendJson(res, 200, await edit(name, (own, merged) => {
        const shared = setShare(own, merged, friend, b.off !== true)
        return merged.collaborators.includes(friend) ? setCollaborator(shared, { ...merged, clock: shared.clock }, friend, false) : shared
      }))
    }),
    route(['POST'], '/api/playlists/:name/publish', async ({ params, res }) => {
      const name = playlistName(params.name)
      if (!book.playlist(name)) throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', `no playlist named "${name}"`)
      const pub = await book.ownPublication(`playlist:${name}`)
      if (!pub) throw new ApiError(409, 'ERR_CONFLICT', 'this device has made no edits of that playlist: only its own edits are published from here')
      const stored = await sync.publishPlaylist(pub)
      sendJson(res, 200, { name, seq: pub.seq, infoHash: pub.blob.infoHash, dhtNodes: stored, devices: sync.linkedDevices() })
    }),
  ]
}
