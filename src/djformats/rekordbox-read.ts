// rekordbox XML (DJ_PLAYLISTS), read in one streaming pass:
//   DJ_PLAYLISTS > PRODUCT
//                > COLLECTION > TRACK > TEMPO | POSITION_MARK
//                > PLAYLISTS > NODE (Type 0 folder, 1 playlist) ... > TRACK Key
// Seconds become milliseconds exactly (decimal.ts). Unknown elements and
// attributes are passed over; Kind (localised, with trailing spaces) is not
// needed: the file's extension says the format.
import { colorFromRekordbox, rgbToColor } from './colors.ts'
import { secondsTextSpanMs } from './decimal.ts'
import { MAX_PLAYLIST_DEPTH } from './check.ts'
import { DjFormatError } from './errors.ts'
import { keyFromText } from './keys.ts'
import { sortCues, sortGrid } from './order.ts'
import { pathFromRekordboxLocation } from './paths.ts'
import type { DjCue, DjCueType, DjFolder, DjLibrary, DjPlaylist, DjPlaylistNode, DjTrack, DjTrackRef, ReadOptions } from './types.ts'
import { own, starsOf, Values } from './values.ts'
import { parseXml, PendingTracks, type XmlHandler, type XmlInput } from './xml-read.ts'

export const REKORDBOX_DOCUMENT = {
  what: 'rekordbox XML',
  root: 'DJ_PLAYLISTS',
  otherRoots: { NML: 'this is a Traktor NML file' },
}

const MARK_TYPES: Record<number, DjCueType> = { 0: 'cue', 1: 'fade-in', 2: 'fade-out', 3: 'load', 4: 'loop' }

interface PendingPlaylist {
  node: DjPlaylist
  byLocation: boolean
  keys: Array<{ key: string; line: number }>
}

class RekordboxReader implements XmlHandler {
  readonly v = new Values('rekordbox XML')
  readonly lib: DjLibrary = { format: 'rekordbox', tracks: [], playlists: [], history: [], warnings: this.v.warnings, warningsDropped: 0 }
  private readonly path: string[] = []
  private track: DjTrack | null = null
  private readonly trackLines = new Map<string, number>()
  private readonly folders: DjFolder[] = []
  private playlist: PendingPlaylist | null = null
  private readonly pending: PendingPlaylist[] = []
  /** Depth of NODEs inside a NODE that is not a folder (passed over). */
  private skipping = 0
  /** The first track at each location, for playlists by Location (KeyType 1): kept as tracks go by, as they may not be kept. */
  private readonly byPath = new Map<string, string>()

  private readonly waiting = new PendingTracks()

  constructor(private readonly onTrack?: (track: DjTrack) => void | Promise<void>) {}

  settle(): Promise<void> | undefined {
    return this.waiting.settle()
  }

  open(name: string, a: Record<string, string>, line: number): void {
    const parent = this.path[this.path.length - 1]
    const section = this.path[1]
    this.path.push(name)
    if (this.skipping) {
      if (name === 'NODE') this.skipping++
      return
    }
    if (parent === 'DJ_PLAYLISTS' && name === 'PRODUCT') {
      const productName = this.v.text(a, 'Name')
      if (productName) this.lib.product = { name: productName, ...(a.Version ? { version: own(a.Version) } : {}) }
    } else if (section === 'COLLECTION') {
      if (parent === 'COLLECTION' && name === 'TRACK') this.track = this.readTrack(a, line)
      else if (parent === 'TRACK' && this.track && name === 'TEMPO') this.readTempo(a, line)
      else if (parent === 'TRACK' && this.track && name === 'POSITION_MARK') this.readMark(a, line)
    } else if (section === 'PLAYLISTS') {
      if (name === 'NODE') this.openNode(a, line, parent === 'PLAYLISTS')
      else if (name === 'TRACK' && parent === 'NODE' && this.playlist) {
        const key = a.Key
        if (key === undefined || key === '') this.v.warn(line, 'a playlist TRACK without a Key is passed over')
        else this.playlist.keys.push({ key: own(key), line })
      }
    }
  }

