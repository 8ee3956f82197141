// The import plan against what djcloud has: cues set per hot slot and added
// once, loops keep length and colour, nothing removed, what has no place
// listed, playlists named by folder path, and a plan made against its own
// result changes nothing.
import test from 'ava'
import { matchTracks, planImport, importedCueId, type CurrentState, type LibraryTrack } from '../../src/djimport/index.ts'
import type { DjLibrary, DjTrack } from '../../src/djformats/index.ts'
import type { Cue, TrackNotes } from '../../src/library/index.ts'

const hex = (c: string) => c.repeat(64)
const A = hex('a')
const B = hex('b')
const library: LibraryTrack[] = [
  { sha256: A, audioHash: hex('1'), size: 1, paths: ['/m/a.mp3'] },
  { sha256: B, audioHash: hex('2'), size: 1, paths: ['/m/b.mp3'] },
]
const here = { exists: () => true, platform: 'linux' as const }

function dj(tracks: DjTrack[], playlists: DjLibrary['playlists'] = [], history = 0): DjLibrary {
  return {
    format: 'rekordbox',
    tracks,
    playlists,
    history: Array.from({ length: history }, () => ({ ref: { trackId: '1' }, session: ['h'] })),
    warnings: [],
    warningsDropped: 0,
  }
}

const trackA: DjTrack = {
  id: '1',
  location: '/m/a.mp3',
  rating: 4,
  color: '#ff0000',
  comment: 'peak time',
  playCount: 12,
  bpm: 128,
  key: 'A minor',
  grid: [{ positionMs: 25.5, bpm: 128, beatOfBar: 1 }],
  cues: [
    { type: 'cue', slot: 0, positionMs: 1000.4, name: 'Intro', color: '#FF0000' },
    { type: 'loop', slot: 1, positionMs: 32_000, lengthMs: 1875.0004, color: '#00ff00' },
    { type: 'cue', slot: null, positionMs: 64_000 },
    { type: 'loop', slot: null, positionMs: 96_000, lengthMs: 3750 },
    { type: 'fade-in', slot: null, positionMs: 0 },
    { type: 'cue', slot: 0, positionMs: 5000 },
  ],
}

const empty = (): CurrentState => ({ cues: new Map(), notes: new Map(), playlists: new Map(), audioOf: new Map(library.map((t) => [t.sha256, t.audioHash])) })

test('imported cues become djcloud cues: hot A-H, memory, loops with length and colour; fades and a second slot A are listed, not carried', (t) => {
  const lib = dj([trackA])
  const plan = planImport(lib, matchTracks(lib.tracks, library, here), empty())
  const tp = plan.tracks[0]!
  const strip = (c: Cue) => ({ ...c, id: undefined })
  t.deepEqual(tp.cues.add.map(strip), [
    { id: undefined, kind: 'hot', slot: 'A', position: 1, name: 'Intro', color: '#ff0000' },
    { id: undefined, kind: 'hot', slot: 'B', position: 32, color: '#00ff00', length: 1.875 },
    { id: undefined, kind: 'memory', position: 64 },
    { id: undefined, kind: 'memory', position: 96, length: 3.75 },
  ])
  t.true(tp.cues.add.every((c) => c.id === importedCueId(hex('1'), c)))
  t.deepEqual(tp.cues.notCarried.map((n) => n.reason), ['djcloud has no fade-in markers', 'the file gives hot cue A twice; the first is taken'])
  t.deepEqual(tp.notes.set, { grid: [{ position: 0.0255, bpm: 128, beat: 1 }], key: 'A minor', rating: 4, color: '#ff0000', comment: 'peak time', plays: 12 })
  t.deepEqual(tp.notCarried, { bpm: 128 }, 'the file\'s average tempo: the grid gives the tempo')
  t.is(tp.cuesAfter?.length, 4)
})

test('notes: a field the file gives is set when it differs, kept when the same; a rating or play count of 0 is none given; rows djcloud cannot keep are listed', (t) => {
  const lib = dj([
    {
      ...trackA,
      rating: 0,
      playCount: 0,
      comment: 'line\r\none\u0007',
      grid: [{ positionMs: 0, bpm: 128, beatOfBar: 1 }, { positionMs: 0, bpm: 129, beatOfBar: 1 }, { positionMs: 1000, bpm: 0.5, beatOfBar: 1 }, { positionMs: 2000, bpm: 140, beatOfBar: 2 }],
    },
  ])
  const state = empty()
  ;(state.notes as Map<string, unknown>).set(hex('1'), { key: 'A minor', rating: 5, color: '#00ff00' })
  const tp = planImport(lib, matchTracks(lib.tracks, library, here), state).tracks[0]!
  t.deepEqual(tp.notes.set, {
    grid: [{ position: 0, bpm: 128, beat: 1 }, { position: 2, bpm: 140, beat: 2 }],
    color: '#ff0000',
    comment: 'line\none',
  })
  t.deepEqual(tp.notes.unchanged, ['key'])
  t.deepEqual(tp.notes.notCarried.map((n) => n.reason), ['the same position as the row before', 'tempo outside 1-1000 BPM, beat outside 1-4 or position outside ±24 h'])
})

