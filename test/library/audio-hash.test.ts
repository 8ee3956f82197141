// The audio hash: SHA-256 of the audio payload with tag blocks left out, so
// a file retagged by DJ software keeps its identity (playlists, cues,
// analyses) while its track id (SHA-256 of the bytes) changes.
import test from 'ava'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile, formatOfPath } from '../../src/library/index.ts'
import { readTags } from '../../src/library/tags.ts'
import {
  fixtureDir,
  id3v23FramesFor,
  id3v23Tag,
  leadingId3Length,
  makeAudio,
  retag,
  type FixtureFormat,
  type FixtureTags,
} from '../helpers/audio-fixtures.ts'

const ORIGINAL: FixtureTags = { title: 'Short', artist: 'DJ A', album: 'EP', genre: 'House', year: 2020, track: 1, bpm: 122, key: 'Am', comment: 'c' }
const LONGER: FixtureTags = {
  title: 'A Much Longer Title (Extended Club Mix) - retagged by DJ software',
  artist: 'Completely Different Artist feat. Somebody Else',
  album: 'Another Album Entirely',
  genre: 'Deep House',
  year: 2024,
  track: 7,
  bpm: 123,
  key: 'Cm',
  comment: 'Energy 7; cue points set; '.repeat(20),
}

const hashOf = (path: string) => hashFile(path, formatOfPath(path)!)

const FORMATS: FixtureFormat[] = ['mp3', 'flac', 'm4a', 'alac', 'wav', 'aiff', 'ogg', 'opus']

for (const format of FORMATS) {
  test(`${format}: retagging keeps the audio hash and changes the sha256`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: ORIGINAL, noiseSeed: 11 })
    const before = await hashOf(path)
    await retag(path, LONGER)
    const after = await hashOf(path)
    // The retag really happened: new tags are read back and the file's bytes moved.
    t.is((await readTags(path)).title, LONGER.title)
    t.not(after.size, before.size, 'longer tags shift the audio to a new offset')
    t.not(after.sha256, before.sha256)
    t.is(after.audioHash, before.audioHash)

    // Back to shorter tags: still the same recording.
    await retag(path, { title: 'x' })
    t.is((await hashOf(path)).audioHash, before.audioHash)
  })

  test(`${format}: different audio or a re-encode changes the audio hash`, async (t) => {
    const dir = await fixtureDir(t)
    const a = await makeAudio(dir, format, { name: `a-${format}${extOf(format)}`, tags: ORIGINAL, noiseSeed: 11 })
    const sameTagsOtherAudio = await makeAudio(dir, format, { name: `b-${format}${extOf(format)}`, tags: ORIGINAL, noiseSeed: 12 })
    const longer = await makeAudio(dir, format, { name: `c-${format}${extOf(format)}`, tags: ORIGINAL, noiseSeed: 11, seconds: 3 })
    const mono = await makeAudio(dir, format, { name: `d-${format}${extOf(format)}`, tags: ORIGINAL, noiseSeed: 11, channels: 1 })
    const [ha, hb, hc, hd] = await Promise.all([a, sameTagsOtherAudio, longer, mono].map(hashOf))
    const hashes = new Set([ha!.audioHash, hb!.audioHash, hc!.audioHash, hd!.audioHash])
    t.is(hashes.size, 4)
  })
}

function extOf(format: FixtureFormat): string {
  return { mp3: '.mp3', flac: '.flac', wav: '.wav', aiff: '.aiff', m4a: '.m4a', alac: '.m4a', ogg: '.ogg', opus: '.opus' }[format]
}

