// readTags: the tags and stream facts the library index keeps, read from
// real files written by ffmpeg.
import test from 'ava'
import { readTags } from '../../src/library/tags.ts'
import {
  apicFrame,
  fixtureDir,
  id3v23FramesFor,
  id3v23Tag,
  makeAudio,
  makeMp3WithHugeFrame,
  replaceId3,
  retag,
  txxxFrame,
  type FixtureFormat,
  type FixtureTags,
} from '../helpers/audio-fixtures.ts'

const TAGS: FixtureTags = {
  title: 'Reykjavík Sunrise',
  artist: 'Ólafur Beats',
  album: 'Demo Circle',
  albumArtist: 'Various Artists',
  genre: 'Deep House',
  year: 2021,
  track: 7,
  bpm: 124,
  key: 'Am',
  comment: 'Peak time; cue 2 at the drop',
}

// Stream facts per fixture: [codec, sample rate]. Clips are 3 s, stereo.
const STREAM: Record<FixtureFormat, [RegExp, number]> = {
  mp3: [/^MPEG 1 Layer 3$/, 44100],
  flac: [/^FLAC$/, 44100],
  wav: [/^PCM$/, 44100],
  aiff: [/^PCM$/, 44100],
  m4a: [/AAC/, 44100],
  alac: [/^ALAC$/, 44100],
  ogg: [/^Vorbis/, 44100],
  opus: [/^Opus$/, 48000],
}

// What each container can carry with the fixture writer (see FixtureTags).
const HAS_KEY: FixtureFormat[] = ['mp3', 'flac', 'aiff', 'ogg', 'opus']
const HAS_BPM: FixtureFormat[] = ['mp3', 'flac', 'aiff', 'm4a', 'alac', 'ogg', 'opus']
const HAS_ALBUM_ARTIST: FixtureFormat[] = ['mp3', 'flac', 'aiff', 'm4a', 'alac', 'ogg', 'opus']
// RIFF INFO has no defined text encoding: music-metadata reads it as Latin-1,
// so the WAV fixture carries ASCII text only.
const ASCII_ONLY: FixtureFormat[] = ['wav']

for (const format of Object.keys(STREAM) as FixtureFormat[]) {
  test(`${format}: tags and stream facts`, async (t) => {
    const dir = await fixtureDir(t)
    const ascii = ASCII_ONLY.includes(format)
    const tags = ascii ? { ...TAGS, title: 'Reykjavik Sunrise', artist: 'Olafur Beats' } : TAGS
    const path = await makeAudio(dir, format, { tags, seconds: 3, channels: 2 })
    const got = await readTags(path)
    t.is(got.title, tags.title)
    t.is(got.artist, tags.artist)
    t.is(got.album, 'Demo Circle')
    if (HAS_ALBUM_ARTIST.includes(format)) t.is(got.albumArtist, 'Various Artists')
    t.is(got.genre, 'Deep House')
    t.is(got.year, 2021)
    t.is(got.trackNo, 7)
    t.is(got.comment, 'Peak time; cue 2 at the drop')
    if (HAS_BPM.includes(format)) t.is(got.bpm, 124)
    else t.is(got.bpm, undefined)
    if (HAS_KEY.includes(format)) t.is(got.key, 'Am')
    else t.is(got.key, undefined)
    t.false(got.hasCover)

    const [codec, rate] = STREAM[format]
    t.regex(got.codec ?? '', codec)
    t.is(got.sampleRate, rate)
    t.is(got.channels, 2)
    t.truthy(got.duration)
    t.true(Math.abs(got.duration! - 3) < 0.1, `duration ${got.duration}`)
    t.is(typeof got.bitrate, 'number')
    t.true(Number.isInteger(got.bitrate), 'bitrate is rounded')
    t.true(got.bitrate! > 8000, `bitrate ${got.bitrate}`)
  })
}

test('mp3: BPM and key come from TBPM/TKEY; bitrate and mono are reported', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'mp3', { tags: { title: 'x', bpm: 174, key: 'F#m' }, channels: 1, bitrate: '192k' })
  const got = await readTags(path)
  t.is(got.bpm, 174)
  t.is(got.key, 'F#m')
  t.is(got.channels, 1)
  t.is(got.bitrate, 192000)
})

test('flac: BPM and key come from the BPM/INITIALKEY Vorbis comments', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'flac', { tags: { title: 'x', bpm: 87, key: '4A' }, channels: 1 })
  const got = await readTags(path)
  t.is(got.bpm, 87)
  t.is(got.key, '4A')
  t.is(got.channels, 1)
})

