// Matching imported entries to union tracks: each step on its own evidence,
// ambiguity and misses listed with reasons, one match per recording.
import test from 'ava'
import { DURATION_TOLERANCE_S, matchTracks, pathKey, type LibraryTrack } from '../../src/djimport/index.ts'
import type { DjTrack } from '../../src/djformats/index.ts'

const hex = (c: string) => c.repeat(64)
const lib = (id: string, extra: Partial<LibraryTrack> = {}): LibraryTrack => ({ sha256: hex(id), audioHash: hex(id), size: 1000, paths: [], ...extra })
const entry = (id: string, extra: Partial<DjTrack> = {}): DjTrack => ({ id, cues: [], grid: [], ...extra })
const nothingHere = { exists: () => false, platform: 'linux' as const }

test('a path that exists here matches the track listing it; on Windows and macOS case and Unicode form do not matter', (t) => {
  const linux = matchTracks([entry('1', { location: '/music/Intro.mp3' })], [lib('a', { paths: ['/music/Intro.mp3'] })], { exists: () => true, platform: 'linux' })
  t.deepEqual(linux.matched.map((m) => [m.entryId, m.sha256, m.method]), [['1', hex('a'), 'path']])
  // Linux compares exactly: another case is another file.
  const exact = matchTracks([entry('1', { location: '/music/intro.mp3' })], [lib('a', { paths: ['/music/Intro.mp3'] })], { exists: () => true, platform: 'linux' })
  t.is(exact.matched.length, 0)
  const win = matchTracks([entry('1', { location: 'C:\\Music\\INTRO.mp3' })], [lib('a', { paths: ['c:\\music\\.\\intro.mp3'] })], { exists: () => true, platform: 'win32' })
  t.is(win.matched[0]?.method, 'path')
  const nfd = '/Users/dj/Cafe\u0301.mp3'
  const mac = matchTracks([entry('1', { location: '/Users/dj/CAF\u00c9.mp3' })], [lib('a', { paths: [nfd] })], { exists: () => true, platform: 'darwin' })
  t.is(mac.matched[0]?.method, 'path')
  t.is(pathKey('/a/b/../c.mp3', 'linux'), '/a/c.mp3')
})

test('a path not here falls to name + size + duration; Traktor sizes (KiB) match within their tolerance', (t) => {
  const tracks = [lib('a', { paths: ['/new/place/Track.flac'], size: 5_000_000, duration: 200 }), lib('b', { paths: ['/x/Other.flac'], size: 5_000_000, duration: 200 })]
  const r = matchTracks(
    [
      entry('rb', { location: 'C:\\Old\\track.flac', size: 5_000_000, durationS: 199 }),
      entry('tk', { location: '/Volumes/USB/Other.flac', size: 4_999_168, sizeTolerance: 1024, durationS: 200.4 }),
      entry('bad-size', { location: '/Volumes/USB/Other.flac', size: 4_999_168, durationS: 200 }),
    ],
    tracks,
    nothingHere,
  )
  t.deepEqual(r.matched.map((m) => [m.entryId, m.sha256.slice(0, 1), m.method]), [['rb', 'a', 'name-size-duration'], ['tk', 'b', 'name-size-duration']])
  t.deepEqual(r.unmatched.map((u) => u.entryId), ['bad-size'])
  t.regex(r.unmatched[0]!.reason, /not at its path.*no library file has its name and size/)
})

test(`tags + duration match within ±${DURATION_TOLERANCE_S} s, folded (case, accents, spaces); without a duration they do not`, (t) => {
  const tracks = [lib('a', { artist: 'Beyoncé', title: 'Halo  ', duration: 261.5 })]
  const r = matchTracks(
    [
      entry('ok', { artist: 'BEYONCE', title: 'halo', durationS: 261.5 + DURATION_TOLERANCE_S }),
      entry('far', { artist: 'Beyonce', title: 'Halo', durationS: 261.5 + DURATION_TOLERANCE_S + 0.01 }),
      entry('no-duration', { artist: 'Beyonce', title: 'Halo' }),
    ],
    tracks,
    nothingHere,
  )
  t.deepEqual(r.matched.map((m) => [m.entryId, m.method]), [['ok', 'tags-duration']])
  t.deepEqual(r.unmatched.map((u) => u.entryId), ['far', 'no-duration'])
  t.regex(r.unmatched.find((u) => u.entryId === 'no-duration')!.reason, /no duration/)
})

test('several recordings at one step are ambiguous, listed with the candidates, and not handed to a weaker step', (t) => {
  const tracks = [
    lib('a', { paths: ['/m/x/Same.mp3'], size: 10, duration: 60, artist: 'A', title: 'T' }),
    lib('b', { paths: ['/m/y/Same.mp3'], size: 10, duration: 60 }),
    lib('c', { artist: 'A', title: 'T', duration: 60 }),
  ]
  const r = matchTracks([entry('1', { location: '/old/Same.mp3', size: 10, durationS: 60, artist: 'A', title: 'T' })], tracks, nothingHere)
  t.is(r.matched.length, 0)
  t.deepEqual(r.ambiguous, [
    { entryId: '1', location: '/old/Same.mp3', method: 'name-size-duration', candidates: [hex('a'), hex('b')], reason: '2 recordings match by file name, size and duration' },
  ])
  t.false(r.byEntry.has('1'))
})

test('two files of one recording (a retagged copy) are one candidate: the one held here, else the lowest SHA-256', (t) => {
  const copies = [lib('c', { audioHash: hex('9'), artist: 'A', title: 'T', duration: 10 }), lib('b', { audioHash: hex('9'), artist: 'A', title: 'T', duration: 10, paths: ['/m/b.mp3'] })]
  const r = matchTracks([entry('1', { artist: 'A', title: 'T', durationS: 10 })], copies, nothingHere)
  t.deepEqual(r.matched.map((m) => m.sha256), [hex('b')])
  const remote = matchTracks([entry('1', { artist: 'A', title: 'T', durationS: 10 })], copies.map((c) => ({ ...c, paths: [] })), nothingHere)
  t.deepEqual(remote.matched.map((m) => m.sha256), [hex('b')])
})

test('a recording is matched once: later entries pointing at it are duplicates that still resolve for playlists', (t) => {
  const tracks = [lib('a', { paths: ['/m/a.mp3'], artist: 'A', title: 'T', duration: 10 })]
  const r = matchTracks([entry('1', { location: '/m/a.mp3' }), entry('2', { artist: 'A', title: 'T', durationS: 10 })], tracks, { exists: () => true, platform: 'linux' })
  t.deepEqual(r.matched.map((m) => m.entryId), ['1'])
  t.deepEqual(r.duplicates, [{ entryId: '2', duplicateOf: '1', sha256: hex('a') }])
  t.is(r.byEntry.get('2'), hex('a'))
})

test('a file that is here but not scanned, and an entry with nothing to go on, say why', (t) => {
  const r = matchTracks([entry('1', { location: '/m/new.mp3' }), entry('2')], [lib('a')], { exists: (p) => p === '/m/new.mp3', platform: 'linux' })
  t.regex(r.unmatched[0]!.reason, /here but not in the library \(scan its folder\)/)
  t.regex(r.unmatched[1]!.reason, /no file location.*no artist and title/)
})
