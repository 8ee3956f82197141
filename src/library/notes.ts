// Track notes: what a DJ keeps about a recording besides its cues (a user
// beat grid, a key, a rating, a colour, a comment, a play count), as this device
// keeps them. Per recording (audio hash), per field, the last value this
// device set (or null once cleared), stamped with a Lamport clock. Other own
// devices keep theirs the same way; readers merge them per field
// (src/manifest/note-doc.ts), so a rating set on one device and a comment on
// another both stay. Kept here, beside the store, as cues are.

/** One row of a beat grid: from `position` on, beats every 60/bpm s; the beat at `position` is beat `beat` of its bar. */
export interface GridRow {
  /** Seconds from the start, to the nanosecond (Traktor's ms with 6 decimals; may be a little before 0: a grid anchored before the audio). */
  position: number
  /** Beats per minute, to the millionth (Traktor writes 139.999924). */
  bpm: number
  /** 1-4: the beat of the bar at `position` (rekordbox's Battito; Traktor's markers are downbeats, 1). */
  beat: number
}

/** A recording's notes as the API shows them; a field not set is absent. */
export interface TrackNotes {
  /** A user grid (imported or set): one row is a fixed grid, several a variable one. It wins over djcloud's analysis, which is kept. */
  grid?: GridRow[]
  /** The DJ's key ("A minor", "Db major": djcloud's key names), which likewise wins over the analysis'. */
  key?: string
  /** 0-5 stars. */
  rating?: number
  /** "#rrggbb", lowercase. */
  color?: string
  comment?: string
  /** Plays counted by the DJ's software. */
  plays?: number
}

export const NOTE_FIELDS = ['grid', 'key', 'rating', 'color', 'comment', 'plays'] as const
export type NoteField = (typeof NOTE_FIELDS)[number]

/** One device's last write of one field of a recording's notes: the value, or null when it cleared it. */
export type NoteRegister = {
  [F in NoteField]: { field: F; clock: number; value: NonNullable<TrackNotes[F]> | null }
}[NoteField]

export const NOTE_CAPS = {
  /** Rows of a grid (a variable grid with a row per beat of a long track). */
  gridRows: 4096,
  /** Grid positions: within ±24 h, in ns (Traktor writes ms with 6 decimals). */
  gridPositionNs: 86_400_000_000_000,
  /** Tempo of a grid row, in millionths of a BPM: 1-1000 BPM. */
  gridMicroBpmMax: 1_000_000_000,
  commentBytes: 1024,
  plays: 1_000_000_000,
  /** Recordings with notes in one library manifest. */
  recordings: 100_000,
} as const