  close(name: string): void {
    this.path.pop()
    if (this.skipping) {
      if (name === 'NODE') this.skipping--
      return
    }
    if (name === 'TRACK' && this.track && this.path[this.path.length - 1] === 'COLLECTION') {
      const t = this.track
      this.track = null
      sortCues(t.cues)
      sortGrid(t.grid)
      if (t.location !== undefined && !this.byPath.has(t.location)) this.byPath.set(t.location, t.id)
      if (this.onTrack) this.waiting.add(this.onTrack(t))
      else this.lib.tracks.push(t)
    } else if (name === 'NODE' && this.path[1] === 'PLAYLISTS') {
      if (this.playlist) this.playlist = null
      else this.folders.pop()
    }
  }

  private readTrack(a: Record<string, string>, line: number): DjTrack {
    const v = this.v
    const id = a.TrackID === undefined ? undefined : own(a.TrackID.trim())
    if (!id) throw new DjFormatError('ERR_BAD_VALUE', `rekordbox XML line ${line}: a COLLECTION TRACK has no TrackID`, line)
    const seen = this.trackLines.get(id)
    if (seen !== undefined) throw new DjFormatError('ERR_DUPLICATE', `rekordbox XML line ${line}: TrackID ${id} is used again (first at line ${seen})`, line)
    this.trackLines.set(id, line)
    const t: DjTrack = { id, cues: [], grid: [] }
    if (a.Location) {
      const path = pathFromRekordboxLocation(a.Location)
      if (path) t.location = own(path)
      else v.warn(line, `TrackID ${id}: Location "${a.Location.slice(0, 60)}" is not a file URL (a streaming track?)`)
    }
    const size = v.int(a, 'TRACK', 'Size', line, { min: 0 })
    if (size !== undefined) t.size = size
    const duration = v.num(a, 'TRACK', 'TotalTime', line, { min: 0 })
    if (duration !== undefined) t.durationS = duration
    for (const [attr, field] of [['Name', 'title'], ['Artist', 'artist'], ['Album', 'album'], ['Genre', 'genre'], ['Comments', 'comment']] as const) {
      const text = v.text(a, attr)
      if (text !== undefined) t[field] = field === 'title' || field === 'comment' ? text : v.shared(text)
    }
    const bpm = v.num(a, 'TRACK', 'AverageBpm', line, { min: 0 })
    if (bpm) t.bpm = bpm // 0.00 is "not analysed"
    const tonality = v.text(a, 'Tonality')
    if (tonality !== undefined) {
      const key = keyFromText(tonality)
      if (key) t.key = v.shared(key)
      else v.warn(line, `TrackID ${id}: Tonality "${tonality}" is not a key`)
    }
    const rating = v.int(a, 'TRACK', 'Rating', line, { min: 0, max: 255 })
    if (rating !== undefined) t.rating = starsOf(rating)
    const colour = v.text(a, 'Colour')
    if (colour !== undefined) {
      const c = colorFromRekordbox(colour)
      if (c) t.color = v.shared(c)
      else v.warn(line, `TrackID ${id}: Colour "${colour}" is not 0xRRGGBB`)
    }
    const plays = v.int(a, 'TRACK', 'PlayCount', line, { min: 0 })
    if (plays !== undefined) t.playCount = plays
    return t
  }

  private readTempo(a: Record<string, string>, line: number): void {
    const v = this.v
    const start = v.seconds(a, 'TEMPO', 'Inizio', line)
    const bpm = v.num(a, 'TEMPO', 'Bpm', line, { min: 0 })
    if (start === undefined || bpm === undefined) throw new DjFormatError('ERR_BAD_VALUE', `rekordbox XML line ${line}: TEMPO needs Inizio and Bpm`, line)
    if (bpm === 0) return v.warn(line, 'a TEMPO row of 0 BPM is passed over')
    const beat = v.int(a, 'TEMPO', 'Battito', line, { min: 1, max: 16 }) ?? 1
    this.track!.grid.push({ positionMs: start.ms, bpm, beatOfBar: beat })
  }

