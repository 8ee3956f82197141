// The library an export writes, from djcloud's state: the DJ's grid and key
// win over the analysis' (which fills in when there is none), cues become
// hot/memory cues and loops, playlists go back to folders, entries whose
// track is not here are listed; and the analysis' grid or key coming back in
// a later import is not taken for the DJ's.
import test from 'ava'
import { buildExport, ModelCues, type ExportTrack } from '../../src/djexport/index.ts'
import type { Cue } from '../../src/library/index.ts'
import { matchTracks, planImport, type LibraryTrack } from '../../src/djimport/index.ts'

const hex = (c: string) => c.repeat(64)
const track = (c: string, extra: Partial<ExportTrack> = {}): ExportTrack => ({ sha256: hex(c), audioHash: hex(c.toUpperCase() === c ? c : c), size: 1000, format: 'mp3', path: `/m/${c}.mp3`, title: c, ...extra })

test('the DJ\'s grid and key win over the analysis\', which fills in; cues, loops and notes are carried; playlists become folders', (t) => {
  const a = track('a', { analysis: { bpm: 126, beatOffset: 0.2, key: 'C major' } })
  const b = track('b', { analysis: { bpm: 124.5, beatOffset: 0.0125, key: 'D minor' }, tagKey: 'Am' })
  const c = track('c', { tagKey: '8A', tagBpm: 120 })
  const { lib, summary, skipped } = buildExport({
    format: 'rekordbox',
    tracks: new Map([a, b, c].map((x) => [x.sha256, x])),
    cues: new Map([[a.audioHash, [{ id: 'cue-0001', kind: 'hot', slot: 'C', position: 1.5, name: 'Drop', color: '#ff0000' }, { id: 'cue-0002', kind: 'memory', position: 2, length: 0.5 }]]]),
    notes: new Map([[a.audioHash, { grid: [{ position: 0.0123456, bpm: 139.999924, beat: 2 }], key: 'F minor', rating: 4, plays: 3 }]]),
    playlists: [
      { name: 'Gigs › 2026 › Club\u2215Late', entries: [hex('b'), hex('z'), null, hex('a')] },
      { name: 'Warmup', entries: [hex('c')] },
    ],
  })
  const [ta, tb, tc] = lib.tracks
  t.deepEqual(ta!.grid, [{ positionMs: 12.3456, bpm: 139.999924, beatOfBar: 2 }])
  t.like(ta, { key: 'F minor', bpm: 139.999924, rating: 4, playCount: 3, location: '/m/a.mp3' })
  t.deepEqual(ta!.cues, [{ type: 'cue', slot: 2, positionMs: 1500, name: 'Drop', color: '#ff0000' }, { type: 'loop', slot: null, positionMs: 2000, lengthMs: 500 }])
  t.deepEqual(tb!.grid, [{ positionMs: 12.5, bpm: 124.5, beatOfBar: 1 }], 'the analysis\' grid from its first beat')
  t.is(tb!.key, 'D minor', 'the analysis\' key before the tag\'s')
  t.like(tc, { key: 'A minor', bpm: 120, grid: [] })
  t.deepEqual(lib.playlists, [
    { type: 'folder', name: 'Gigs', children: [{ type: 'folder', name: '2026', children: [{ type: 'playlist', name: 'Club/Late', entries: [{ trackId: hex('b') }, { trackId: hex('a') }] }] }] },
    { type: 'playlist', name: 'Warmup', entries: [{ trackId: hex('c') }] },
  ])
  t.deepEqual(skipped.map((s) => s.reason), ['the track is not on this device', 'the entry resolves to no track of the library'])
  t.like(summary, { tracks: 3, cues: 1, loops: 1, grids: 2, userGrids: 1, keys: 3, notes: 1, playlists: 2, playlistEntries: 3 })

  const one = buildExport({ format: 'traktor', tracks: new Map([a, b, c].map((x) => [x.sha256, x])), cues: new Map(), notes: new Map(), playlists: [{ name: 'Warmup', entries: [hex('c')] }, { name: 'Other', entries: [hex('a')] }], playlist: 'Warmup' })
  t.deepEqual(one.lib.tracks.map((x) => x.title), ['c'])
  t.deepEqual(one.lib.playlists.map((p) => p.name), ['Warmup'])
})

test('the analysis\' grid and key coming back from an export are not imported as the DJ\'s; a grid or key that differs is', (t) => {
  const lt: LibraryTrack = { sha256: hex('b'), audioHash: hex('b'), size: 1000, paths: ['/m/b.mp3'], analysis: { bpm: 124.5, beatOffset: 0.0125, key: 'D minor' } }
  const exported = buildExport({ format: 'rekordbox', tracks: new Map([[lt.sha256, track('b', { analysis: lt.analysis! })]]), cues: new Map(), notes: new Map(), playlists: [] }).lib
  const state = { cues: new Map(), notes: new Map(), playlists: new Map(), audioOf: new Map([[lt.sha256, lt.audioHash]]), analysis: new Map([[lt.audioHash, lt.analysis!]]) }
  const back = planImport(exported, matchTracks(exported.tracks, [lt], { exists: () => true, platform: 'linux' }), state)
  t.deepEqual(back.tracks[0]!.notes.set, {})
  t.is(back.summary.changes, 0)
  const moved = { ...exported, tracks: [{ ...exported.tracks[0]!, key: 'E minor', grid: [{ positionMs: 20, bpm: 124.5, beatOfBar: 1 }] }] }
  t.deepEqual(planImport(moved, matchTracks(moved.tracks, [lt], { exists: () => true, platform: 'linux' }), state).tracks[0]!.notes.set, {
    grid: [{ position: 0.02, bpm: 124.5, beat: 1 }],
    key: 'E minor',
  })
})

test('cues made the model\'s as the node\'s answer arrives (ModelCues) build the same library as the node\'s cues', (t) => {
  const a = track('a', { analysis: { bpm: 126, beatOffset: 0.2, key: 'C major' } })
  const given: Cue[] = [
    { id: 'cue-0001', kind: 'hot', slot: 'C', position: 1.5, name: 'Drop', color: '#ff0000' },
    { id: 'cue-0002', kind: 'memory', position: 2, length: 0.5 },
    { id: 'cue-0003', kind: 'hot', slot: 'A', position: 0.25 },
  ]
  const input = { format: 'traktor' as const, tracks: new Map([[a.sha256, a]]), notes: new Map(), playlists: [] }
  const fromNode = buildExport({ ...input, cues: new Map([[a.audioHash, given]]) })
  const converted = buildExport({ ...input, cues: new Map([[a.audioHash, new ModelCues(given)]]) })
  t.deepEqual(converted, fromNode)
  t.is(converted.lib.tracks[0]!.cues.length, 3)
})
