// The benchmark's synthetic collection, deterministic: N tracks with 8 cues
// each (6 hot cues, a memory cue, a memory loop), a variable grid of 2 rows,
// key, rating, colour, comment, play count, in 100 playlists of 200 under a
// folder; and the djcloud side of the same tracks (what GET /api/library,
// /api/cues and /api/notes answer), so import matches every entry and export
// writes every track.
import type { DjLibrary, DjTrack } from '../../src/djformats/index.ts'
import type { ImportPlan, ListedTrack } from '../../src/djimport/index.ts'
import { NOTE_FIELDS, type Cue, type TrackNotes } from '../../src/library/index.ts'

const KEYS = ['A minor', 'C major', 'F# minor', 'Db major']
const PER_PLAYLIST = 200
const hex = (i: number, salt: string) => (salt + i.toString(16)).padStart(64, '0')
export const pathOf = (i: number) => `/music/Artist ${i % 700}/Album ${i % 97}/${i} Track & Mix #${i}.mp3`
export const sizeOf = (i: number) => 9_000_000 + i * 4096 // apart by more than Traktor's KiB rounding
export const durationOf = (i: number) => 200 + (i % 300)

/** Track i (from 1) of the collection. */
export function trackAt(i: number): DjTrack {
  return {
    id: String(i),
    location: pathOf(i),
    size: sizeOf(i),
    durationS: durationOf(i),
    title: `Track ${i} (Extended Mix)`,
    artist: `Artist ${i % 700}`,
    album: `Album ${i % 97}`,
    genre: 'House',
    bpm: 128,
    key: KEYS[i % 4]!,
    rating: 1 + (i % 5),
    color: '#ff007f',
    comment: `comment ${i}`,
    playCount: 1 + (i % 40),
    grid: [
      { positionMs: 25.5 + (i % 100), bpm: 128, beatOfBar: 1 },
      { positionMs: 60_025.5 + (i % 100), bpm: 129.5, beatOfBar: 1 },
    ],
    cues: Array.from({ length: 8 }, (_, c) =>
      c === 7
        ? { type: 'loop' as const, slot: null, positionMs: 90_000 + i, lengthMs: 1875 }
        : { type: 'cue' as const, slot: c < 6 ? c : null, positionMs: 1000 * (c + 1) + i, name: `Cue ${c}`, ...(c < 6 ? { color: '#e62828' } : {}) },
    ),
  }
}

export function djLibrary(n: number): DjLibrary {
  const tracks: DjTrack[] = []
  for (let i = 1; i <= n; i++) tracks.push(trackAt(i))
  const lists = Array.from({ length: Math.ceil(n / PER_PLAYLIST) }, (_, p) => ({
    type: 'playlist' as const,
    name: `Set ${p + 1}`,
    entries: tracks.slice(p * PER_PLAYLIST, (p + 1) * PER_PLAYLIST).map((t) => ({ trackId: t.id })),
  }))
  return { format: 'rekordbox', tracks, playlists: [{ type: 'folder', name: 'Gigs', children: lists }], history: [], warnings: [], warningsDropped: 0 }
}

/**
 * What the node's API would answer for the same tracks, held on this device:
 * for an import (`edits` false) a library without cues, notes or playlists
 * yet; for an export the cues, notes and playlists an import made. Made one
 * track at a time, so the process holds the answers' text, not a model.
 */