test('mp3: cover presence is true with an attached picture and false without', async (t) => {
  const dir = await fixtureDir(t)
  const withCover = await makeAudio(dir, 'mp3', { name: 'with.mp3', tags: TAGS, cover: true })
  const without = await makeAudio(dir, 'mp3', { name: 'without.mp3', tags: TAGS })
  t.true((await readTags(withCover)).hasCover)
  t.false((await readTags(without)).hasCover)
  // Tags next to the cover are still read.
  t.is((await readTags(withCover)).title, TAGS.title)
})

test('flac: cover presence follows the PICTURE block', async (t) => {
  const dir = await fixtureDir(t)
  const withCover = await makeAudio(dir, 'flac', { name: 'with.flac', tags: TAGS, cover: true })
  const without = await makeAudio(dir, 'flac', { name: 'without.flac', tags: TAGS })
  t.true((await readTags(withCover)).hasCover)
  t.false((await readTags(without)).hasCover)
  t.is((await readTags(withCover)).key, 'Am')
})

test('retagged files read back their new tags', async (t) => {
  const dir = await fixtureDir(t)
  for (const format of ['mp3', 'flac', 'm4a', 'ogg'] as const) {
    const path = await makeAudio(dir, format, { tags: TAGS })
    await retag(path, { title: 'New Title', artist: 'New Artist', bpm: 128 })
    const got = await readTags(path)
    t.is(got.title, 'New Title', format)
    t.is(got.artist, 'New Artist', format)
    t.is(got.bpm, 128, format)
    t.is(got.album, undefined, `${format}: old tags are gone`)
  }
})

test('mp3: a hand-written ID3v2.3 tag (UTF-16 text, COMM, APIC) is read', async (t) => {
  const dir = await fixtureDir(t)
  const plain = await makeAudio(dir, 'mp3', { name: 'plain.mp3' })
  const tagged = await replaceId3(
    plain,
    id3v23Tag([...id3v23FramesFor({ ...TAGS, title: 'Nuit Blanche — Ñandú 東京' }), apicFrame(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))], 512),
    `${dir}/tagged.mp3`,
  )
  const got = await readTags(tagged)
  t.is(got.title, 'Nuit Blanche — Ñandú 東京')
  t.is(got.artist, TAGS.artist)
  t.is(got.albumArtist, TAGS.albumArtist)
  t.is(got.year, 2021)
  t.is(got.trackNo, 7)
  t.is(got.bpm, 124)
  t.is(got.key, 'Am')
  t.is(got.comment, TAGS.comment)
  t.true(got.hasCover)
  t.false((await readTags(plain)).hasCover)
})

test('absent tags are undefined, not empty strings or zeros', async (t) => {
  const dir = await fixtureDir(t)
  for (const format of ['mp3', 'flac', 'wav'] as const) {
    const path = await makeAudio(dir, format, {})
    const got = await readTags(path)
    for (const k of ['title', 'artist', 'album', 'albumArtist', 'genre', 'year', 'trackNo', 'bpm', 'key', 'comment'] as const) {
      t.is(got[k], undefined, `${format} ${k}`)
    }
    t.false(got.hasCover)
    t.is(got.sampleRate, 44100, format)
  }
})

test('text tags are trimmed and capped at 1024 characters', async (t) => {
  const dir = await fixtureDir(t)
  const plain = await makeAudio(dir, 'mp3', { name: 'plain.mp3' })
  const tagged = await replaceId3(
    plain,
    id3v23Tag([...id3v23FramesFor({ title: '  Padded Title \0\0', artist: 'a'.repeat(5000) }), txxxFrame('comment', 'c'.repeat(3000))]),
    `${dir}/long.mp3`,
  )
  const got = await readTags(tagged)
  t.is(got.title, 'Padded Title')
  t.is(got.artist, 'a'.repeat(1024))
  t.is(got.comment, 'c'.repeat(1024), 'TXXX:comment is the fallback comment, capped too')
})

test('a 20 MB TXXX comment frame is read and capped', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeMp3WithHugeFrame(dir, { kind: 'TXXX', bytes: 20 * 1024 * 1024, tags: { title: 'Huge', artist: 'Tagger' } })
  const got = await readTags(path)
  t.is(got.title, 'Huge')
  t.is(got.comment, 'x'.repeat(1024))
  t.false(got.hasCover)
})
