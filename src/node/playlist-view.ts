// A playlist as the API shows it: the merge of every own device's edits, each
// entry resolved against the union library (by SHA-256, else by audio hash,
// so a retagged file keeps its place). Shared by the playlist routes, the
// friends' share lists and gig pulls.
import { unionTrack, type MergedPlaylist, type TrackRef, type UnionEntry } from '../manifest/index.ts'
import { trackView, type TrackView } from '../player/index.ts'

export interface PlaylistEntryView {
  id: string
  /** 1-based place in the playlist. */
  position: number
  /** What the entry was made from (kept even when no device holds the track now). */
  ref: TrackRef
  /** The track as the union library has it now, or null when no own device lists it. */
  track: TrackView | null
}

export interface PlaylistView {
  name: string
  entries: PlaylistEntryView[]
  /** Friends' owner ids it is shared with. */
  shared: string[]
}

/** Resolves each entry: the exact file if any device lists it, else the same recording retagged. */
export function resolveEntries(p: MergedPlaylist, union: Map<string, UnionEntry>): PlaylistEntryView[] {
  let byAudio: Map<string, UnionEntry> | undefined
  return p.entries.map((e, i) => {
    let u = union.get(e.track.sha256)
    if ((!u || u.holders.length === 0) && e.track.audio) {
      byAudio ??= new Map([...union.values()].filter((x) => x.holders.length).map((x) => [x.track.audioHash, x]))
      u = byAudio.get(e.track.audio) ?? u
    }
    return { id: e.id, position: i + 1, ref: e.track, track: u ? trackView(unionTrack(u)) : null }
  })
}
