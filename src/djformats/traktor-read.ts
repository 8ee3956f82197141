// Traktor NML, read in one streaming pass:
//   NML > HEAD
//       > COLLECTION > ENTRY > LOCATION | ALBUM | INFO | TEMPO | MUSICAL_KEY | CUE_V2 (> GRID)
//       > PLAYLISTS > NODE (FOLDER > SUBNODES > NODE..., PLAYLIST > PLAYLIST > ENTRY > PRIMARYKEY, EXTENDEDDATA)
// A track's id is its playlist key VOLUME/:DIR/:FILE. CUE_V2 TYPE 4 (grid
// marker) rows make the grid (its GRID BPM, else the track's TEMPO BPM; each
// marker is a downbeat); one that holds a hot cue slot is also a 'grid' cue.
// A history playlist (PLAYLIST TYPE="PROTOCOL", or every entry carrying
// HistoryData) becomes plays in `history`, not a playlist; plays are sorted
// by time, so where the history playlists sit in the tree does not matter.
import { TRAKTOR_COLORS } from './colors.ts'
import { MAX_PLAYLIST_DEPTH } from './check.ts'
import { DjFormatError } from './errors.ts'
import { playedAtOf } from './history-date.ts'
import { keyFromText, keyFromTraktorValue } from './keys.ts'
import { sortCues, sortGrid } from './order.ts'
import { pathFromTraktor, pathFromTraktorKey, traktorKey } from './paths.ts'
import type { DjCue, DjCueType, DjFolder, DjLibrary, DjPlay, DjPlaylist, DjPlaylistNode, DjTrack, DjTrackRef, ReadOptions } from './types.ts'
import { own, starsOf, Values } from './values.ts'
import { parseXml, PendingTracks, type XmlHandler, type XmlInput } from './xml-read.ts'

export const TRAKTOR_DOCUMENT = {
  what: 'Traktor NML',
  root: 'NML',
  otherRoots: { DJ_PLAYLISTS: 'this is a rekordbox XML file' },
}

/** Traktor's name for a cue nobody named. */
export const TRAKTOR_NO_NAME = 'n.n.'

const CUE_TYPES: Record<number, DjCueType> = { 0: 'cue', 1: 'fade-in', 2: 'fade-out', 3: 'load', 5: 'loop' }
const GRID_TYPE = 4

interface Marker {
  positionMs: number
  bpm?: number
  slot: number | null
  name?: string
  line: number
}

interface OpenEntry {
  track: DjTrack
  line: number
  hasLocation: boolean
  tempoBpm?: number
  keyValue?: string | null
  keyText?: string
  markers: Marker[]
}

interface KeyEntry {
  key: string
  line: number
  extended?: { deck?: number; durationS?: number; public?: boolean; playedAt?: string | null; history: boolean }
}

interface OpenPlaylist {
  name: string
  /** Folder names from the root down, for history sessions. */
  at: string[]
  protocol: boolean
  entries: KeyEntry[]
}

