// NodeAccess over the node's local API (what `djcloud import` and the node's
// own import route use): every read and write is an API call, so the node
// checks, stores and publishes each edit as it does for any client.
import type { Cue, TrackNotes } from '../library/index.ts'
import type { LibraryTrack } from './match.ts'
import type { PlaylistItem } from './plan.ts'
import type { NodeAccess } from './run.ts'

/** One API call: method, path (with query), JSON body; resolves with the parsed JSON, throws on an error status. */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>

/**
 * A large GET answer read as it arrives (json-entries.ts): each member of the
 * container under `key` of its top-level object given to onEntry, so the
 * answer is never one string or one parse. Optional: without it the answer is
 * read whole through ApiCall.
 */
export type ApiEntries = (path: string, key: string, onEntry: (key: string | number, value: unknown) => void) => Promise<void>

/** The members of `key` in a GET answer: streamed with `entries` when given, else from the whole answer. */
export async function answerEntries(call: ApiCall, entries: ApiEntries | undefined, path: string, key: string, onEntry: (key: string | number, value: unknown) => void): Promise<void> {
  if (entries) return entries(path, key, onEntry)
  const whole = (await call<Record<string, unknown>>('GET', path))[key]
  if (Array.isArray(whole)) whole.forEach((v, i) => onEntry(i, v))
  else if (whole && typeof whole === 'object') for (const [k, v] of Object.entries(whole)) onEntry(k, v)
}

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

/** A library listing entry as the import keeps it. */
function libraryTrack(t: ListedTrack): LibraryTrack {
  return {
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
  }
}

/** Recordings one GET /api/cues or /api/notes may name (the node's MAX_RECORDINGS_ASKED: 100 audio hashes are ~6.5 KB of URL, the node takes 8 KiB). */
export const RECORDINGS_PER_READ = 100

/** The `audio=` queries naming these recordings, RECORDINGS_PER_READ at most each (none for none). */
function recordingQueries(hashes: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < hashes.length; i += RECORDINGS_PER_READ) out.push(`audio=${hashes.slice(i, i + RECORDINGS_PER_READ).join(',')}`)
  return out
}

/** NodeAccess over the node's API; `entries` (optional) reads the three large answers (library, cues, notes) as they arrive. */
export function httpNodeAccess(call: ApiCall, entries?: ApiEntries): NodeAccess {
  return {
    async library() {
      const out: LibraryTrack[] = []
      await answerEntries(call, entries, '/api/library', 'tracks', (_, t) => {
        if (!(t as ListedTrack).missing) out.push(libraryTrack(t as ListedTrack))
      })
      return out
    },
    async cuesOf(hashes) {
      const out = new Map<string, Cue[]>()
      for (const q of recordingQueries(hashes)) await answerEntries(call, entries, `/api/cues?${q}`, 'cues', (h, c) => void out.set(h as string, c as Cue[]))
      return out
    },
    async notesOf(hashes) {
      const out = new Map<string, TrackNotes>()
      for (const q of recordingQueries(hashes)) await answerEntries(call, entries, `/api/notes?${q}`, 'notes', (h, n) => void out.set(h as string, n as TrackNotes))
      return out
    },
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
