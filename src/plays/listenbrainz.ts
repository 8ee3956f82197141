// Plays as ListenBrainz listens (https://listenbrainz.readthedocs.io, "JSON
// documentation"): one JSON object per line, the shape its import and its
// `submit-listens` payload take. Metadata comes from the union library's tags;
// a track no own device holds any more is exported with what is known (its id).
import type { PlayEntry } from './entry.ts'

export interface TrackMeta {
  artist?: string
  title?: string
  album?: string
  /** seconds */
  duration?: number
}

export interface Listen {
  listened_at: number
  track_metadata: {
    artist_name: string
    track_name: string
    release_name?: string
    additional_info: {
      duration?: number
      duration_ms?: number
      media_player: string
      submission_client: string
      djcloud_sha256: string
    }
  }
}

export function toListen(p: PlayEntry, meta: TrackMeta | undefined): Listen {
  const d = meta?.duration
  return {
    listened_at: Math.floor(p.at / 1000),
    track_metadata: {
      artist_name: meta?.artist ?? '',
      track_name: meta?.title ?? p.sha256,
      ...(meta?.album ? { release_name: meta.album } : {}),
      additional_info: {
        ...(d !== undefined && d > 0 ? { duration: Math.round(d), duration_ms: Math.round(d * 1000) } : {}),
        media_player: p.source,
        submission_client: 'djcloud',
        djcloud_sha256: p.sha256,
      },
    },
  }
}

/** JSON lines, oldest first. */
export function listenBrainzLines(plays: readonly PlayEntry[], meta: (sha256: string) => TrackMeta | undefined): string {
  return plays.map((p) => JSON.stringify(toListen(p, meta(p.sha256))) + '\n').join('')
}
