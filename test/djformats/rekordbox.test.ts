import test from 'ava'
import { detectFormat, readRekordbox, readTraktor, rekordboxXml, type DjLibrary, type DjTrack } from '../../src/djformats/index.ts'
import { REKORDBOX_XML, TRAKTOR_NML } from './fixtures.ts'
import { inPieces, kept, text } from './helpers.ts'

const track = (lib: DjLibrary, id: string): DjTrack => lib.tracks.find((t) => t.id === id)!

test('a rekordbox export is read into the model: units, keys, ratings, colours, Locations', async (t) => {
  const lib = await readRekordbox(REKORDBOX_XML)
  t.is(lib.format, 'rekordbox')
  t.deepEqual(lib.product, { name: 'rekordbox', version: '6.8.5' })
  t.deepEqual(track(lib, '21899570'), {
    id: '21899570',
    location: "C:\\Music\\Sets\\Čeh & Don't # 100%.mp3",
    size: 10_000_000,
    durationS: 412,
    title: "Čeh & Don't",
    artist: 'Nina "N" K',
    album: 'Trip <1>',
    genre: 'Techno',
    comment: 'line one\nline two',
    bpm: 128,
    key: 'F minor',
    rating: 4,
    color: '#ff007f',
    playCount: 12,
    grid: [
      { positionMs: 25, bpm: 128, beatOfBar: 1 },
      { positionMs: 60025, bpm: 130, beatOfBar: 3 },
      { positionMs: 120487, bpm: 131.5, beatOfBar: 2 },
    ],
    cues: [
      { type: 'cue', slot: null, positionMs: 25 },
      { type: 'load', slot: null, positionMs: 300 },
      { type: 'fade-in', slot: null, positionMs: 1500 },
      { type: 'cue', slot: 0, positionMs: 64025, name: 'Drop', color: '#e62828' },
      { type: 'loop', slot: 1, positionMs: 96400, lengthMs: 1875, name: 'Roll', color: '#ff8c00' },
      { type: 'loop', slot: null, positionMs: 180101, lengthMs: 7500 },
      { type: 'cue', slot: 7, positionMs: 300123, name: 'Outro', color: '#305aff' },
    ],
  })
  // Localised Kind with a trailing space, Camelot Tonality, "0.00" (not analysed), empty texts.
  t.deepEqual(track(lib, '2'), {
    id: '2',
    location: '/Users/dj/Music/Über Alles/b c.flac',
    size: 40_000_000,
    durationS: 312,
    title: 'Warm up',
    key: 'A minor',
    rating: 0,
    playCount: 0,
    cues: [],
    grid: [],
  })
  t.is(track(lib, '3').location, 'D:\\DJ\\third.wav')
  t.is(track(lib, '3').key, 'C# minor') // "Dbm"
  t.is(track(lib, '3').rating, 5)
  t.is(track(lib, '3').bpm, 124.5)
  t.is(track(lib, '4').location, '/Volumes/USB Stick/Sets/d.aiff')
  t.is(track(lib, '4').key, 'E major') // "12B"
  t.is(track(lib, '4').rating, 1)
})

test('rekordbox playlists: folders, KeyType 0 by TrackID, KeyType 1 by Location, a file the collection lacks kept and reported', async (t) => {
  const lib = await readRekordbox(REKORDBOX_XML)
  t.deepEqual(lib.playlists, [
    {
      type: 'folder',
      name: 'Gigs',
      children: [
        { type: 'folder', name: '2026', children: [{ type: 'playlist', name: 'Friday & Saturday', entries: [{ trackId: '21899570' }, { trackId: '2' }, { trackId: '3' }] }] },
      ],
    },
    { type: 'playlist', name: 'By file', entries: [{ trackId: '2' }, { trackId: '4' }, { location: '/Users/dj/Music/gone.mp3' }] },
    { type: 'playlist', name: 'Empty', entries: [] },
    { type: 'folder', name: 'Empty folder', children: [] },
  ])
  t.is(lib.warnings.length, 1)
  t.regex(lib.warnings[0]!.message, /By file.*gone\.mp3.*not in the collection/)
  t.is(lib.warnings[0]!.line, REKORDBOX_XML.split('\n').findIndex((l) => l.includes('gone.mp3')) + 1)
})

test('read -> write -> read is the identity (cues, loops, grids, playlists, keys and the rest)', async (t) => {
  const first = await readRekordbox(REKORDBOX_XML)
  const written = text(rekordboxXml(first))
  const second = await readRekordbox(written)
  t.deepEqual(kept(second), kept(first))
  // And once more: the writer's own output is stable.
  t.is(text(rekordboxXml(second)), written)
})

test('a stream in small pieces (split inside UTF-8 characters) reads the same as the whole text', async (t) => {
  const whole = await readRekordbox(REKORDBOX_XML)
  for (const size of [1, 3, 7, 4096]) t.deepEqual(kept(await readRekordbox(inPieces(REKORDBOX_XML, size))), kept(whole), `pieces of ${size}`)
  t.deepEqual(kept(await readRekordbox(Buffer.from(`\uFEFF${REKORDBOX_XML}`))), kept(whole), 'with a byte order mark')
})