test('re-encoding the same source changes the audio hash; writing the same audio again does not', async (t) => {
  const dir = await fixtureDir(t)
  const mp3 = await makeAudio(dir, 'mp3', { noiseSeed: 5, tags: ORIGINAL })
  const mp3Again = await makeAudio(dir, 'mp3', { noiseSeed: 5, tags: LONGER, name: 'again.mp3' })
  const mp3At192 = await makeAudio(dir, 'mp3', { noiseSeed: 5, tags: ORIGINAL, bitrate: '192k', name: '192.mp3' })
  const wav = await makeAudio(dir, 'wav', { noiseSeed: 5, tags: ORIGINAL })
  const wavAgain = await makeAudio(dir, 'wav', { noiseSeed: 5, tags: LONGER, name: 'again.wav' })
  const [m1, m2, m3, w1, w2] = await Promise.all([mp3, mp3Again, mp3At192, wav, wavAgain].map(hashOf))
  t.is(m1!.audioHash, m2!.audioHash, 'the same encode with other tags is the same recording')
  t.not(m1!.sha256, m2!.sha256)
  t.not(m1!.audioHash, m3!.audioHash, 'another bitrate is another encode')
  t.not(m1!.audioHash, w1!.audioHash)
  t.is(w1!.audioHash, w2!.audioHash, 'the same PCM written twice is the same recording')
  t.not(w1!.sha256, w2!.sha256)
})

// ---------------------------------------------------------------------------
// What exactly is hashed. The audio hash is stored in libraries, so its
// definition is as frozen as the infohash: these pin it per format.

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** Top-level IFF chunks: id -> body. */
function chunks(bytes: Buffer, littleEndian: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('latin1', at, at + 4)
    const size = littleEndian ? bytes.readUInt32LE(at + 4) : bytes.readUInt32BE(at + 4)
    if (!out.has(id)) out.set(id, bytes.subarray(at + 8, at + 8 + size))
    at += 8 + size + (size & 1)
  }
  return out
}

test('mp3: the payload is everything after the ID3v2 tag (first frame to end)', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'mp3', { tags: ORIGINAL, cover: true })
  const bytes = await readFile(path)
  const id3 = leadingId3Length(bytes)
  t.true(id3 > 0)
  t.is(bytes[id3], 0xff, 'a frame sync follows the tag')
  t.is((await hashOf(path)).audioHash, sha(bytes.subarray(id3)))
})

test('mp3: ID3v1, APEv2 and Lyrics3v2 tags at the end are left out too', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'mp3', { tags: ORIGINAL })
  const bytes = await readFile(path)
  const want = (await hashOf(path)).audioHash

  const id3v1 = Buffer.alloc(128)
  id3v1.write('TAGSome Title', 0, 'latin1')
  const item = Buffer.concat([Buffer.alloc(8), Buffer.from('Title\0Retagged', 'latin1')])
  item.writeUInt32LE(8, 0) // value length
  const apeFooter = Buffer.alloc(32)
  apeFooter.write('APETAGEX', 0, 'latin1')
  apeFooter.writeUInt32LE(2000, 8)
  apeFooter.writeUInt32LE(item.length + 32, 12) // items + footer
  apeFooter.writeUInt32LE(1, 16)
  apeFooter.writeUInt32LE(0x80000000, 20) // has a header
  const apeHeader = Buffer.from(apeFooter)
  apeHeader.writeUInt32LE(0xa0000000, 20) // has a header, this is the header
  const lyricsBody = Buffer.from('LYRICSBEGININD0000210', 'latin1')
  const lyrics = Buffer.concat([lyricsBody, Buffer.from(`${String(lyricsBody.length).padStart(6, '0')}LYRICS200`, 'latin1')])

  const variants: Record<string, Buffer> = {
    id3v1: Buffer.concat([bytes, id3v1]),
    ape: Buffer.concat([bytes, apeHeader, item, apeFooter]),
    'ape+id3v1': Buffer.concat([bytes, apeHeader, item, apeFooter, id3v1]),
    'lyrics3+id3v1': Buffer.concat([bytes, lyrics, id3v1]),
    'new id3v2 with padding + ape + lyrics3 + id3v1': Buffer.concat([
      id3v23Tag(id3v23FramesFor(LONGER), 4096),
      bytes.subarray(leadingId3Length(bytes)),
      apeHeader,
      item,
      apeFooter,
      lyrics,
      id3v1,
    ]),
  }
  for (const [name, variant] of Object.entries(variants)) {
    const p = join(dir, `${name.replace(/\W+/g, '-')}.mp3`)
    await writeFile(p, variant)
    const h = await hashOf(p)
    t.is(h.audioHash, want, name)
    t.not(h.sha256, sha(bytes), name)
  }
})

