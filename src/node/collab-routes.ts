// Collaborative playlists over the local API (docs/api.md, "Collaborative
// playlists"): the owner grants edit rights and the pull rule on its own
// playlists; a collaborator reads and edits a friend's playlist. Handlers
// parse, call the book or the Collab service, shape the answer.
import { formatId, parseId, type Identity } from '../identity/index.ts'
import {
  addTracks, ManifestError, moveEntry, removeEntries, setCollaborator, setPulls, setShare, type CollabPlaylist, type ManifestBook, type TrackRef,
  type UnionEntry,
} from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import { CollabError, MAX_COLLAB_NAME_BYTES, type Collab } from './collab.ts'
import type { ManifestSync } from './manifest-sync.ts'
import { resolveEntries } from './playlist-view.ts'
import type { Sharing } from './sharing.ts'

export interface CollabRoutesOptions {
  identity: () => Identity
  book: ManifestBook
  sync: ManifestSync
  collab: Collab
  sharing: Sharing
  union: () => Promise<Map<string, UnionEntry>>
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function ownerHex(id: string, what: string): string {
  try {
    return hex(parseId('owner', id))
  } catch (err) {
    throw new ApiError(400, 'ERR_BAD_PARAM', `${what}: ${(err as Error).message}`)
  }
}

function body<T>(raw: unknown): Partial<T> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is a JSON object')
  return raw as Partial<T>
}

function name(raw: string | undefined): string {
  const n = (raw ?? '').normalize('NFC').trim()
  if (!n || Buffer.byteLength(n) > 256 || /[\u0000-\u001f/\\]/.test(n)) throw new ApiError(400, 'ERR_BAD_PARAM', 'a playlist name is 1-256 bytes of text without "/" or "\\"')
  return n
}

function translate(err: unknown): never {
  if (err instanceof CollabError) throw new ApiError(err.code === 'ERR_NOT_FOUND' ? 404 : 403, err.code === 'ERR_NOT_FOUND' ? 'ERR_PLAYLIST_NOT_FOUND' : 'ERR_FORBIDDEN', err.message)
  if (err instanceof ManifestError) {
    if (err.code === 'ERR_NOT_FOUND') throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', err.message)
    throw new ApiError(400, 'ERR_BAD_PARAM', err.message)
  }
  if (err instanceof RangeError || (err instanceof Error && /^(moveEntry|removeEntries|insert index)/.test(err.message))) throw new ApiError(400, 'ERR_BAD_PARAM', err.message)
  throw err
}

