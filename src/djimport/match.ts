// Matching the entries of a DJ program's collection to tracks of the union
// library, most certain evidence first, never guessing:
//   1. path: the entry's file exists on this device and the library lists
//      that path (compared as the platform compares paths);
//   2. file name + size + duration;
//   3. tags (artist and title, folded) + duration.
// A step with several candidates (of different recordings) stops the search:
// the entry is "ambiguous" and listed, not given to a weaker step. A recording
// is matched once: later entries that land on it are listed as duplicates.
import { basename as posixBase } from 'node:path/posix'
import { basename as winBase } from 'node:path/win32'
import { resolve as posixResolve } from 'node:path/posix'
import { resolve as winResolve } from 'node:path/win32'
import { foldText } from '../library/index.ts'
import type { DjTrack } from '../djformats/index.ts'

/** A track of the union library, as the node lists it (`GET /api/library`). */
export interface LibraryTrack {
  sha256: string
  audioHash: string
  size: number
  /** Seconds, when known. */
  duration?: number
  title?: string
  artist?: string
  /** Paths on this device (empty for tracks only other devices hold). */
  paths: string[]
  /** Paths it had before it went missing here. */
  lastPaths?: string[]
  /** The format as scanned ("mp3", ...): the timing offset may depend on it. */
  format?: string
  /** djcloud's analysis (tempo, first beat, key) and the file's key tag: a grid or key coming back as djcloud wrote it is not a user one. */
  analysis?: { bpm?: number; beatOffset?: number; key?: string }
  tagKey?: string
}

export type MatchMethod = 'path' | 'name-size-duration' | 'tags-duration'

/** Seconds two durations may differ by and still be one recording: rekordbox keeps whole seconds, decoders disagree by a frame. */
export const DURATION_TOLERANCE_S = 2

export interface Matched {
  entryId: string
  sha256: string
  audioHash: string
  method: MatchMethod
}

export interface Unmatched {
  entryId: string
  location?: string
  reason: string
}

export interface Ambiguous {
  entryId: string
  location?: string
  method: MatchMethod
  /** The candidates' SHA-256s (one per recording). */
  candidates: string[]
  reason: string
}

export interface Duplicate {
  entryId: string
  /** The entry that matched the recording first (its cues and metadata are the ones taken). */
  duplicateOf: string
  sha256: string
}

export interface MatchResult {
  /** One per recording, in file order. */
  matched: Matched[]
  unmatched: Unmatched[]
  ambiguous: Ambiguous[]
  duplicates: Duplicate[]
  /** Every entry id that resolves to a track (matched and duplicates): for playlists. */
  byEntry: Map<string, string>
}

export interface MatchOptions {
  /** Does this path exist on this device? (fs.existsSync in the command; injected for tests.) */
  exists: (path: string) => boolean
  /** How paths compare here: 'win32' and 'darwin' ignore case; default process.platform. */
  platform?: NodeJS.Platform
}

/** A path as this platform compares it: resolved, NFC, and folded to lower case where the file system ignores case. */
export function pathKey(path: string, platform: NodeJS.Platform): string {
  const resolved = platform === 'win32' ? winResolve(path) : posixResolve(path)
  const nfc = resolved.normalize('NFC')
  const key = platform === 'win32' || platform === 'darwin' ? nfc.toLowerCase() : nfc
  // The path itself when it is its own key (most are): an index of 20,000 paths then holds no second copy of each.
  return key === path ? path : key
}

/** The file name of a path written on either platform. */
export function fileNameOf(path: string): string {
  return (/^[A-Za-z]:|\\/.test(path) ? winBase(path) : posixBase(path)).normalize('NFC')
}

const nameKey = (name: string) => name.normalize('NFC').toLowerCase()
const tagKey = (artist: string | undefined, title: string | undefined) =>
  artist && title ? `${foldText(artist).replace(/\s+/g, ' ').trim()}\u0000${foldText(title).replace(/\s+/g, ' ').trim()}` : null

/** An index of library tracks: one track as itself (most keys name one file), several as a list. */
type Index = Map<string, LibraryTrack | LibraryTrack[]>

function push(map: Index, key: string, value: LibraryTrack) {
  const have = map.get(key)
  if (have === undefined) map.set(key, value)
  else if (Array.isArray(have)) have.push(value)
  else map.set(key, [have, value])
}

const lookup = (map: Index, key: string): LibraryTrack[] => {
  const have = map.get(key)
  return have === undefined ? [] : Array.isArray(have) ? have : [have]
}

/**
 * Candidates of one step, one per recording: several files of one recording
 * (a retagged copy) are one candidate, the one held here first, then the
 * lowest SHA-256, so the choice is the same on every run.
 */
function byRecording(candidates: LibraryTrack[]): LibraryTrack[] {
  const best = new Map<string, LibraryTrack>()
  for (const c of candidates) {
    const have = best.get(c.audioHash)
    const better = !have || (c.paths.length > 0 && have.paths.length === 0) || (c.paths.length > 0 === have.paths.length > 0 && c.sha256 < have.sha256)
    if (better) best.set(c.audioHash, c)
  }
  return [...best.values()]
}

