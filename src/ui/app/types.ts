// Shapes shared by the app's parts.
import type { Holder, Queue, QueueEntry } from '../logic/index.ts'

/** A track as the player needs it (from a library row or a playlist entry). */
export interface PlayEntry extends QueueEntry {
  sha256: string
  audioHash: string
  title: string
  artist: string
  camelot: string
  /** seconds, NaN when unknown */
  duration: number
  holders: Holder[]
}

/** A queue plus a counter bumped on every play request, so playing the same track again restarts it. */
export type PlayQueue = Queue<PlayEntry> & { started: number }

export interface PlaylistSummary {
  name: string
  tracks: number
  shared: string[]
}

export type Notify = (message: string, kind?: 'error' | 'info') => void
