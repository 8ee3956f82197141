// The union library: this device's tracks and every other own device's
// library manifest merged into one list, each track with the devices that
// hold it and whether they are online now. Remote tracks take the shape of a
// local TrackRecord (no paths) so search, sort and views work on both.
import { pieceLengthFor, type ListOptions, type TrackRecord } from '../library/index.ts'
import { matches, queryTokens, sortTracks } from '../library/index.ts'
import type { ManifestTrack } from './library-manifest.ts'

export interface TrackHolder {
  /** Device key, hex. */
  device: string
  name: string
  online: boolean
  /** This device. */
  self: boolean
}

export type UnionTrack = TrackRecord & { holders: TrackHolder[] }

export interface RemoteLibraryView {
  device: string
  name: string
  tracks: readonly ManifestTrack[]
}

function fromManifest(t: ManifestTrack): TrackRecord {
  return {
    sha256: t.sha256,
    audioHash: t.audioHash,
    size: t.size,
    format: t.format,
    pieceLength: pieceLengthFor(t.size),
    tags: { ...t.tags, hasCover: t.tags.hasCover ?? false },
    paths: [],
    missing: false,
    added: 0,
    updated: 0,
  }
}

export interface UnionInput {
  self: { device: string; name: string }
  local: readonly TrackRecord[]
  remotes: readonly RemoteLibraryView[]
  online: ReadonlySet<string>
}

/** Every track held anywhere (and local ones gone missing), with its holders. */
export function unionTracks({ self, local, remotes, online }: UnionInput): Map<string, UnionTrack> {
  const out = new Map<string, UnionTrack>()
  for (const t of local) {
    out.set(t.sha256, { ...t, holders: t.missing ? [] : [{ device: self.device, name: self.name, online: true, self: true }] })
  }
  for (const r of remotes) {
    if (r.device === self.device) continue
    const holder: TrackHolder = { device: r.device, name: r.name, online: online.has(r.device), self: false }
    for (const t of r.tracks) {
      let u = out.get(t.sha256)
      if (!u) out.set(t.sha256, (u = { ...fromManifest(t), holders: [] }))
      u.holders.push(holder)
    }
  }
  for (const u of out.values()) {
    if (u.holders.length > 0) u.missing = false
    u.holders.sort((a, b) => Number(b.self) - Number(a.self) || Number(b.online) - Number(a.online) || a.name.localeCompare(b.name))
  }
  return out
}

/** Search, sort and limit over the union, as LocalLibrary.list does over local tracks. */
export function listUnion(all: Iterable<UnionTrack>, opts: ListOptions = {}): UnionTrack[] {
  const tokens = queryTokens(opts.query ?? '')
  const out: UnionTrack[] = []
  for (const t of all) {
    if (t.missing && opts.includeMissing === false) continue
    if (matches(t, tokens)) out.push(t)
  }
  sortTracks(out, opts.sort ?? 'artist', opts.reverse)
  return opts.limit ? out.slice(0, opts.limit) : out
}
