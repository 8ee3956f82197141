// Where scrobbles go and play counts come from. The play-history module
// replaces the in-memory default with its signed, synced log; the Subsonic
// handlers only see this interface.

export interface Play {
  sha256: string
  /** ms since the epoch */
  at: number
  /** The app (Subsonic `u` / app name) that reported it. */
  client: string
}

export interface PlayStats {
  count: number
  /** ms since the epoch; undefined when never played. */
  last?: number
}

export interface PlayLog {
  /** A finished play (a scrobble with submission=true); "now playing" reports never reach here. */
  record(play: Play): Promise<void>
  /** Counts of every track played at least once. */
  stats(): Promise<ReadonlyMap<string, PlayStats>>
}

/** Plays kept in memory while the node runs: the seam's default. */
export class MemoryPlayLog implements PlayLog {
  private readonly byTrack = new Map<string, PlayStats>()

  async record(play: Play): Promise<void> {
    const s = this.byTrack.get(play.sha256) ?? { count: 0 }
    s.count++
    s.last = Math.max(s.last ?? 0, play.at)
    this.byTrack.set(play.sha256, s)
  }

  async stats(): Promise<ReadonlyMap<string, PlayStats>> {
    return this.byTrack
  }
}