test('what djcloud has is kept: a hot slot the import fills is changed in place, other cues stay, an identical cue is unchanged', (t) => {
  const lib = dj([trackA])
  const state = empty()
  const have: Cue[] = [
    { id: 'mine-hot-a', kind: 'hot', slot: 'A', position: 2 },
    { id: 'mine-mem-1', kind: 'memory', position: 64 },
    { id: 'mine-hot-c', kind: 'hot', slot: 'C', position: 80 },
  ]
  state.cues = new Map([[hex('1'), have]])
  const plan = planImport(lib, matchTracks(lib.tracks, library, here), state)
  const tp = plan.tracks[0]!
  t.deepEqual(tp.cues.change, [{ from: have[0]!, to: { id: 'mine-hot-a', kind: 'hot', slot: 'A', position: 1, name: 'Intro', color: '#ff0000' } }])
  t.is(tp.cues.unchanged, 1, 'the memory cue at 64 s is there already')
  t.deepEqual(tp.cues.add.map((c) => c.slot ?? c.position), ['B', 96])
  t.deepEqual(tp.cuesAfter!.map((c) => c.id).filter((id) => id.startsWith('mine')).sort(), ['mine-hot-a', 'mine-hot-c', 'mine-mem-1'])
})

test('a plan made against its own result changes nothing (a re-import is idempotent)', (t) => {
  const lib = dj(
    [trackA, { id: '2', location: '/m/b.mp3', cues: [], grid: [] }],
    [{ type: 'folder', name: 'Sets', children: [{ type: 'playlist', name: 'Friday', entries: [{ trackId: '1' }, { trackId: '2' }, { trackId: '1' }] }] }],
  )
  const match = matchTracks(lib.tracks, library, here)
  const first = planImport(lib, match, empty())
  t.true(first.summary.changes > 0)
  const state = empty()
  state.cues = new Map(first.tracks.filter((x) => x.cuesAfter).map((x) => [x.audioHash, x.cuesAfter!]))
  state.notes = new Map(first.tracks.map((x) => [x.audioHash, x.notes.set as TrackNotes]))
  state.playlists = new Map(first.playlists.map((p) => [p.name, p.add.map((sha256) => ({ sha256, audioHash: state.audioOf.get(sha256)! }))]))
  const again = planImport(lib, match, state)
  t.is(again.summary.changes, 0)
  t.true(again.tracks.every((x) => x.cuesAfter === undefined && x.cues.add.length === 0 && x.cues.change.length === 0))
  t.deepEqual(again.tracks[0]!.notes, { set: {}, unchanged: ['grid', 'key', 'rating', 'color', 'comment', 'plays'], notCarried: [] })
  t.deepEqual(again.playlists.map((p) => [p.name, p.create, p.add.length, p.unchanged]), [['Sets › Friday', false, 0, 3]])
})