const closeDuration = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined || Math.abs(a - b) <= DURATION_TOLERANCE_S

/**
 * Matches entries one at a time, in file order (a file's entries can be
 * matched as they are read, without holding them all): `add` gives the
 * recording an entry is imported into, or undefined (a duplicate, ambiguous
 * or not matched); `result` collects all of it.
 */
export class Matcher {
  readonly result: MatchResult = { matched: [], unmatched: [], ambiguous: [], duplicates: [], byEntry: new Map() }
  private readonly platform: NodeJS.Platform
  private readonly byPath: Index = new Map()
  private readonly byName: Index = new Map()
  private readonly byTags: Index = new Map()
  private readonly firstOf = new Map<string, string>() // audio hash -> entry id that matched it

  constructor(
    library: readonly LibraryTrack[],
    private readonly opts: MatchOptions,
  ) {
    this.platform = opts.platform ?? process.platform
    for (const t of library) {
      for (const p of t.paths) push(this.byPath, pathKey(p, this.platform), t)
      for (const p of new Set([...t.paths, ...(t.lastPaths ?? [])].map(fileNameOf))) push(this.byName, nameKey(p), t)
      const k = tagKey(t.artist, t.title)
      if (k) push(this.byTags, k, t)
    }
  }

  /** Matches one entry; the recording it is imported into when it is the first entry to match it. */
  add(e: DjTrack): Matched | undefined {
    const opts = this.opts
    // 1. The path, when the file is here and scanned.
    if (e.location && opts.exists(e.location)) {
      const found = byRecording(lookup(this.byPath, pathKey(e.location, this.platform)))
      if (found.length === 1) return this.take(e, found[0]!, 'path')
    }
    // 2. File name + size (+ duration when both sides know it).
    if (e.location && e.size !== undefined) {
      const tolerance = e.sizeTolerance ?? 0
      const found = byRecording(
        lookup(this.byName, nameKey(fileNameOf(e.location))).filter((t) => Math.abs(t.size - e.size!) <= tolerance && closeDuration(t.duration, e.durationS)),
      )
      if (found.length === 1) return this.take(e, found[0]!, 'name-size-duration')
      if (found.length > 1) return this.ambiguous(e, 'name-size-duration', found, 'file name, size and duration')
    }
    // 3. Artist + title + duration: both durations must be known (tags alone name remixes and edits alike).
    const k = tagKey(e.artist, e.title)
    if (k && e.durationS !== undefined) {
      const found = byRecording(lookup(this.byTags, k).filter((t) => t.duration !== undefined && Math.abs(t.duration - e.durationS!) <= DURATION_TOLERANCE_S))
      if (found.length === 1) return this.take(e, found[0]!, 'tags-duration')
      if (found.length > 1) return this.ambiguous(e, 'tags-duration', found, `artist, title and duration (±${DURATION_TOLERANCE_S} s)`)
    }
    this.result.unmatched.push({ entryId: e.id, ...(e.location ? { location: e.location } : {}), reason: unmatchedReason(e, opts.exists) })
    return undefined
  }

  private take(e: DjTrack, t: LibraryTrack, method: MatchMethod): Matched | undefined {
    const out = this.result
    const first = this.firstOf.get(t.audioHash)
    if (first !== undefined) {
      out.duplicates.push({ entryId: e.id, duplicateOf: first, sha256: out.byEntry.get(first)! })
      out.byEntry.set(e.id, out.byEntry.get(first)!)
      return undefined
    }
    this.firstOf.set(t.audioHash, e.id)
    out.byEntry.set(e.id, t.sha256)
    const m: Matched = { entryId: e.id, sha256: t.sha256, audioHash: t.audioHash, method }
    out.matched.push(m)
    return m
  }

  private ambiguous(e: DjTrack, method: MatchMethod, found: LibraryTrack[], what: string): undefined {
    this.result.ambiguous.push({
      entryId: e.id,
      ...(e.location ? { location: e.location } : {}),
      method,
      candidates: found.map((c) => c.sha256).sort(),
      reason: `${found.length} recordings match by ${what}`,
    })
    return undefined
  }
}

export function matchTracks(entries: readonly DjTrack[], library: readonly LibraryTrack[], opts: MatchOptions): MatchResult {
  const matcher = new Matcher(library, opts)
  for (const e of entries) matcher.add(e)
  return matcher.result
}

function unmatchedReason(e: DjTrack, exists: (p: string) => boolean): string {
  const why: string[] = []
  if (!e.location) why.push('no file location')
  else if (exists(e.location)) why.push('the file is here but not in the library (scan its folder)')
  else why.push('the file is not at its path on this device')
  if (e.location && e.size === undefined) why.push('no size to match its name by')
  else if (e.location) why.push('no library file has its name and size')
  if (!e.artist || !e.title) why.push('no artist and title to match by')
  else if (e.durationS === undefined) why.push('no duration to check its tags against')
  else why.push(`no library track has its artist and title within ${DURATION_TOLERANCE_S} s of its duration`)
  return why.join('; ')
}
