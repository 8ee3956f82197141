// Serato crates: the documented layout (a public hexdump of a one-track
// crate), nested crates as folders, track paths found on the volume the
// _Serato_ folder is on, and damaged crates as warnings.
import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildCrate, crateTrackPath, parseCrate, readCrates, SeratoError } from '../../src/serato/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('the documented header: vrsn in UTF-16BE, then the sort column', (t) => {
  // "Decoding Serato Crates" (a public write-up): 76 72 73 6E 00 00 00 38 00 31 00 2E 00 30 00 2F ... 6F 73 72 74 00 00 00 19 74 76 63 6E 00 00 00 08 ...
  const bytes = buildCrate(['Users/dj/Music/a.mp3'])
  t.is(bytes.subarray(0, 16).toString('hex'), '7672736e000000380031002e0030002f')
  t.is(bytes.subarray(0x40, 0x50).toString('hex'), '6f737274000000197476636e00000008')
  t.deepEqual(parseCrate(bytes, 'Techno%%Warm up.crate'), { path: ['Techno', 'Warm up'], tracks: ['Users/dj/Music/a.mp3'] })
})

test('crates of a _Serato_ folder: nested as folders, a parent crate\'s own tracks a playlist of its name, paths on the volume', async (t) => {
  const vol = await tempDir(t)
  const serato = join(vol, '_Serato_')
  await mkdir(join(serato, 'Subcrates'), { recursive: true })
  await mkdir(join(vol, 'Music'))
  await writeFile(join(vol, 'Music', 'a.mp3'), '')
  const onVolume = join(vol, 'Music', 'a.mp3').slice(vol.length + 1)
  await writeFile(join(serato, 'Subcrates', 'Techno.crate'), buildCrate([onVolume]))
  await writeFile(join(serato, 'Subcrates', 'Techno%%Warm up.crate'), buildCrate([onVolume, 'Music/b ✓.mp3']))
  await writeFile(join(serato, 'Subcrates', 'Broken.crate'), buildCrate(['x']).subarray(0, 70))
  await writeFile(join(serato, 'Subcrates', 'notes.txt'), 'not a crate')
  const { playlists, warnings } = await readCrates(serato)
  t.deepEqual(playlists, [
    { type: 'folder', name: 'Techno', children: [{ type: 'playlist', name: 'Warm up', entries: [{ location: join(vol, 'Music', 'a.mp3') }, { location: '/Music/b ✓.mp3' }] }] },
    { type: 'playlist', name: 'Techno', entries: [{ location: join(vol, 'Music', 'a.mp3') }] },
  ])
  t.is(warnings.length, 1)
  t.regex(warnings[0]!, /^crate Broken\.crate: .* at byte \d+$/)
  // No Subcrates folder: no playlists, no error.
  t.deepEqual(await readCrates(join(vol, 'Music')), { playlists: [], warnings: [] })
})

test('a track path is looked for beside the _Serato_ folder, then from the file system root', (t) => {
  const exists = (p: string) => p === '/Volumes/USB/Music/a.mp3'
  t.is(crateTrackPath('/Volumes/USB/_Serato_', 'Music/a.mp3', exists), '/Volumes/USB/Music/a.mp3')
  t.is(crateTrackPath('/Users/dj/Music/_Serato_', 'Users/dj/Music/b.mp3', () => false), '/Users/dj/Music/b.mp3')
})

test('not a crate, or a crate whose lengths run past its end: a SeratoError', (t) => {
  t.is(t.throws(() => parseCrate(Buffer.from('hello world'), 'x.crate'), { instanceOf: SeratoError })!.code, 'ERR_NOT_CRATE')
  const bad = buildCrate(['a.mp3'])
  bad.writeUInt32BE(0x7fffffff, bad.length - 10 - 8 - 4) // the otrk length
  t.is(t.throws(() => parseCrate(bad, 'x.crate'), { instanceOf: SeratoError })!.code, 'ERR_BAD_TAG')
})
