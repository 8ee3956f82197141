// The union library: this device's tracks and every other own device's
// library manifest merged into one list, each track with the devices that
// hold it and whether they are online now. Entries point at the records the
// library and the manifest book already hold (no copies): a union of 30,000
// entries costs a small object and a holders array each.
import type { ListOptions, TrackRecord } from '../library/index.ts'
import { matches, queryTokens, sortTracks } from '../library/index.ts'

export interface TrackHolder {
  /** Device key, hex. */
  device: string
  name: string
  online: boolean
  /** This device. */
  self: boolean
}

export interface UnionEntry {
  /** The local record when this device has one, else the first remote one. */
  track: TrackRecord
  holders: TrackHolder[]
}

/** A union entry as the API and `ls --json` show it. */
export type UnionTrack = TrackRecord & { holders: TrackHolder[] }

export interface RemoteLibraryView {
  device: string
  name: string
  /** Records made from the device's manifest (no paths; see ManifestBook). */
  tracks: readonly TrackRecord[]
}

export interface UnionInput {
  self: { device: string; name: string }
  local: readonly TrackRecord[]
  remotes: readonly RemoteLibraryView[]
  online: ReadonlySet<string>
}

/** Every track held anywhere (and local ones gone missing), with its holders. */
export function unionTracks({ self, local, remotes, online }: UnionInput): Map<string, UnionEntry> {
  const out = new Map<string, UnionEntry>()
  const me: TrackHolder = { device: self.device, name: self.name, online: true, self: true }
  for (const t of local) out.set(t.sha256, { track: t, holders: t.missing ? [] : [me] })
  for (const r of remotes) {
    if (r.device === self.device) continue
    const holder: TrackHolder = { device: r.device, name: r.name, online: online.has(r.device), self: false }
    for (const t of r.tracks) {
      const u = out.get(t.sha256)
      if (u) u.holders.push(holder)
      else out.set(t.sha256, { track: t, holders: [holder] })
    }
  }
  for (const u of out.values()) {
    if (u.holders.length > 1) u.holders.sort((a, b) => Number(b.self) - Number(a.self) || Number(b.online) - Number(a.online) || a.name.localeCompare(b.name))
  }
  return out
}

/** The shape shown: the record, missing only when no device holds it, and its holders. */
export function unionTrack(u: UnionEntry): UnionTrack {
  return { ...u.track, missing: u.holders.length === 0, holders: u.holders }
}

/** Search, sort and limit over the union, as LocalLibrary.list does over local tracks. */
export function listUnion(all: Iterable<UnionEntry>, opts: ListOptions = {}): UnionEntry[] {
  const tokens = queryTokens(opts.query ?? '')
  const byTrack = new Map<TrackRecord, UnionEntry>()
  const picked: TrackRecord[] = []
  for (const u of all) {
    if (u.holders.length === 0 && opts.includeMissing === false) continue
    if (!matches(u.track, tokens)) continue
    picked.push(u.track)
    byTrack.set(u.track, u)
  }
  sortTracks(picked, opts.sort ?? 'artist', opts.reverse)
  return (opts.limit ? picked.slice(0, opts.limit) : picked).map((t) => byTrack.get(t)!)
}