export function apiTexts(n: number, edits: boolean): Record<string, string> {
  const tracks: ListedTrack[] = []
  const cues: Record<string, Cue[]> = {}
  const notes: Record<string, TrackNotes> = {}
  for (let i = 1; i <= n; i++) {
    const audio = hex(i, 'a')
    tracks.push({
      sha256: hex(i, 'f'), audioHash: audio, size: sizeOf(i), format: 'mp3', missing: false, paths: [pathOf(i)], holders: [{ self: true }],
      tags: { title: `Track ${i} (Extended Mix)`, artist: `Artist ${i % 700}`, album: `Album ${i % 97}`, genre: 'House', duration: durationOf(i) },
      analysis: { bpm: 128.1, key: 'A minor', duration: durationOf(i), beatOffset: 0.12 },
    })
    if (!edits) continue
    const t = trackAt(i)
    cues[audio] = t.cues.map((c, k): Cue => ({
      id: `cue-${String(k).padStart(5, '0')}`,
      kind: c.slot === null ? 'memory' : 'hot',
      ...(c.slot !== null ? { slot: 'ABCDEFGH'[c.slot] as Cue['slot'] } : {}),
      position: c.positionMs / 1000,
      ...(c.name ? { name: c.name } : {}),
      ...(c.color ? { color: c.color } : {}),
      ...(c.lengthMs ? { length: c.lengthMs / 1000 } : {}),
    }))
    notes[audio] = { grid: t.grid.map((g) => ({ position: g.positionMs / 1000, bpm: g.bpm, beat: g.beatOfBar })), key: t.key!, rating: t.rating!, color: t.color!, comment: t.comment!, plays: t.playCount! }
  }
  const names = edits ? Array.from({ length: Math.ceil(n / PER_PLAYLIST) }, (_, p) => `Gigs › Set ${p + 1}`) : []
  const out: Record<string, string> = {
    '/api/library': JSON.stringify({ tracks }),
    '/api/cache': JSON.stringify({ tracks: [] }),
    '/api/cues': JSON.stringify({ cues }),
    '/api/notes': JSON.stringify({ notes }),
    '/api/playlists': JSON.stringify({ playlists: names.map((name) => ({ name })) }),
  }
  names.forEach((name, p) => {
    const entries = []
    for (let i = p * PER_PLAYLIST + 1; i <= Math.min(n, (p + 1) * PER_PLAYLIST); i++) entries.push({ ref: { sha256: hex(i, 'f') }, track: { sha256: hex(i, 'f'), audioHash: hex(i, 'a') } })
    out[`/api/playlists/${encodeURIComponent(name)}`] = JSON.stringify({ playlist: { entries } })
  })
  return out
}

/**
 * What the node answers after a first import of a file was applied (the
 * re-import's node): the listing as before, every matched recording's cues
 * (`cuesAfter`, as the node's merge orders them: by position, then id; fields
 * in the node's order) and notes (the fields set, in the node's field order),
 * and the imported playlists with the tracks added to them.
 */
export function importedTexts(before: Record<string, string>, plan: ImportPlan): Record<string, string> {
  const cues: Record<string, Cue[]> = {}
  const notes: Record<string, Record<string, unknown>> = {}
  const audioOf = new Map<string, string>()
  for (const t of plan.tracks) {
    audioOf.set(t.sha256, t.audioHash)
    if (t.cuesAfter?.length) cues[t.audioHash] = t.cuesAfter
    const set = t.notes.set as Record<string, unknown>
    const kept: Record<string, unknown> = {}
    for (const f of NOTE_FIELDS) if (set[f] !== undefined && set[f] !== null) kept[f] = set[f]
    if (Object.keys(kept).length) notes[t.audioHash] = kept
  }
  const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]))
  const out: Record<string, string> = {
    '/api/library': before['/api/library']!,
    '/api/cache': JSON.stringify({ tracks: [] }),
    '/api/cues': JSON.stringify({ cues: sorted(cues) }),
    '/api/notes': JSON.stringify({ notes: sorted(notes) }),
    '/api/playlists': JSON.stringify({ playlists: plan.playlists.map((p) => ({ name: p.name })) }),
  }
  for (const p of plan.playlists) {
    const entries = p.add.map((sha256) => ({ ref: { sha256 }, track: { sha256, audioHash: audioOf.get(sha256)! } }))
    out[`/api/playlists/${encodeURIComponent(p.name)}`] = JSON.stringify({ playlist: { entries } })
  }
  return out
}

/**
 * What the stand-in answers at a URL: a prepared text, or for GET /api/cues
 * and /api/notes narrowed to some recordings (`?audio=h1,h2,...`, what an
 * import reads for each batch of entries) those recordings' members of the
 * whole answer, in the node's order (by audio hash).
 */
export function standInAnswer(texts: Record<string, string>): (url: string) => string | undefined {
  const members = new Map<string, Map<string, string>>()
  return (url) => {
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    if (q < 0 || (path !== '/api/cues' && path !== '/api/notes')) return texts[url]
    const key = path.slice('/api/'.length)
    let all = members.get(path)
    if (!all) members.set(path, (all = new Map(Object.entries(JSON.parse(texts[path]!)[key] as Record<string, unknown>).map(([h, v]) => [h, JSON.stringify(v)]))))
    const asked = [...new Set(new URLSearchParams(url.slice(q + 1)).get('audio')?.split(',') ?? [])].sort()
    return `{"${key}":{${asked.flatMap((h) => (all.has(h) ? [`"${h}":${all.get(h)}`] : [])).join(',')}}}`
  }
}
