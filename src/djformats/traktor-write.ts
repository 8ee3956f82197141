// Traktor NML out (VERSION 19, as Traktor Pro 3 writes it), as a stream of
// text chunks. Each track needs a location (Traktor names tracks by file);
// tracks without one, and playlist entries naming them, are left out and
// reported through onSkip. The grid is written as grid markers (CUE_V2 TYPE
// 4 with GRID BPM), each on a downbeat: a row whose beat is not the first of
// its bar is moved on to the next downbeat (bars of 4). Traktor stores no cue
// colours. History sessions become history playlists (PLAYLIST TYPE="PROTOCOL")
// at their folder path.
import { createHash } from 'node:crypto'
import { checkLibrary } from './check.ts'
import { traktorColorIndex } from './colors.ts'
import { fixedText } from './decimal.ts'
import { traktorStart } from './history-date.ts'
import { traktorKeyText, traktorKeyValue } from './keys.ts'
import { traktorKey, traktorLocationOf } from './paths.ts'
import type { WriteOptions } from './rekordbox-write.ts'
import { TRAKTOR_NO_NAME } from './traktor-read.ts'
import type { DjBeat, DjCue, DjLibrary, DjPlay, DjPlaylist, DjPlaylistNode, DjTrack, DjTrackRef } from './types.ts'
import { ratingValue } from './values.ts'
import { attrs } from './xml-write.ts'

export interface TraktorWriteOptions extends WriteOptions {
  /** The volume name of a path outside /Volumes and without a drive ("/Users/dj/a.mp3"): the Mac's boot disk. */
  bootVolume?: string
}

const CUE_TYPE = { cue: 0, 'fade-in': 1, 'fade-out': 2, load: 3, grid: 0, loop: 5 } as const
const GRID_TYPE = 4

/** Where the downbeat at or after a grid row lies (bars of 4). */
function downbeatMs(b: DjBeat): number {
  const beatsToNext = (4 - ((b.beatOfBar - 1) % 4)) % 4
  return beatsToNext ? b.positionMs + (beatsToNext * 60_000) / b.bpm : b.positionMs
}

function cueLine(c: DjCue, type: number, positionMs: number, grid?: number): string {
  const open = `<CUE_V2${attrs([
    ['NAME', c.name ?? TRAKTOR_NO_NAME],
    ['DISPL_ORDER', 0],
    ['TYPE', type],
    ['START', fixedText(positionMs, 6)],
    ['LEN', fixedText(c.type === 'loop' ? c.lengthMs! : 0, 6)],
    ['REPEATS', -1],
    ['HOTCUE', c.slot ?? -1],
  ])}>`
  return `${open}${grid !== undefined ? `<GRID${attrs([['BPM', fixedText(grid, 6)]])}></GRID>` : ''}</CUE_V2>\n`
}

function entryChunk(t: DjTrack, location: { volume: string; dir: string; file: string }): string {
  let out = `<ENTRY${attrs([['TITLE', t.title], ['ARTIST', t.artist]])}><LOCATION${attrs([['DIR', location.dir], ['FILE', location.file], ['VOLUME', location.volume], ['VOLUMEID', location.volume]])}></LOCATION>\n`
  if (t.album !== undefined) out += `<ALBUM${attrs([['TITLE', t.album]])}></ALBUM>\n`
  out += `<INFO${attrs([
    ['GENRE', t.genre],
    ['COMMENT', t.comment],
    ['KEY', t.key !== undefined ? traktorKeyText(t.key) : undefined],
    ['PLAYCOUNT', t.playCount],
    ['PLAYTIME', t.durationS !== undefined ? Math.round(t.durationS) : undefined],
    ['PLAYTIME_FLOAT', t.durationS !== undefined ? fixedText(t.durationS, 6) : undefined],
    ['RANKING', t.rating !== undefined ? ratingValue(t.rating) : undefined],
    ['FILESIZE', t.size !== undefined ? Math.round(t.size / 1024) : undefined],
    ['COLOR', t.color !== undefined ? traktorColorIndex(t.color) : undefined],
  ])}></INFO>\n`
  if (t.bpm !== undefined) out += `<TEMPO${attrs([['BPM', fixedText(t.bpm, 6)], ['BPM_QUALITY', '100.000000']])}></TEMPO>\n`
  if (t.key !== undefined) out += `<MUSICAL_KEY${attrs([['VALUE', traktorKeyValue(t.key)]])}></MUSICAL_KEY>\n`
  // A grid marker holding a hot cue is one CUE_V2: the 'grid' cue at the row's position.
  const gridCues = new Map<number, DjCue>()
  for (const c of t.cues) if (c.type === 'grid' && !gridCues.has(c.positionMs)) gridCues.set(c.positionMs, c)
  const used = new Set<DjCue>()
  for (const b of t.grid) {
    const at = downbeatMs(b)
    let cue = gridCues.get(at)
    if (cue && used.has(cue)) cue = undefined
    if (cue) used.add(cue)
    out += cueLine(cue ?? { type: 'grid', slot: null, positionMs: at, name: 'AutoGrid' }, GRID_TYPE, at, b.bpm)
  }
  for (const c of t.cues) if (!used.has(c)) out += cueLine(c, CUE_TYPE[c.type], c.positionMs)
  return `${out}</ENTRY>\n`
}

const uuidOf = (path: string) => createHash('sha256').update(`djcloud/traktor-playlist:${path}`).digest('hex').slice(0, 32)

