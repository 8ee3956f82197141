import test from 'ava'
import { readRekordbox, readTraktor, rekordboxXml, traktorNml, type DjLibrary } from '../../src/djformats/index.ts'
import { DEC_5_2026, REKORDBOX_XML, TRAKTOR_NML } from './fixtures.ts'
import { inPieces, kept, text } from './helpers.ts'

const ONE = 'Macintosh HD/:Users/:dj/:Music/:Set A/:One & Two - Track One.mp3'
const TWO = 'C:/:DJ/:Tracks/:b.wav'
const THREE = 'USB Stick/:Sets/:c.aiff'

test('a Traktor collection is read into the model: locations, ms cues, grid markers, keys 0-23, KiB sizes', async (t) => {
  const lib = await readTraktor(TRAKTOR_NML)
  t.is(lib.format, 'traktor')
  t.deepEqual(lib.product, { name: 'Traktor' })
  t.deepEqual(lib.tracks[0], {
    id: ONE,
    location: '/Volumes/Macintosh HD/Users/dj/Music/Set A/One & Two - Track One.mp3',
    title: 'Track One (Extended)',
    artist: 'Artist One & Two',
    album: 'Track One',
    genre: 'House',
    comment: 'Bought online',
    playCount: 7,
    durationS: 370.991028,
    rating: 4,
    size: 14696 * 1024,
    sizeTolerance: 1024,
    color: '#00ff00',
    bpm: 139.999924,
    key: 'Ab minor',
    grid: [
      { positionMs: 128.945395, bpm: 139.999924, beatOfBar: 1 },
      { positionMs: 96128.945395, bpm: 141, beatOfBar: 1 },
    ],
    cues: [
      { type: 'grid', slot: 0, positionMs: 128.945395, name: 'AutoGrid' },
      { type: 'cue', slot: null, positionMs: 310 },
      { type: 'fade-in', slot: null, positionMs: 4172.861689, name: 'Fade-In' },
      { type: 'load', slot: null, positionMs: 11852.867783, name: 'Load' },
      { type: 'loop', slot: 2, positionMs: 15692.87083, lengthMs: 3840.003047 },
      { type: 'cue', slot: 1, positionMs: 64025.5, name: 'Drop' },
    ],
  })
  t.deepEqual(lib.tracks[1], {
    id: TWO,
    location: 'C:\\DJ\\Tracks\\b.wav',
    title: 'B Side',
    artist: 'B',
    durationS: 295,
    size: 51200 * 1024,
    sizeTolerance: 1024,
    bpm: 124,
    key: 'C major',
    // A grid marker without GRID BPM takes the track's TEMPO BPM.
    grid: [{ positionMs: 50, bpm: 124, beatOfBar: 1 }],
    cues: [],
  })
  t.deepEqual(lib.tracks[2], { id: THREE, location: '/Volumes/USB Stick/Sets/c.aiff', title: 'Stick', key: 'B minor', cues: [], grid: [] })
})

test('Traktor playlists, a smart list passed over, and history playlists read as plays', async (t) => {
  const lib = await readTraktor(TRAKTOR_NML)
  t.deepEqual(lib.playlists, [
    { type: 'folder', name: 'Gigs', children: [{ type: 'playlist', name: 'Friday', entries: [{ trackId: ONE }, { trackId: TWO }, { location: '/Volumes/USB Stick/Sets/gone.mp3' }] }] },
    { type: 'folder', name: 'Archive', children: [] },
    { type: 'playlist', name: '_LOOPS', entries: [] },
  ])
  t.deepEqual(lib.history, [
    { ref: { trackId: TWO }, session: ['HISTORY'], playedAt: '2026-12-05T22:00:00', deck: 1, durationS: 241.700394, public: true },
    { ref: { trackId: ONE }, session: ['HISTORY'], playedAt: '2026-12-05T22:04:01', deck: 0, durationS: 19.6480026, public: false },
    // A playlist whose every entry is HistoryData is history too; STARTDATE 0 is no date.
    { ref: { trackId: THREE }, session: ['Archive', 'history_2026y12m04d'], deck: 2, durationS: 300, public: true },
  ])
  t.deepEqual(
    lib.warnings.map((w) => w.message),
    ['a NODE of TYPE "SMARTLIST" (not a folder or playlist, e.g. a smart list) is passed over', 'playlist "Friday": USB Stick/:Sets/:gone.mp3 is not in the collection'],
  )
})

test('read -> write -> read is the identity (cues, loops, grid markers, playlists, history, keys)', async (t) => {
  const first = await readTraktor(TRAKTOR_NML)
  const written = text(traktorNml(first))
  const second = await readTraktor(written)
  t.deepEqual(kept(second), kept(first))
  t.is(text(traktorNml(second)), written)
  t.deepEqual(kept(await readTraktor(inPieces(TRAKTOR_NML, 5))), kept(first))
})