test('playlists: folders kept as a path ("Gigs › 2026 › Club"); an existing playlist gets only what it lacks, counted per recording; unresolved entries are skipped with a reason', (t) => {
  const lib = dj(
    [
      { id: '1', location: '/m/a.mp3', cues: [], grid: [] },
      { id: '2', location: '/m/b.mp3', cues: [], grid: [] },
      { id: '9', location: '/nowhere/z.mp3', cues: [], grid: [] },
    ],
    [
      { type: 'folder', name: 'Gigs', children: [{ type: 'folder', name: '2026', children: [{ type: 'playlist', name: 'Club', entries: [{ trackId: '1' }, { trackId: '2' }, { trackId: '2' }, { trackId: '9' }, { trackId: '404' }] }] }] },
      { type: 'playlist', name: 'Warmup', entries: [{ trackId: '2' }] },
      { type: 'folder', name: 'A/B', children: [{ type: 'playlist', name: 'C\\D', entries: [] }] },
      { type: 'playlist', name: '..', entries: [{ trackId: '1' }] },
    ],
    3,
  )
  const state = empty()
  // djcloud's "Gigs/2026/Club" has b once already (as a retagged file: another SHA-256, same recording).
  state.playlists = new Map([['Gigs › 2026 › Club', [{ sha256: hex('c'), audioHash: hex('2') }]]])
  const plan = planImport(lib, matchTracks(lib.tracks, library, here), state)
  const club = plan.playlists.find((p) => p.name === 'Gigs › 2026 › Club')!
  t.false(club.create)
  t.deepEqual(club.add, [A, B])
  t.is(club.unchanged, 1)
  t.deepEqual(club.skipped.map((s) => s.entry), ['9', '404'])
  t.regex(club.skipped[0]!.reason, /^not matched: /)
  t.regex(club.skipped[1]!.reason, /not in the file's collection/)
  t.deepEqual(plan.playlists.find((p) => p.name === 'Warmup'), { name: 'Warmup', create: true, add: [B], unchanged: 0, skipped: [] })
  // "/" and "\\" in a name (the API takes a name as one URL segment) become lookalikes; ".." is no name.
  t.deepEqual(plan.playlists.find((p) => p.name === 'A\u2215B › C\u29f5D'), { name: 'A\u2215B › C\u29f5D', create: true, add: [], unchanged: 0, skipped: [] })
  t.regex(plan.playlists.find((p) => p.name === '..')!.skipped[0]!.reason, /not a playlist name/)
  t.is(plan.historyPlays, 3)
  t.deepEqual(plan.summary, { entries: 3, matched: 2, cuesAdded: 0, cuesChanged: 0, notesSet: 0, playlistsCreated: 2, playlistEntriesAdded: 3, changes: 5 })
})

test('cue names djcloud cannot keep are cleaned (control characters out, at most 64 characters); cues past 64 a recording are listed', (t) => {
  const many: DjTrack = {
    id: '1',
    location: '/m/a.mp3',
    grid: [],
    cues: [{ type: 'cue', slot: 0, positionMs: 0, name: 'a\tb' + 'x'.repeat(100) }, ...Array.from({ length: 70 }, (_, i) => ({ type: 'cue' as const, slot: null, positionMs: 1000 * (i + 1) }))],
  }
  const lib = dj([many])
  const tp = planImport(lib, matchTracks(lib.tracks, library, here), empty()).tracks[0]!
  t.is(tp.cues.add[0]!.name, 'ab' + 'x'.repeat(62))
  t.is(tp.cues.add.length, 64)
  t.is(tp.cues.notCarried.length, 7)
  t.true(tp.cues.notCarried.every((n) => /at most 64 cues/.test(n.reason)))
})

test('a name or colour the file does not give is kept (Traktor stores no cue colours): the same cue without them is unchanged', (t) => {
  const lib = dj([{ id: '1', location: '/m/a.mp3', grid: [], cues: [{ type: 'cue', slot: 0, positionMs: 1000 }, { type: 'cue', slot: 1, positionMs: 3000 }] }])
  const state = empty()
  state.cues = new Map([[hex('1'), [{ id: 'mine-hot-a', kind: 'hot', slot: 'A', position: 1, name: 'Intro', color: '#ff0000' }, { id: 'mine-hot-b', kind: 'hot', slot: 'B', position: 2, color: '#00ff00' }] as Cue[]]])
  const tp = planImport(lib, matchTracks(lib.tracks, library, here), state).tracks[0]!
  t.is(tp.cues.unchanged, 1)
  t.deepEqual(tp.cues.change.map((c) => c.to), [{ id: 'mine-hot-b', kind: 'hot', slot: 'B', position: 3, color: '#00ff00' }])
})

test('an imported cue moved in djcloud since keeps the move on a re-import (it keeps its id); a cue the file gives twice is listed', (t) => {
  const lib = dj([{ id: '1', location: '/m/a.mp3', grid: [], cues: [{ type: 'cue', slot: null, positionMs: 64_000 }, { type: 'cue', slot: null, positionMs: 64_000 }] }])
  const match = matchTracks(lib.tracks, library, here)
  const first = planImport(lib, match, empty()).tracks[0]!
  t.is(first.cues.add.length, 1)
  t.deepEqual(first.cues.notCarried.map((n) => n.reason), ['the file gives this cue twice'])
  const moved = { ...first.cues.add[0]!, position: 65 }
  const state = empty()
  state.cues = new Map([[hex('1'), [moved]]])
  const again = planImport(lib, match, state)
  t.is(again.summary.changes, 0)
  t.is(again.tracks[0]!.cuesAfter, undefined)
  t.is(again.tracks[0]!.cues.unchanged, 1, 'counted as there (edited since), not as a cue left out')
  t.deepEqual(again.tracks[0]!.cues.notCarried.map((n) => n.reason), ['the file gives this cue twice'])
})
