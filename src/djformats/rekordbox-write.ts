// rekordbox XML out, as a stream of text chunks (one per track), in the shape
// rekordbox's importer takes: every TRACK with a numeric TrackID, Location
// (file URL, percent-encoded per platform), Kind, TEMPO and POSITION_MARK;
// playlists by TrackID (KeyType 0), or by Location (KeyType 1) when a
// playlist names files the collection does not list. A track without a
// location (a streaming track) is left out, as is its place in playlists,
// and reported through onSkip. rekordbox XML has no play history:
// `history` is not written.
import { colorToRgb, rekordboxColour } from './colors.ts'
import { checkLibrary } from './check.ts'
import { fixedText, msSumToSecondsText, msToSecondsText } from './decimal.ts'
import { rekordboxTonality } from './keys.ts'
import { rekordboxLocationOf } from './paths.ts'
import type { DjCue, DjLibrary, DjPlaylistNode, DjTrack } from './types.ts'
import { ratingValue } from './values.ts'
import { attrs } from './xml-write.ts'

export interface WriteOptions {
  /** Told about each thing left out, with why (a playlist entry with no file to name, ...). */
  onSkip?: (what: string, reason: string) => void
}

export interface RekordboxWriteOptions extends WriteOptions {
  product?: { name: string; version: string; company: string }
}

const MARK_TYPE = { cue: 0, 'fade-in': 1, 'fade-out': 2, load: 3, loop: 4, grid: 0 } as const

/** Kind by extension, as rekordbox's English UI names them. */
const KINDS: Record<string, string> = { mp3: 'MP3 File', m4a: 'M4A File', mp4: 'M4A File', aac: 'AAC File', alac: 'M4A File', wav: 'WAV File', wave: 'WAV File', aif: 'AIFF File', aiff: 'AIFF File', aifc: 'AIFF File', flac: 'FLAC File', ogg: 'OGG File', oga: 'OGG File', opus: 'OPUS File' }

function kindOf(location: string | undefined): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(location ?? '')?.[1]?.toLowerCase()
  return ext ? (KINDS[ext] ?? `${ext.toUpperCase()} File`) : undefined
}

/** TrackIDs: a track's own id where it is a number not taken, else the next free number. */
function trackIds(tracks: DjTrack[]): Map<string, string> {
  const out = new Map<string, string>()
  const taken = new Set<string>()
  for (const t of tracks) if (/^[1-9]\d{0,9}$/.test(t.id) && !taken.has(t.id)) [out.set(t.id, t.id), taken.add(t.id)]
  let next = 1
  for (const t of tracks) {
    if (out.has(t.id)) continue
    while (taken.has(String(next))) next++
    out.set(t.id, String(next))
    taken.add(String(next))
  }
  return out
}

function markLine(c: DjCue): string {
  const rgb = c.color ? colorToRgb(c.color) : undefined
  return `      <POSITION_MARK${attrs([
    ['Name', c.name ?? ''],
    ['Type', MARK_TYPE[c.type]],
    ['Start', msToSecondsText(c.positionMs)],
    ['End', c.type === 'loop' ? msSumToSecondsText(c.positionMs, c.lengthMs!) : undefined],
    ['Num', c.slot ?? -1],
    ['Red', rgb?.[0]],
    ['Green', rgb?.[1]],
    ['Blue', rgb?.[2]],
  ])}/>\n`
}