type OutFolder = { type: 'folder'; name: string; children: OutNode[] }
type OutNode = OutFolder | DjPlaylist | { type: 'history'; name: string; plays: DjPlay[] }

/** The playlist tree with each history session put back at its folder path (folders made where missing). */
function treeWithHistory(playlists: DjPlaylistNode[], history: DjPlay[]): OutNode[] {
  const copy = (nodes: DjPlaylistNode[]): OutNode[] => nodes.map((n): OutNode => (n.type === 'folder' ? { ...n, children: copy(n.children) } : n))
  const root = copy(playlists)
  const sessions = new Map<string, { path: string[]; plays: DjPlay[] }>()
  for (const p of history) {
    const k = JSON.stringify(p.session)
    if (!sessions.has(k)) sessions.set(k, { path: p.session, plays: [] })
    sessions.get(k)!.plays.push(p)
  }
  for (const { path, plays } of sessions.values()) {
    let children = root
    for (const name of path.slice(0, -1)) {
      let folder = children.find((n): n is OutFolder => n.type === 'folder' && n.name === name)
      if (!folder) children.push((folder = { type: 'folder', name, children: [] }))
      children = folder.children
    }
    children.push({ type: 'history', name: path[path.length - 1]!, plays })
  }
  return root
}

/** Traktor NML for a library, chunk by chunk. Throws DjFormatError ERR_BAD_MODEL before the first chunk if the library is not writable. */
export function* traktorNml(lib: DjLibrary, options: TraktorWriteOptions = {}): Generator<string> {
  checkLibrary(lib)
  const skip = options.onSkip ?? (() => {})
  const bootVolume = options.bootVolume ?? 'Macintosh HD'
  const keys = new Map<string, string>()
  const written: Array<{ t: DjTrack; location: ReturnType<typeof traktorLocationOf> }> = []
  const taken = new Set<string>()
  for (const t of lib.tracks) {
    if (t.location === undefined) {
      skip(`track ${t.id}`, 'Traktor names tracks by file and this one has no location')
      continue
    }
    const location = traktorLocationOf(t.location, bootVolume)
    const key = traktorKey(location)
    keys.set(t.id, key)
    if (taken.has(key)) {
      skip(`track ${t.id}`, `another track has the same file (${t.location})`)
      continue
    }
    taken.add(key)
    written.push({ t, location })
  }
  yield `<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>\n<MUSICFOLDERS></MUSICFOLDERS>\n<COLLECTION ENTRIES="${written.length}">`
  for (const { t, location } of written) yield entryChunk(t, location)
  yield '</COLLECTION>\n<SETS ENTRIES="0"></SETS>\n<PLAYLISTS>'

  const keyOf = (r: DjTrackRef, at: string): string | undefined => {
    if ('location' in r) return traktorKey(traktorLocationOf(r.location, bootVolume))
    const key = keys.get(r.trackId)
    if (key === undefined) skip(`${at}: track ${r.trackId}`, 'no such track with a location in the library')
    return key
  }
  function* nodes(list: OutNode[], at: string): Generator<string> {
    for (const n of list) {
      const here = `${at}/${n.name}`
      if (n.type === 'folder') {
        yield `<NODE${attrs([['TYPE', 'FOLDER'], ['NAME', n.name]])}><SUBNODES COUNT="${n.children.length}">`
        yield* nodes(n.children, here)
        yield '</SUBNODES>\n</NODE>\n'
        continue
      }
      const rows: string[] = []
      if (n.type === 'playlist') {
        for (const r of n.entries) {
          const key = keyOf(r, `playlist ${here}`)
          if (key !== undefined) rows.push(`<ENTRY><PRIMARYKEY${attrs([['TYPE', 'TRACK'], ['KEY', key]])}></PRIMARYKEY>\n</ENTRY>\n`)
        }
      } else {
        for (const p of n.plays) {
          const key = keyOf(p.ref, `history ${here}`)
          if (key === undefined) continue
          const start = p.playedAt ? traktorStart(p.playedAt)! : { date: 0, time: 0 }
          rows.push(
            `<ENTRY><PRIMARYKEY${attrs([['TYPE', 'TRACK'], ['KEY', key]])}></PRIMARYKEY>\n<EXTENDEDDATA${attrs([
              ['DECK', p.deck],
              ['DURATION', p.durationS !== undefined ? fixedText(p.durationS, 6) : undefined],
              ['EXTENDEDTYPE', 'HistoryData'],
              ['PLAYEDPUBLIC', p.public === undefined ? undefined : p.public ? 1 : 0],
              ['STARTDATE', start.date],
              ['STARTTIME', start.time],
            ])}></EXTENDEDDATA>\n</ENTRY>\n`,
          )
        }
      }
      const type = n.type === 'history' ? 'PROTOCOL' : 'LIST'
      yield `<NODE${attrs([['TYPE', 'PLAYLIST'], ['NAME', n.name]])}><PLAYLIST${attrs([['ENTRIES', rows.length], ['TYPE', type], ['UUID', uuidOf(`${type}${here}`)]])}>`
      yield* rows
      yield '</PLAYLIST>\n</NODE>\n'
    }
  }
  const tree = treeWithHistory(lib.playlists, lib.history)
  yield `<NODE TYPE="FOLDER" NAME="$ROOT"><SUBNODES COUNT="${tree.length}">`
  yield* nodes(tree, '')
  yield '</SUBNODES></NODE></PLAYLISTS>\n<INDEXING></INDEXING>\n</NML>\n'
}
