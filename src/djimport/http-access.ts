// NodeAccess over the node's local API (what `djcloud import` and the node's
// own import route use): every read and write is an API call, so the node
// checks, stores and publishes each edit as it does for any client.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { LibraryTrack } from './match.ts'
import type { PlaylistItem } from './plan.ts'
import type { NodeAccess } from './run.ts'

/** One API call: method, path (with query), JSON body; resolves with the parsed JSON, throws on an error status. */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>

const enc = encodeURIComponent

/** A track as GET /api/library lists it (the fields import and export read). */
export interface ListedTrack {
  sha256: string
  audioHash: string
  size: number
  format: string
  missing: boolean
  paths: string[]
  lastPaths?: string[]
  holders?: Array<{ self: boolean }>
  tags: { title?: string; artist?: string; album?: string; genre?: string; duration?: number; bpm?: number; key?: string }
  analysis?: { bpm?: number; key?: string; duration?: number; beatOffset?: number }
}

interface ShownPlaylist {
  playlist: { entries: Array<{ ref: { sha256: string; audio?: string }; track: { sha256: string; audioHash: string } | null }> }
}

export function httpNodeAccess(call: ApiCall): NodeAccess {
  return {
    async library() {
      const { tracks } = await call<{ tracks: ListedTrack[] }>('GET', '/api/library')
      return tracks
        .filter((t) => !t.missing)
        .map(
          (t): LibraryTrack => ({
            sha256: t.sha256,
            audioHash: t.audioHash,
            size: t.size,
            paths: t.paths ?? [],
            ...(t.lastPaths ? { lastPaths: t.lastPaths } : {}),
            ...(t.tags.duration !== undefined ? { duration: t.tags.duration } : {}),
            ...(t.tags.title ? { title: t.tags.title } : {}),
            ...(t.tags.artist ? { artist: t.tags.artist } : {}),
            ...(t.format ? { format: t.format } : {}),
            ...(t.analysis ? { analysis: { bpm: t.analysis.bpm, beatOffset: t.analysis.beatOffset, key: t.analysis.key } } : {}),
            ...(t.tags.key ? { tagKey: t.tags.key } : {}),
          }),
        )
    },
    allCues: async () => new Map(Object.entries((await call<{ cues: Record<string, Cue[]> }>('GET', '/api/cues')).cues)),
    allNotes: async () => new Map(Object.entries((await call<{ notes: Record<string, TrackNotes> }>('GET', '/api/notes')).notes)),
    playlistNames: async () => (await call<{ playlists: Array<{ name: string }> }>('GET', '/api/playlists')).playlists.map((p) => p.name),
    async playlist(name) {
      const { playlist } = await call<ShownPlaylist>('GET', `/api/playlists/${enc(name)}`)
      return playlist.entries.map((e): PlaylistItem => ({ sha256: e.ref.sha256, audioHash: e.track?.audioHash ?? e.ref.audio ?? e.ref.sha256 }))
    },
    putCues: async (h, cues) => void (await call('PUT', `/api/cues/${h}`, { cues })),
    putNotes: async (h, notes) => void (await call('PUT', `/api/notes/${h}`, { notes })),
    createPlaylist: async (name) => void (await call('POST', '/api/playlists', { name })),
    addToPlaylist: async (name, tracks) => void (await call('POST', `/api/playlists/${enc(name)}/tracks`, { tracks })),
  }
}