function trackChunk(t: DjTrack, trackId: string): string {
  const head = `    <TRACK${attrs([
    ['TrackID', trackId],
    ['Name', t.title ?? ''],
    ['Artist', t.artist ?? ''],
    ['Album', t.album ?? ''],
    ['Genre', t.genre ?? ''],
    ['Kind', kindOf(t.location)],
    ['Size', t.size],
    ['TotalTime', t.durationS !== undefined ? Math.round(t.durationS) : undefined],
    ['AverageBpm', t.bpm !== undefined ? fixedText(t.bpm, 2) : undefined],
    ['PlayCount', t.playCount],
    ['Rating', t.rating !== undefined ? ratingValue(t.rating) : undefined],
    ['Location', t.location !== undefined ? rekordboxLocationOf(t.location) : undefined],
    ['Tonality', t.key !== undefined ? rekordboxTonality(t.key) : undefined],
    ['Colour', t.color !== undefined ? rekordboxColour(t.color) : undefined],
    ['Comments', t.comment ?? ''],
  ])}`
  if (t.grid.length === 0 && t.cues.length === 0) return `${head}/>\n`
  let body = ''
  for (const b of t.grid) body += `      <TEMPO${attrs([['Inizio', msToSecondsText(b.positionMs)], ['Bpm', fixedText(b.bpm, 2)], ['Metro', '4/4'], ['Battito', b.beatOfBar]])}/>\n`
  for (const c of t.cues) body += markLine(c)
  return `${head}>\n${body}    </TRACK>\n`
}

/** rekordbox XML for a library, chunk by chunk. Throws DjFormatError ERR_BAD_MODEL before the first chunk if the library is not writable. */
export function* rekordboxXml(lib: DjLibrary, options: RekordboxWriteOptions = {}): Generator<string> {
  checkLibrary(lib)
  const skip = options.onSkip ?? (() => {})
  // rekordbox's importer needs a Location on every TRACK.
  const tracks: DjTrack[] = []
  const unwritten = new Set<string>()
  for (const t of lib.tracks) {
    if (t.location !== undefined) tracks.push(t)
    else {
      unwritten.add(t.id)
      skip(`track ${t.id}`, 'rekordbox needs a Location and this track has none')
    }
  }
  const ids = trackIds(tracks)
  const byId = new Map(tracks.map((t) => [t.id, t]))
  const product = options.product ?? { name: 'djcloud', version: '1', company: 'djcloud' }
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n  <PRODUCT${attrs([['Name', product.name], ['Version', product.version], ['Company', product.company]])}/>\n  <COLLECTION Entries="${tracks.length}">\n`
  for (const t of tracks) yield trackChunk(t, ids.get(t.id)!)
  yield `  </COLLECTION>\n  <PLAYLISTS>\n    <NODE Type="0" Name="ROOT" Count="${lib.playlists.length}">\n`

  function* nodes(list: DjPlaylistNode[], indent: string, at: string): Generator<string> {
    for (const n of list) {
      const here = `${at}/${n.name}`
      if (n.type === 'folder') {
        yield `${indent}<NODE${attrs([['Type', 0], ['Name', n.name], ['Count', n.children.length]])}>\n`
        yield* nodes(n.children, `${indent}  `, here)
        yield `${indent}</NODE>\n`
        continue
      }
      const byLocation = n.entries.some((r) => 'location' in r)
      const keys: string[] = []
      for (const r of n.entries) {
        if ('trackId' in r && unwritten.has(r.trackId)) skip(`playlist ${here}: track ${r.trackId}`, 'the track is not written (no Location)')
        else if ('location' in r) keys.push(rekordboxLocationOf(r.location))
        else if (!byLocation) keys.push(ids.get(r.trackId) ?? r.trackId)
        else {
          const location = byId.get(r.trackId)?.location
          if (location) keys.push(rekordboxLocationOf(location))
          else skip(`playlist ${here}: track ${r.trackId}`, 'the playlist is written by Location and this track is not in the library')
        }
      }
      yield `${indent}<NODE${attrs([['Name', n.name], ['Type', 1], ['KeyType', byLocation ? 1 : 0], ['Entries', keys.length]])}>\n`
      for (const k of keys) yield `${indent}  <TRACK${attrs([['Key', k]])}/>\n`
      yield `${indent}</NODE>\n`
    }
  }
  yield* nodes(lib.playlists, '      ', '')
  if (lib.history.length) skip(`${lib.history.length} plays of history`, 'rekordbox XML has no play history')
  yield '    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n'
}