export function collabRoutes(o: CollabRoutesOptions): Route[] {
  const route = (methods: string[], path: string, fn: Route['handle']): Route => ({ methods, path, handle: fn })
  const id = () => o.identity()
  const selfOwner = () => hex(id().roster.owner)
  const whoIs = (owner: string) =>
    owner === selfOwner() ? 'you' : (id().roster.friends.find((f) => hex(f.owner) === owner)?.name ?? formatId('owner', Buffer.from(owner, 'hex')))
  const ownDeviceName = (device: string) => id().roster.devices.find((c) => hex(c.device) === device)?.name

  /** A merged playlist with who added each entry and which circles hold it. */
  const shape = async (owner: string, playlist: string, v: CollabPlaylist) => {
    const union = await o.union()
    const ownerOfDevice = new Map(v.guests.map((g) => [g.device, g.owner]))
    return {
      owner: formatId('owner', Buffer.from(owner, 'hex')),
      ownerName: whoIs(owner),
      name: playlist,
      collaborators: v.collaborators.map((c) => ({ owner: formatId('owner', Buffer.from(c, 'hex')), name: whoIs(c) })),
      pulls: v.pulls,
      /** The edit sets merged here, device -> clock: equal on two devices, the playlist is too. */
      inputs: o.collab.inputs(owner, playlist),
      guests: v.guests.map((g) => ({ device: g.device, owner: formatId('owner', Buffer.from(g.owner, 'hex')), name: whoIs(g.owner), taken: g.taken, ...('reason' in g ? { reason: g.reason } : {}) })),
      entries: resolveEntries(v, union).map((e) => {
        const device = v.authors[e.id]!
        const by = ownerOfDevice.get(device) ?? owner
        const holders: { circle: string; devices: string[] }[] = []
        const own = union.get(e.track?.sha256 ?? e.ref.sha256)?.holders ?? []
        if (own.length) holders.push({ circle: 'you', devices: own.map((h) => h.name) })
        if (by !== selfOwner()) holders.push({ circle: whoIs(by), devices: [] })
        return { ...e, addedBy: { device, deviceName: ownDeviceName(device) ?? null, owner: formatId('owner', Buffer.from(by, 'hex')), name: whoIs(by) }, holders }
      }),
    }
  }

  const ownEdit = async (playlist: string, fn: Parameters<ManifestBook['editPlaylist']>[1]) => {
    try {
      const { publication } = await o.book.editPlaylist(playlist, fn)
      void o.sync.publishPlaylist(publication)
    } catch (err) {
      translate(err)
    }
    await o.sharing.settled()
    return shape(selfOwner(), playlist, o.book.playlist(playlist)!)
  }

  const guestEdit = async (owner: string, playlist: string, fn: Parameters<Collab['editAsGuest']>[2]) => {
    try {
      const v = await o.collab.editAsGuest(owner, playlist, fn)
      await o.sharing.settled()
      return shape(owner, playlist, v)
    } catch (err) {
      return translate(err)
    }
  }

  const target = (params: Record<string, string>) => {
    const owner = ownerHex(params.owner ?? '', 'owner')
    return { owner, playlist: name(params.name) }
  }

  return [
    // The owner: make a friend a collaborator (`edit: true`; sharing it too), or stop (`edit: false`).
    route(['POST'], '/api/playlists/:name/collaborators', async ({ params, req, res }) => {
      const playlist = name(params.name)
      const b = body<{ friend: unknown; edit: unknown }>(await readJsonBody(req))
      const friend = ownerHex(String(b.friend ?? ''), 'friend')
      if (!o.book.isFriend(friend)) throw new ApiError(400, 'ERR_BAD_PARAM', 'that owner is not a friend on the roster: run "djcloud trust add <owner-id> --role friend" first')
      if (typeof b.edit !== 'boolean') throw new ApiError(400, 'ERR_BAD_PARAM', 'edit is true or false')
      if (b.edit && Buffer.byteLength(playlist) > MAX_COLLAB_NAME_BYTES) throw new ApiError(400, 'ERR_BAD_PARAM', `a collaborative playlist's name is at most ${MAX_COLLAB_NAME_BYTES} bytes`)
      const on = b.edit
      sendJson(res, 200, { playlist: await ownEdit(playlist, (own, merged) => {
        const granted = setCollaborator(own, merged, friend, on)
        return on ? setShare(granted, { ...merged, clock: granted.clock }, friend, true) : granted
      }) })
    }),
    // The owner: may collaborators pull (copy and pin) our tracks of this playlist? Default: streaming only.
    route(['POST'], '/api/playlists/:name/pulls', async ({ params, req, res }) => {
      const playlist = name(params.name)
      const b = body<{ allow: unknown }>(await readJsonBody(req))
      if (typeof b.allow !== 'boolean') throw new ApiError(400, 'ERR_BAD_PARAM', 'allow is true or false')
      const allow = b.allow
      sendJson(res, 200, { playlist: await ownEdit(playlist, (own, merged) => setPulls(own, merged, allow)) })
    }),
    // Any collaborative playlist we see: ours (owner = our id) or a friend's.
    route(['GET'], '/api/collab', async ({ res }) => {
      const mine = o.book.playlistNames().filter((n) => o.book.playlist(n)!.collaborators.length || o.book.playlist(n)!.guests.length)
      sendJson(res, 200, {
        playlists: [
          ...mine.map((n) => ({ owner: formatId('owner', id().roster.owner), ownerName: 'you', name: n, tracks: o.book.playlist(n)!.entries.length })),
          ...o.collab.friendPlaylists().map((p) => ({
            owner: formatId('owner', Buffer.from(p.owner, 'hex')),
            ownerName: whoIs(p.owner),
            name: p.name,
            tracks: o.collab.view(p.owner, p.name)?.entries.length ?? 0,
            canEdit: o.collab.view(p.owner, p.name)?.collaborators.includes(selfOwner()) ?? false,
          })),
        ],
      })
    }),
    route(['GET'], '/api/collab/:owner/:name', async ({ params, res }) => {
      const { owner, playlist } = target(params)
      const v = o.collab.view(owner, playlist)
      if (!v) throw new ApiError(404, 'ERR_PLAYLIST_NOT_FOUND', `no collaborative playlist "${playlist}" of that owner is known here`)
      sendJson(res, 200, { playlist: await shape(owner, playlist, v) })
    }),
    route(['POST'], '/api/collab/:owner/:name/tracks', async ({ params, req, res }) => {
      const { owner, playlist } = target(params)
      const b = body<{ tracks: unknown; at: unknown }>(await readJsonBody(req))
      if (!Array.isArray(b.tracks) || b.tracks.length === 0 || b.tracks.length > 10_000 || !b.tracks.every((s) => typeof s === 'string' && SHA256_HEX.test(s))) {
        throw new ApiError(400, 'ERR_BAD_ID', 'tracks is a list of track ids (SHA-256, 64 lowercase hex digits)')
      }
      const all = await o.union()
      const current = o.collab.view(owner, playlist)
      // Our own tracks, or tracks already in the playlist (another copy of an entry).
      const refs: TrackRef[] = (b.tracks as string[]).map((sha) => {
        const t = all.get(sha)?.track
        if (t) {
          const ref: TrackRef = { sha256: t.sha256, audio: t.audioHash }
          if (t.tags.title) ref.title = t.tags.title
          if (t.tags.artist) ref.artist = t.tags.artist
          if (t.tags.duration) ref.duration = Math.round(t.tags.duration * 1000) / 1000
          return ref
        }
        const there = current?.entries.find((e) => e.track.sha256 === sha)
        if (there) return there.track
        throw new ApiError(404, 'ERR_TRACK_NOT_FOUND', `neither your devices nor the playlist list track ${sha.slice(0, 12)}`)
      })
      const at = b.at === undefined ? undefined : Number(b.at)
      if (at !== undefined && !(Number.isInteger(at) && at >= 0)) throw new ApiError(400, 'ERR_BAD_PARAM', 'at is a 0-based position')
      const self = hex(id().device.publicKey)
      sendJson(res, 200, { playlist: await guestEdit(owner, playlist, (own, merged) => addTracks(own, merged, self, refs, at === undefined ? undefined : Math.min(at, merged.entries.length))) })
    }),
    route(['POST'], '/api/collab/:owner/:name/remove', async ({ params, req, res }) => {
      const { owner, playlist } = target(params)
      const b = body<{ entries: unknown }>(await readJsonBody(req))
      if (!Array.isArray(b.entries) || b.entries.length === 0 || !b.entries.every((e) => typeof e === 'string' && e.length <= 80)) {
        throw new ApiError(400, 'ERR_BAD_PARAM', 'entries is a list of entry ids')
      }
      sendJson(res, 200, { playlist: await guestEdit(owner, playlist, (own, merged) => removeEntries(own, merged, b.entries as string[])) })
    }),
    route(['POST'], '/api/collab/:owner/:name/move', async ({ params, req, res }) => {
      const { owner, playlist } = target(params)
      const b = body<{ entry: unknown; to: unknown }>(await readJsonBody(req))
      const to = Number(b.to)
      if (typeof b.entry !== 'string' || !Number.isInteger(to) || to < 0) throw new ApiError(400, 'ERR_BAD_PARAM', 'move takes an entry id and a 0-based position "to"')
      sendJson(res, 200, { playlist: await guestEdit(owner, playlist, (own, merged) => moveEntry(own, merged, b.entry as string, to)) })
    }),
  ]
}