test('what rekordbox imports: numeric TrackIDs, Locations encoded per platform, Kind, TEMPO and POSITION_MARK', async (t) => {
  const xml = text(rekordboxXml(await readRekordbox(REKORDBOX_XML)))
  t.regex(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<DJ_PLAYLISTS Version="1\.0\.0">/)
  t.true(xml.includes(`Location="file://localhost/C:/Music/Sets/%C4%8Ceh%20%26%20Don't%20%23%20100%25.mp3"`))
  t.true(xml.includes('Location="file://localhost/Users/dj/Music/%C3%9Cber%20Alles/b%20c.flac"'))
  t.true(xml.includes('Location="file://localhost/D:/DJ/third.wav"'))
  t.true(xml.includes('Location="file://localhost/Volumes/USB%20Stick/Sets/d.aiff"'))
  for (const kind of ['MP3 File', 'FLAC File', 'WAV File', 'AIFF File']) t.true(xml.includes(`Kind="${kind}"`), kind)
  t.true(xml.includes('<TEMPO Inizio="120.487" Bpm="131.50" Metro="4/4" Battito="2"/>'))
  t.true(xml.includes('<POSITION_MARK Name="Roll" Type="4" Start="96.400" End="98.275" Num="1" Red="255" Green="140" Blue="0"/>'))
  t.true(xml.includes('Name="Čeh &amp; Don\'t" Artist="Nina &quot;N&quot; K" Album="Trip &lt;1&gt;"'))
  t.true(xml.includes('Comments="line one&#10;line two"'))
  t.true(xml.includes('Tonality="Dbm"'), 'rekordbox spells C# minor "Dbm"')
  t.true(xml.includes('<NODE Name="By file" Type="1" KeyType="1" Entries="3">'))
  t.true(xml.includes('<TRACK Key="file://localhost/Users/dj/Music/gone.mp3"/>'))
})

test('a library read from Traktor is written with numeric TrackIDs its playlists follow', async (t) => {
  const fromTraktor = await readTraktor(TRAKTOR_NML)
  const skipped: string[] = []
  const xml = text(rekordboxXml(fromTraktor, { onSkip: (what, why) => skipped.push(`${what}: ${why}`) }))
  const back = await readRekordbox(xml)
  t.deepEqual(back.tracks.map((x) => x.id), ['1', '2', '3'])
  t.deepEqual(back.tracks.map((x) => x.location), fromTraktor.tracks.map((x) => x.location))
  const friday = (back.playlists[0] as { children: Array<{ entries: unknown }> }).children[0]!.entries
  // The file not in the Traktor collection makes the playlist go by Location.
  t.deepEqual(friday, [{ trackId: '1' }, { trackId: '2' }, { location: '/Volumes/USB Stick/Sets/gone.mp3' }])
  t.deepEqual(skipped, ['3 plays of history: rekordbox XML has no play history'])
  // Cues, loops, grid and key cross over; Traktor has no cue colours to carry.
  const a = fromTraktor.tracks[0]!
  const b = back.tracks[0]!
  t.deepEqual(b.cues, a.cues.map((c) => (c.type === 'grid' ? { ...c, type: 'cue' } : c)))
  t.deepEqual(b.grid, a.grid)
  t.is(b.key, 'Ab minor')
})

test('a track without a file (a streaming track) is read without a location and left out of a write, with its playlist places, and said so', async (t) => {
  const xml = REKORDBOX_XML.replace('Location="file://localhost/D:/DJ/third.wav"', 'Location="https://stream.example/tracks/3"')
  const lib = await readRekordbox(xml)
  const third = lib.tracks.find((x) => x.id === '3')!
  t.is(third.location, undefined)
  t.true(lib.warnings.some((w) => /TrackID 3: Location "https:\/\/stream\.example\/tracks\/3" is not a file URL/.test(w.message)))
  const skipped: string[] = []
  const back = await readRekordbox(text(rekordboxXml(lib, { onSkip: (what, why) => skipped.push(`${what}: ${why}`) })))
  t.deepEqual(back.tracks.map((x) => x.id), ['21899570', '2', '4'])
  t.deepEqual(skipped, ['track 3: rekordbox needs a Location and this track has none', 'playlist /Gigs/2026/Friday & Saturday: track 3: the track is not written (no Location)'])
})

test('a UTF-16 export with a byte order mark reads like the UTF-8 one', async (t) => {
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(REKORDBOX_XML.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')])
  async function* oddPieces() {
    for (let i = 0; i < utf16.length; i += 7) yield utf16.subarray(i, i + 7) // splits code units
  }
  t.deepEqual(kept(await readRekordbox(oddPieces())), kept(await readRekordbox(REKORDBOX_XML)))
  t.is(detectFormat(utf16), 'rekordbox', 'readDjFile tells it apart too')
  t.is(detectFormat(Buffer.from(TRAKTOR_NML)), 'traktor')
  t.is(detectFormat('<?xml version="1.0"?><!-- a comment --><html/>'), null)
})
