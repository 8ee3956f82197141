// The root of a device's library manifest (docs/manifests.md, "The library
// manifest"): the envelope body that lists the page blobs, the track count
// and this device's playlists. Apart from the pages (library-manifest.ts) so
// a browser device, which publishes a root and its playlists but no tracks,
// can build and read one: no Node-only import.
import { asBytes, asInt, asList, asStrictDict, asString, fieldList, BencodeError, type BValue } from '../codec/index.ts'
import { CUE_CAPS, NOTE_CAPS } from '../library/browser.ts'
import { ManifestError } from './errors.ts'

export interface PlaylistRef {
  name: string
  seq: number
  /** SHA-256 hex of the playlist's blob (the compressed signed envelope). */
  blob: string
}

export interface LibraryRoot {
  /** SHA-256 hex of each page blob, in bucket order. */
  pages: string[]
  /** Tracks over all pages. */
  count: number
  /** Recordings this device has cue edits of, over all pages (absent: none). */
  cued?: number
  /** Recordings this device has note edits (grid, rating, ...) of, over all pages (absent: none). */
  noted?: number
  playlists: PlaylistRef[]
}

export const LIBRARY_CAPS = {
  tracks: 100_000,
  pages: 1024,
  tracksPerPage: 8192,
  /** Plain (inflated) bytes of one page. */
  pageBytes: 4 * 1024 * 1024,
  playlists: 1024,
} as const
/** Aim for about this many tracks per page; the page count is a power of two. */
const TRACKS_PER_PAGE = 64
const ROOT_FIELDS = fieldList('count', 'cued', 'noted', 'pages', 'playlists')
const ROOT_PLAYLIST_FIELDS = fieldList('name', 'seq', 'blob')

const malformed = (message: string): never => {
  throw new ManifestError('ERR_MALFORMED', message)
}

/** The smallest power of two giving about TRACKS_PER_PAGE tracks a page. */
export function pageCountFor(tracks: number): number {
  let n = 1
  while (n < LIBRARY_CAPS.pages && tracks > n * TRACKS_PER_PAGE) n *= 2
  return n
}

/** The pages of a root: tracks and recordings with cues or notes all count, so cues or notes alone never crowd one page. */
export function rootPageCount(root: Pick<LibraryRoot, 'count' | 'cued' | 'noted'>): number {
  return pageCountFor(root.count + (root.cued ?? 0) + (root.noted ?? 0))
}

export function rootToBody(root: LibraryRoot) {
  return {
    count: root.count,
    ...(root.cued ? { cued: root.cued } : {}),
    ...(root.noted ? { noted: root.noted } : {}),
    pages: root.pages.map((h) => Buffer.from(h, 'hex')),
    playlists: root.playlists.map((p) => ({ name: p.name, seq: p.seq, blob: Buffer.from(p.blob, 'hex') })),
  }
}

/** Validates a root (the verified envelope's body). */
export function rootFromBody(body: BValue): LibraryRoot {
  try {
    const d = asStrictDict(body, ROOT_FIELDS, 'library root')
    const count = asInt(d.count, 'count')
    if (!Number.isSafeInteger(count) || count < 0 || count > LIBRARY_CAPS.tracks) malformed(`a library lists 0-${LIBRARY_CAPS.tracks} tracks`)
    const cued = d.cued === undefined ? 0 : asInt(d.cued, 'cued')
    if (!Number.isSafeInteger(cued) || cued < 0 || cued > CUE_CAPS.recordings) malformed(`a library has cues of 0-${CUE_CAPS.recordings} recordings`)
    const noted = d.noted === undefined ? 0 : asInt(d.noted, 'noted')
    if (!Number.isSafeInteger(noted) || noted < 0 || noted > NOTE_CAPS.recordings) malformed(`a library has notes of 0-${NOTE_CAPS.recordings} recordings`)
    const pages = asList(d.pages, 'pages', LIBRARY_CAPS.pages).map((p) => Buffer.from(asBytes(p, 'page', 32)).toString('hex'))
    const want = rootPageCount({ count, cued, noted })
    if (pages.length !== want) malformed(`${count} tracks and cues of ${cued} and notes of ${noted} recordings go on ${want} pages, not ${pages.length}`)
    const names = new Set<string>()
    const playlists = asList(d.playlists, 'playlists', LIBRARY_CAPS.playlists).map((v) => {
      const p = asStrictDict(v, ROOT_PLAYLIST_FIELDS, 'playlist')
      const name = asString(p.name, 'playlist name', 256)
      if (!name || names.has(name)) malformed('playlist names are non-empty and listed once')
      names.add(name)
      const seq = asInt(p.seq, 'playlist seq')
      if (!Number.isSafeInteger(seq) || seq < 1) malformed('a playlist seq is a positive integer')
      return { name, seq, blob: Buffer.from(asBytes(p.blob, 'playlist blob', 32)).toString('hex') }
    })
    return { count, ...(cued ? { cued } : {}), ...(noted ? { noted } : {}), pages, playlists }
  } catch (err) {
    if (err instanceof BencodeError) throw new ManifestError('ERR_MALFORMED', `library root: ${err.message}`)
    throw err
  }
}