test('flac: the payload is the frames after the last metadata block; an ID3v2 tag in front is ignored', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'flac', { tags: ORIGINAL, cover: true })
  const bytes = await readFile(path)
  t.is(bytes.toString('latin1', 0, 4), 'fLaC')
  let at = 4
  for (;;) {
    const last = (bytes[at]! & 0x80) !== 0
    at += 4 + bytes.readUIntBE(at + 1, 3)
    if (last) break
  }
  const want = sha(bytes.subarray(at))
  t.is((await hashOf(path)).audioHash, want)

  // Some taggers put an ID3v2 tag (and an ID3v1 tag) around a FLAC file.
  const wrapped = join(dir, 'wrapped.flac')
  const id3v1 = Buffer.alloc(128)
  id3v1.write('TAG', 0, 'latin1')
  await writeFile(wrapped, Buffer.concat([id3v23Tag(id3v23FramesFor(LONGER)), bytes, id3v1]))
  t.is((await hashOf(wrapped)).audioHash, want)
})

test('wav: the payload is the "fmt " body followed by the "data" body', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'wav', { tags: ORIGINAL })
  const bytes = await readFile(path)
  const c = chunks(bytes, true)
  t.true(c.has('LIST'), 'ffmpeg wrote an INFO tag chunk')
  t.is((await hashOf(path)).audioHash, sha(c.get('fmt ')!, c.get('data')!))
})

test('aiff: the payload is the COMM body followed by the SSND body', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'aiff', { tags: ORIGINAL })
  const bytes = await readFile(path)
  t.is(bytes.toString('latin1', 0, 4), 'FORM')
  const c = chunks(bytes, false)
  t.true(c.has('ID3 '), 'ffmpeg wrote an ID3 chunk')
  t.is((await hashOf(path)).audioHash, sha(c.get('COMM')!, c.get('SSND')!))
})

test('m4a: the payload is the body of the mdat atom, wherever the moov atom is', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'm4a', { tags: ORIGINAL })
  const mdatBody = async (p: string) => {
    const bytes = await readFile(p)
    for (let at = 0; at + 8 <= bytes.length; ) {
      const size = bytes.readUInt32BE(at)
      if (bytes.toString('latin1', at + 4, at + 8) === 'mdat') return { body: bytes.subarray(at + 8, at + size), at }
      at += size
    }
    throw new Error('no mdat')
  }
  const before = await mdatBody(path)
  t.is((await hashOf(path)).audioHash, sha(before.body))
  await retag(path, LONGER) // also moves moov in front of mdat
  const after = await mdatBody(path)
  t.true(after.at > before.at, 'mdat moved')
  t.is((await hashOf(path)).audioHash, sha(before.body))
})

test('ogg: the payload is the page bodies after the header packets (not page headers, not comments)', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'ogg', { tags: ORIGINAL, noiseSeed: 3 })
  const bytes = await readFile(path)
  // Vorbis: 3 header packets (identification, comment, setup).
  const h = createHash('sha256')
  let packetsLeft = 3
  for (let at = 0; at < bytes.length; ) {
    t.is(bytes.toString('latin1', at, at + 4), 'OggS')
    const segments = bytes[at + 26]!
    const lacing = bytes.subarray(at + 27, at + 27 + segments)
    const bodyLength = lacing.reduce((a, b) => a + b, 0)
    const body = bytes.subarray(at + 27 + segments, at + 27 + segments + bodyLength)
    if (packetsLeft > 0) for (const l of lacing) packetsLeft -= l < 255 ? 1 : 0
    else h.update(body)
    at += 27 + segments + bodyLength
  }
  t.is((await hashOf(path)).audioHash, h.digest('hex'))
})
