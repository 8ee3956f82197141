// The normalised model both formats are read into and written from. Units are
// djcloud's, not the formats': positions and lengths in milliseconds (floats,
// exact to what the file said), durations in seconds, keys by djcloud's names
// ("A minor", "Db major"), colours "#rrggbb", ratings 0-5 stars.

export type DjFormat = 'rekordbox' | 'traktor' | 'serato'

/** What a cue is: a plain cue, a loop (with a length), a fade or load marker, or a Traktor grid marker that holds a hot cue slot. */
export type DjCueType = 'cue' | 'loop' | 'fade-in' | 'fade-out' | 'load' | 'grid'

export interface DjCue {
  type: DjCueType
  /** Hot cue slot 0-7 (A-H); null for a memory cue (rekordbox Num -1, Traktor HOTCUE -1). */
  slot: number | null
  positionMs: number
  /** A loop's length; present on loops only. */
  lengthMs?: number
  name?: string
  color?: string
}

/** One row of a beat grid: from positionMs on, beats every 60000 / bpm ms; the beat at positionMs is beatOfBar (1-4) of its bar. */
export interface DjBeat {
  positionMs: number
  bpm: number
  beatOfBar: number
}

export interface DjTrack {
  /** The id the file gave it: rekordbox TrackID, Traktor's playlist key VOLUME/:DIR/:FILE. */
  id: string
  /** An OS path: "C:\Music\a.mp3" for Windows, "/Users/dj/a.mp3" or "/Volumes/USB/a.mp3" otherwise. Absent for streaming tracks. */
  location?: string
  /** Bytes; Traktor stores KiB, so a size read from Traktor is only good to sizeTolerance bytes. */
  size?: number
  sizeTolerance?: number
  durationS?: number
  title?: string
  artist?: string
  album?: string
  genre?: string
  bpm?: number
  key?: string
  rating?: number
  color?: string
  comment?: string
  playCount?: number
  cues: DjCue[]
  grid: DjBeat[]
}

/** A playlist entry: a track of the collection by id, or a file the collection does not list (a rekordbox KeyType 1 or Traktor key that resolves to no track). */
export type DjTrackRef = { trackId: string } | { location: string }

export type DjPlaylistNode = DjFolder | DjPlaylist

export interface DjFolder {
  type: 'folder'
  name: string
  children: DjPlaylistNode[]
}

export interface DjPlaylist {
  type: 'playlist'
  name: string
  entries: DjTrackRef[]
}

/** One play of a track (Traktor's history playlists). */
export interface DjPlay {
  ref: DjTrackRef
  /** The folder names and the name of the history playlist it was in. */
  session: string[]
  /** Local wall-clock time "YYYY-MM-DDTHH:MM:SS" (the file has no time zone); absent when the file gives no valid date. */
  playedAt?: string
  deck?: number
  durationS?: number
  /** Traktor's PLAYEDPUBLIC: the track was heard on the master output. */
  public?: boolean
}

export interface DjWarning {
  line: number
  message: string
}

export interface DjLibrary {
  format: DjFormat
  /** The program and version that wrote the file, when it says. */
  product?: { name: string; version?: string }
  tracks: DjTrack[]
  /** The children of the root folder, in file order. */
  playlists: DjPlaylistNode[]
  history: DjPlay[]
  /** Things read past, not refused (an unknown cue type, a playlist key naming no track). At most MAX_WARNINGS; warningsDropped counts the rest. */
  warnings: DjWarning[]
  warningsDropped: number
}

export const MAX_WARNINGS = 1000

export interface ReadOptions {
  /**
   * Each collection entry as soon as it is read, instead of in `tracks`
   * (which stays empty): a large file is used entry by entry and its model
   * is never held whole. Called in file order; playlists and history are
   * still returned at the end. A promise returned holds the reading back:
   * the next chunk of a streamed input is parsed only once it settles (an
   * import fetching djcloud's state for a batch of entries), and a rejection
   * ends the read with that error.
   */
  onTrack?: (track: DjTrack) => void | Promise<void>
}