test('valid NML as Traktor writes it: VERSION 19, LOCATION forms, primary keys, grid markers, history data', async (t) => {
  const nml = text(traktorNml(await readTraktor(TRAKTOR_NML)))
  t.regex(nml, /^<\?xml version="1\.0" encoding="UTF-8" standalone="no" \?>\n<NML VERSION="19">/)
  t.true(nml.includes('<LOCATION DIR="/:Users/:dj/:Music/:Set A/:" FILE="One &amp; Two - Track One.mp3" VOLUME="Macintosh HD" VOLUMEID="Macintosh HD">'))
  t.true(nml.includes('<LOCATION DIR="/:DJ/:Tracks/:" FILE="b.wav" VOLUME="C:" VOLUMEID="C:">'))
  t.true(nml.includes('FILESIZE="14696"'))
  t.true(nml.includes('<MUSICAL_KEY VALUE="20"></MUSICAL_KEY>'))
  t.true(nml.includes('<CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="128.945395" LEN="0.000000" REPEATS="-1" HOTCUE="0"><GRID BPM="139.999924"></GRID></CUE_V2>'))
  t.true(nml.includes('<CUE_V2 NAME="n.n." DISPL_ORDER="0" TYPE="5" START="15692.870830" LEN="3840.003047" REPEATS="-1" HOTCUE="2"></CUE_V2>'))
  t.true(nml.includes('<PRIMARYKEY TYPE="TRACK" KEY="C:/:DJ/:Tracks/:b.wav"></PRIMARYKEY>'))
  t.true(nml.includes(`<EXTENDEDDATA DECK="1" DURATION="241.700394" EXTENDEDTYPE="HistoryData" PLAYEDPUBLIC="1" STARTDATE="${DEC_5_2026}" STARTTIME="79200"></EXTENDEDDATA>`))
  t.regex(nml, /<NODE TYPE="PLAYLIST" NAME="HISTORY"><PLAYLIST ENTRIES="2" TYPE="PROTOCOL" UUID="[0-9a-f]{32}">/)
})

test('rekordbox -> Traktor: grids move to downbeats, cues and loops keep their ms, paths get Traktor locations', async (t) => {
  const rb = await readRekordbox(REKORDBOX_XML)
  const skipped: string[] = []
  const nml = text(traktorNml(rb, { bootVolume: 'Studio SSD', onSkip: (w, why) => skipped.push(`${w}: ${why}`) }))
  const tk = await readTraktor(nml)
  t.deepEqual(skipped, [])
  const a = rb.tracks[0]!
  const b = tk.tracks[0]!
  t.is(b.id, "C:/:Music/:Sets/:Čeh & Don't # 100%.mp3")
  t.is(tk.tracks[1]!.id, 'Studio SSD/:Users/:dj/:Music/:Über Alles/:b c.flac', 'a path outside /Volumes is on the boot volume')
  t.is(tk.tracks[3]!.id, 'USB Stick/:Sets/:d.aiff')
  // Traktor stores no cue colours; everything else of every cue crosses.
  t.deepEqual(b.cues, a.cues.map(({ color: _c, ...c }) => c))
  // Beat 3 of a bar at 130 BPM: two beats on; beat 2 at 131.5: three beats on.
  t.deepEqual(b.grid, [
    { positionMs: 25, bpm: 128, beatOfBar: 1 },
    { positionMs: 60025 + (2 * 60000) / 130, bpm: 130, beatOfBar: 1 },
    { positionMs: 120487 + (3 * 60000) / 131.5, bpm: 131.5, beatOfBar: 1 },
  ])
  t.is(b.key, a.key)
  t.is(b.rating, a.rating)
  // The playlists, with the file rekordbox did not list either.
  t.deepEqual(tk.playlists[1], { type: 'playlist', name: 'By file', entries: [{ trackId: tk.tracks[1]!.id }, { trackId: tk.tracks[3]!.id }, { location: '/Volumes/Studio SSD/Users/dj/Music/gone.mp3' }] })
})

test('a decomposed (NFD) name is written composed, as Traktor writes it', async (t) => {
  const lib: DjLibrary = { format: 'rekordbox', tracks: [{ id: '1', location: '/Volumes/USB/C\u030ceh.mp3', cues: [], grid: [] }], playlists: [], history: [], warnings: [], warningsDropped: 0 }
  const nml = text(traktorNml(lib))
  t.true(nml.includes('FILE="\u010ceh.mp3"'))
  t.false(nml.includes('C\u030c'))
})