  private readMark(a: Record<string, string>, line: number): void {
    const v = this.v
    const typeNumber = v.int(a, 'POSITION_MARK', 'Type', line) ?? 0
    const start = v.seconds(a, 'POSITION_MARK', 'Start', line)
    if (start === undefined) throw new DjFormatError('ERR_BAD_VALUE', `rekordbox XML line ${line}: POSITION_MARK has no Start`, line)
    let type = MARK_TYPES[typeNumber]
    if (!type) {
      v.warn(line, `POSITION_MARK Type ${typeNumber} is not a cue, fade, load or loop mark: passed over`)
      return
    }
    const num = v.int(a, 'POSITION_MARK', 'Num', line) ?? -1
    let slot: number | null = null
    if (num >= 0 && num <= 7) slot = num
    else if (num !== -1) v.warn(line, `POSITION_MARK Num ${num} is no hot cue slot (0-7): kept as a memory cue`)
    const cue: DjCue = { type, slot, positionMs: start.ms }
    if (type === 'loop') {
      const end = v.seconds(a, 'POSITION_MARK', 'End', line)
      const length = end && secondsTextSpanMs(start.text, end.text)!
      if (length !== undefined && length >= 0 && Number.isFinite(length)) cue.lengthMs = length
      else {
        v.warn(line, `a loop POSITION_MARK ${end ? 'ending before its Start' : 'without End'}: kept as a cue`)
        cue.type = type = 'cue'
      }
    }
    const name = v.shared(v.text(a, 'Name'))
    if (name !== undefined) cue.name = name
    const rgb = (['Red', 'Green', 'Blue'] as const).map((c) => v.int(a, 'POSITION_MARK', c, line, { min: 0, max: 255 }))
    if (rgb.every((n) => n !== undefined)) cue.color = v.shared(rgbToColor(rgb[0]!, rgb[1]!, rgb[2]!))
    this.track!.cues.push(cue)
  }

  private openNode(a: Record<string, string>, line: number, top: boolean): void {
    const v = this.v
    if (this.playlist) {
      v.warn(line, 'a NODE inside a playlist NODE is passed over')
      this.skipping = 1
      return
    }
    const type = v.int(a, 'NODE', 'Type', line)
    const name = own(a.Name ?? '')
    if (type === 0) {
      // The root folder ("ROOT") is the tree itself.
      if (top && name === 'ROOT') {
        this.folders.push({ type: 'folder', name, children: this.lib.playlists })
        return
      }
      if (this.folderDepth() >= MAX_PLAYLIST_DEPTH) throw new DjFormatError('ERR_TOO_DEEP', `rekordbox XML line ${line}: playlist folders nest deeper than ${MAX_PLAYLIST_DEPTH}`, line)
      const folder: DjFolder = { type: 'folder', name, children: [] }
      this.add(folder)
      this.folders.push(folder)
    } else if (type === 1) {
      const keyType = v.int(a, 'NODE', 'KeyType', line, { min: 0, max: 1 }) ?? 0
      const node: DjPlaylist = { type: 'playlist', name, entries: [] }
      this.add(node)
      this.playlist = { node, byLocation: keyType === 1, keys: [] }
      this.pending.push(this.playlist)
    } else this.v.bad(line, 'NODE', 'Type', a.Type ?? '', '0 (folder) or 1 (playlist)')
  }

  /** Folders open around the next node, the root folder not counted. */
  private folderDepth(): number {
    return this.folders.length - (this.folders[0]?.children === this.lib.playlists ? 1 : 0)
  }

  private add(node: DjPlaylistNode): void {
    const folder = this.folders[this.folders.length - 1]
    ;(folder ? folder.children : this.lib.playlists).push(node)
  }

  /** Playlist keys become refs once the whole collection is known (PLAYLISTS may come first). */
  finish(): DjLibrary {
    const byPath = this.byPath
    for (const p of this.pending) {
      p.node.entries = p.keys.map(({ key, line }): DjTrackRef => {
        if (!p.byLocation) {
          if (!this.trackLines.has(key)) this.v.warn(line, `playlist "${p.node.name}": TrackID ${key} is not in the collection`)
          return { trackId: key }
        }
        const path = pathFromRekordboxLocation(key) ?? key
        const id = byPath.get(path)
        if (id !== undefined) return { trackId: id }
        this.v.warn(line, `playlist "${p.node.name}": Location ${key.slice(0, 80)} is not in the collection`)
        return { location: path }
      })
    }
    this.lib.warningsDropped = this.v.warningsDropped
    return this.lib
  }
}

/** Reads a rekordbox XML export (a string, bytes or a stream of chunks). Refuses with DjFormatError. */
export async function readRekordbox(input: XmlInput, options: ReadOptions = {}): Promise<DjLibrary> {
  const reader = new RekordboxReader(options.onTrack)
  await parseXml(input, REKORDBOX_DOCUMENT, reader)
  return reader.finish()
}