class TraktorReader implements XmlHandler {
  readonly v = new Values('Traktor NML')
  readonly lib: DjLibrary = { format: 'traktor', tracks: [], playlists: [], history: [], warnings: this.v.warnings, warningsDropped: 0 }
  private readonly path: string[] = []
  private entry: OpenEntry | null = null
  private marker: Marker | null = null
  private readonly trackLines = new Map<string, number>()
  private readonly folders: DjFolder[] = []
  private playlistNode: OpenPlaylist | null = null
  private playlistEntry: KeyEntry | null = null
  /** Every playlist and history playlist, resolved at the end; a placeholder node holds its place in the tree. */
  private readonly pending: Array<{ open: OpenPlaylist; node: DjPlaylist; parent: DjPlaylistNode[] }> = []
  private skipping = 0

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
    if (parent === 'NML' && name === 'HEAD') {
      const program = this.v.text(a, 'PROGRAM')
      if (program) this.lib.product = { name: program }
    } else if (section === 'COLLECTION') this.openCollection(name, parent, a, line)
    else if (section === 'PLAYLISTS') this.openPlaylists(name, parent, a, line)
  }

  close(name: string): void {
    this.path.pop()
    if (this.skipping) {
      if (name === 'NODE') this.skipping--
      return
    }
    const parent = this.path[this.path.length - 1]
    if (name === 'ENTRY' && parent === 'COLLECTION' && this.entry) this.finishEntry()
    else if (name === 'CUE_V2' && this.marker) this.marker = null
    else if (name === 'ENTRY' && parent === 'PLAYLIST') this.playlistEntry = null
    else if (name === 'NODE' && this.path[1] === 'PLAYLISTS') {
      if (this.playlistNode) this.playlistNode = null
      else this.folders.pop()
    }
  }

  private openCollection(name: string, parent: string | undefined, a: Record<string, string>, line: number): void {
    const v = this.v
    if (parent === 'COLLECTION' && name === 'ENTRY') {
      this.entry = { track: { id: '', cues: [], grid: [] }, line, hasLocation: false, markers: [] }
      const t = this.entry.track
      const title = v.text(a, 'TITLE')
      if (title !== undefined) t.title = title
      const artist = v.shared(v.text(a, 'ARTIST'))
      if (artist !== undefined) t.artist = artist
      return
    }
    const e = this.entry
    if (!e) return
    const t = e.track
    if (parent === 'ENTRY') {
      if (name === 'LOCATION') {
        const l = { volume: a.VOLUME ?? '', dir: a.DIR ?? '', file: a.FILE ?? '' }
        if (!l.file) return v.warn(line, 'a LOCATION without FILE is passed over')
        if (l.dir !== '' && !l.dir.startsWith('/:')) v.warn(line, `LOCATION DIR "${l.dir}" is not in "/:" form: read as written`)
        e.hasLocation = true
        t.id = own(traktorKey(l))
        t.location = own(pathFromTraktor(l))
      } else if (name === 'ALBUM') {
        const album = v.shared(v.text(a, 'TITLE'))
        if (album !== undefined) t.album = album
      } else if (name === 'INFO') this.readInfo(t, a, line)
      else if (name === 'TEMPO') {
        const bpm = v.num(a, 'TEMPO', 'BPM', line, { min: 0 })
        if (bpm) e.tempoBpm = bpm
      } else if (name === 'MUSICAL_KEY') {
        const value = v.int(a, 'MUSICAL_KEY', 'VALUE', line)
        if (value !== undefined) {
          e.keyValue = keyFromTraktorValue(value)
          if (!e.keyValue) v.warn(line, `MUSICAL_KEY VALUE ${value} is not 0-23`)
        }
      } else if (name === 'CUE_V2') this.readCue(e, a, line)
    } else if (parent === 'CUE_V2' && name === 'GRID' && this.marker) {
      const bpm = v.num(a, 'GRID', 'BPM', line, { min: 0 })
      if (bpm) this.marker.bpm = bpm
    }
  }

  private readInfo(t: DjTrack, a: Record<string, string>, line: number): void {
    const v = this.v
    const genre = v.shared(v.text(a, 'GENRE'))
    if (genre !== undefined) t.genre = genre
    const comment = v.text(a, 'COMMENT')
    if (comment !== undefined) t.comment = comment
    if (this.entry && a.KEY) this.entry.keyText = a.KEY
    const plays = v.int(a, 'INFO', 'PLAYCOUNT', line, { min: 0 })
    if (plays !== undefined) t.playCount = plays
    const duration = v.num(a, 'INFO', 'PLAYTIME_FLOAT', line, { min: 0 }) ?? v.num(a, 'INFO', 'PLAYTIME', line, { min: 0 })
    if (duration !== undefined) t.durationS = duration
    const ranking = v.int(a, 'INFO', 'RANKING', line, { min: 0, max: 255 })
    if (ranking !== undefined) t.rating = starsOf(ranking)
    const kib = v.int(a, 'INFO', 'FILESIZE', line, { min: 0 })
    if (kib !== undefined) [t.size, t.sizeTolerance] = [kib * 1024, 1024]
    const color = v.int(a, 'INFO', 'COLOR', line)
    if (color !== undefined && color !== 0) {
      const c = TRAKTOR_COLORS[color - 1]
      if (c) t.color = c
      else v.warn(line, `INFO COLOR ${color} is not one of Traktor's colours (1-7)`)
    }
  }

  private readCue(e: OpenEntry, a: Record<string, string>, line: number): void {
    const v = this.v
    const type = v.int(a, 'CUE_V2', 'TYPE', line) ?? 0
    const start = v.num(a, 'CUE_V2', 'START', line)
    if (start === undefined) throw new DjFormatError('ERR_BAD_VALUE', `Traktor NML line ${line}: CUE_V2 has no START`, line)
    const hotcue = v.int(a, 'CUE_V2', 'HOTCUE', line) ?? -1
    let slot: number | null = null
    if (hotcue >= 0 && hotcue <= 7) slot = hotcue
    else if (hotcue !== -1) v.warn(line, `CUE_V2 HOTCUE ${hotcue} is no hot cue slot (0-7): kept as a memory cue`)
    const name = a.NAME && a.NAME !== TRAKTOR_NO_NAME ? this.v.shared(own(a.NAME)) : undefined
    if (type === GRID_TYPE) {
      this.marker = { positionMs: start, slot, line, ...(name !== undefined ? { name } : {}) }
      e.markers.push(this.marker)
      return
    }
    const cueType = CUE_TYPES[type]
    if (!cueType) return v.warn(line, `CUE_V2 TYPE ${type} is not a cue, fade, load, grid or loop marker: passed over`)
    const cue: DjCue = { type: cueType, slot, positionMs: start }
    if (cueType === 'loop') {
      const length = v.num(a, 'CUE_V2', 'LEN', line) ?? 0
      if (length >= 0) cue.lengthMs = length
      else {
        v.warn(line, 'a loop CUE_V2 with a negative LEN: kept as a cue')
        cue.type = 'cue'
      }
    }
    if (name !== undefined) cue.name = name
    e.track.cues.push(cue)
  }

  private finishEntry(): void {
    const e = this.entry!
    this.entry = null
    const t = e.track
    if (!e.hasLocation) {
      t.id = `#${e.line}`
      this.v.warn(e.line, 'an ENTRY without a LOCATION: no playlist can refer to it')
    }
    const seen = this.trackLines.get(t.id)
    if (seen !== undefined) throw new DjFormatError('ERR_DUPLICATE', `Traktor NML line ${e.line}: the file ${t.id} is listed again (first at line ${seen})`, e.line)
    this.trackLines.set(t.id, e.line)
    if (e.tempoBpm) t.bpm = e.tempoBpm
    const key = e.keyValue ?? (e.keyText ? keyFromText(e.keyText) : null)
    if (key) t.key = this.v.shared(key)
    else if (e.keyValue === undefined && e.keyText) this.v.warn(e.line, `INFO KEY "${e.keyText}" is not a key`)
    for (const m of e.markers) {
      const bpm = m.bpm ?? e.tempoBpm
      if (bpm) t.grid.push({ positionMs: m.positionMs, bpm, beatOfBar: 1 })
      else this.v.warn(m.line, 'a grid marker without a tempo (no GRID BPM, no TEMPO BPM) is passed over')
      if (m.slot !== null) t.cues.push({ type: 'grid', slot: m.slot, positionMs: m.positionMs, ...(m.name !== undefined ? { name: m.name } : {}) })
    }
    sortCues(t.cues)
    sortGrid(t.grid)
    if (this.onTrack) this.waiting.add(this.onTrack(t))
    else this.lib.tracks.push(t)
  }

  private openPlaylists(name: string, parent: string | undefined, a: Record<string, string>, line: number): void {
    const v = this.v
    if (name === 'NODE') {
      if (this.playlistNode) {
        v.warn(line, 'a NODE inside a playlist NODE is passed over')
        this.skipping = 1
        return
      }
      const type = a.TYPE
      const nodeName = own(a.NAME ?? '')
      if (type === 'FOLDER') {
        if (parent === 'PLAYLISTS' && nodeName === '$ROOT') {
          this.folders.push({ type: 'folder', name: nodeName, children: this.lib.playlists })
          return
        }
        if (this.folderDepth() >= MAX_PLAYLIST_DEPTH) throw new DjFormatError('ERR_TOO_DEEP', `Traktor NML line ${line}: playlist folders nest deeper than ${MAX_PLAYLIST_DEPTH}`, line)
      const folder: DjFolder = { type: 'folder', name: nodeName, children: [] }
        this.siblings().push(folder)
        this.folders.push(folder)
      } else if (type === 'PLAYLIST') {
        const open: OpenPlaylist = { name: nodeName, at: this.folders.slice(1).map((f) => f.name), protocol: false, entries: [] }
        if (this.folders[0]?.children !== this.lib.playlists) open.at = this.folders.map((f) => f.name)
        const node: DjPlaylist = { type: 'playlist', name: nodeName, entries: [] }
        const parentList = this.siblings()
        parentList.push(node)
        this.pending.push({ open, node, parent: parentList })
        this.playlistNode = open
      } else {
        v.warn(line, `a NODE of TYPE "${type ?? ''}" (not a folder or playlist, e.g. a smart list) is passed over`)
        this.skipping = 1
      }
      return
    }
    const p = this.playlistNode
    if (!p) return
    if (name === 'PLAYLIST' && parent === 'NODE') p.protocol = a.TYPE === 'PROTOCOL'
    else if (name === 'ENTRY' && parent === 'PLAYLIST') this.playlistEntry = { key: '', line }
    else if (name === 'PRIMARYKEY' && parent === 'ENTRY' && this.playlistEntry) {
      const key = a.KEY ?? ''
      if (!key) return v.warn(line, 'a PRIMARYKEY without KEY is passed over')
      this.playlistEntry.key = own(key)
      p.entries.push(this.playlistEntry)
    } else if (name === 'EXTENDEDDATA' && parent === 'ENTRY' && this.playlistEntry) {
      const deck = v.int(a, 'EXTENDEDDATA', 'DECK', line)
      const durationS = v.num(a, 'EXTENDEDDATA', 'DURATION', line, { min: 0 })
      const pub = v.int(a, 'EXTENDEDDATA', 'PLAYEDPUBLIC', line)
      const date = v.int(a, 'EXTENDEDDATA', 'STARTDATE', line, { min: 0 })
      const time = v.int(a, 'EXTENDEDDATA', 'STARTTIME', line, { min: 0 })
      const playedAt = date !== undefined ? playedAtOf(date, time ?? 0) : undefined
      if (date !== undefined && date !== 0 && playedAt === null) v.warn(line, `EXTENDEDDATA STARTDATE ${date} is no date`)
      this.playlistEntry.extended = {
        history: a.EXTENDEDTYPE === 'HistoryData',
        ...(deck !== undefined ? { deck } : {}),
        ...(durationS !== undefined ? { durationS } : {}),
        ...(pub !== undefined ? { public: pub === 1 } : {}),
        ...(playedAt ? { playedAt } : {}),
      }
    }
  }

  /** Folders open around the next node, the root folder not counted. */
  private folderDepth(): number {
    return this.folders.length - (this.folders[0]?.children === this.lib.playlists ? 1 : 0)
  }

  private siblings(): DjPlaylistNode[] {
    const folder = this.folders[this.folders.length - 1]
    return folder ? folder.children : this.lib.playlists
  }

  finish(): DjLibrary {
    const ref = (key: string, line: number, playlist: string): DjTrackRef => {
      if (this.trackLines.has(key)) return { trackId: key }
      this.v.warn(line, `playlist "${playlist}": ${key.slice(0, 80)} is not in the collection`)
      return { location: pathFromTraktorKey(key) ?? key }
    }
    for (const { open, node, parent } of this.pending) {
      const history = open.protocol || (open.entries.length > 0 && open.entries.every((e) => e.extended?.history))
      if (!history) {
        node.entries = open.entries.map((e) => ref(e.key, e.line, open.name))
        continue
      }
      parent.splice(parent.indexOf(node), 1)
      const session = [...open.at, open.name]
      for (const e of open.entries) {
        const x = e.extended
        const play: DjPlay = { ref: ref(e.key, e.line, open.name), session }
        if (x?.playedAt) play.playedAt = x.playedAt
        if (x?.deck !== undefined) play.deck = x.deck
        if (x?.durationS !== undefined) play.durationS = x.durationS
        if (x?.public !== undefined) play.public = x.public
        this.lib.history.push(play)
      }
    }
    sortHistory(this.lib.history)
    this.lib.warningsDropped = this.v.warningsDropped
    return this.lib
  }
}

/**
 * Plays in one order whatever the tree's order of history playlists: dated
 * plays by time, then undated ones; ties by session path, then file order.
 */
function sortHistory(plays: DjPlay[]): void {
  const path = (p: DjPlay) => p.session.join('\u0000')
  const order = new Map(plays.map((p, i) => [p, i]))
  plays.sort((a, b) => {
    if (!!a.playedAt !== !!b.playedAt) return a.playedAt ? -1 : 1
    if (a.playedAt && b.playedAt && a.playedAt !== b.playedAt) return a.playedAt < b.playedAt ? -1 : 1
    const [pa, pb] = [path(a), path(b)]
    return pa !== pb ? (pa < pb ? -1 : 1) : order.get(a)! - order.get(b)!
  })
}

/** Reads a Traktor NML file (collection.nml, a history file, an exported playlist). Refuses with DjFormatError. */
export async function readTraktor(input: XmlInput, options: ReadOptions = {}): Promise<DjLibrary> {
  const reader = new TraktorReader(options.onTrack)
  await parseXml(input, TRAKTOR_DOCUMENT, reader)
  return reader.finish()
}
