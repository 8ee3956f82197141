import test from 'ava'
import { copyFile, mkdir, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLibrary, type Library } from '../../src/library/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

async function setup(t: Parameters<typeof tempDir>[0]) {
  const home = await tempDir(t)
  const music = join(home, 'music')
  await mkdir(music)
  const lib = await openLibrary(home, { circleSecret: new Uint8Array(32).fill(7) })
  t.teardown(() => lib.close())
  return { home, music, lib }
}

const shaOf = async (lib: Library, title: string) => (await lib.list({ query: title }))[0]?.sha256

test('first scan indexes tags and hashes; a rescan with nothing changed reads nothing', async (t) => {
  const { music, lib } = await setup(t)
  await writeTrack(join(music, 'a.wav'), { title: 'Alpha', artist: 'One', bpm: 128, key: 'Am' }, 1)
  await mkdir(join(music, 'sub'))
  await writeTrack(join(music, 'sub', 'b.wav'), { title: 'Beta', artist: 'Two' }, 2)
  const first = await lib.scan([music])
  t.like(first, { files: 2, added: 2, unchanged: 0, skipped: 0 })
  t.true(first.bytesRead > 0)
  const [a] = await lib.list({ query: 'alpha' })
  t.like(a!.tags, { title: 'Alpha', artist: 'One', bpm: 128, key: 'Am' })
  t.regex(a!.sha256, /^[0-9a-f]{64}$/)
  t.regex(a!.infohash!, /^[0-9a-f]{40}$/)
  t.deepEqual(a!.paths, [join(music, 'a.wav')])

  const again = await lib.scan([music])
  t.like(again, { files: 2, added: 0, changed: 0, unchanged: 2, bytesRead: 0 })
})

test('a changed file is re-read; the old bytes become a missing track', async (t) => {
  const { music, lib } = await setup(t)
  const path = await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await lib.scan([music])
  const oldSha = await shaOf(lib, 'alpha')
  await writeTrack(path, { title: 'Alpha v2' }, 9)
  const future = new Date(Date.now() + 5000)
  await utimes(path, future, future)
  const s = await lib.scan([music])
  t.like(s, { changed: 1, unchanged: 0, missing: 1 })
  const newSha = await shaOf(lib, 'v2')
  t.not(newSha, oldSha)
  const old = await lib.track(oldSha!)
  t.true(old!.missing)
  t.deepEqual(old!.lastPaths, [path])
})

test('a moved file is recognised without reading it again', async (t) => {
  const { music, lib } = await setup(t)
  await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await lib.scan([music])
  const sha = await shaOf(lib, 'alpha')
  await mkdir(join(music, 'crates'))
  await rename(join(music, 'a.wav'), join(music, 'crates', 'renamed.wav'))
  const s = await lib.scan([music])
  t.like(s, { added: 0, newPaths: 1, removedPaths: 1, missing: 0, bytesRead: 0 })
  const track = await lib.track(sha!)
  t.deepEqual(track!.paths, [join(music, 'crates', 'renamed.wav')])
  t.false(track!.missing)
})

test('the same bytes at two paths are one track with two paths', async (t) => {
  const { music, lib } = await setup(t)
  await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await copyFile(join(music, 'a.wav'), join(music, 'copy of a.wav'))
  const s = await lib.scan([music])
  t.is(s.files, 2)
  const tracks = await lib.list()
  t.is(tracks.length, 1)
  t.deepEqual([...tracks[0]!.paths].sort(), [join(music, 'a.wav'), join(music, 'copy of a.wav')])
  // removing one copy keeps the track present
  await unlink(join(music, 'a.wav'))
  await lib.scan([music])
  const after = await lib.track(tracks[0]!.sha256)
  t.false(after!.missing)
  t.deepEqual(after!.paths, [join(music, 'copy of a.wav')])
})

test('a deleted file is marked missing, not forgotten, and comes back when restored', async (t) => {
  const { home, music, lib } = await setup(t)
  const path = await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await lib.scan([music])
  const sha = (await shaOf(lib, 'alpha'))!
  const backup = join(home, 'backup.wav')
  await copyFile(path, backup)
  await unlink(path)
  t.like(await lib.scan([music]), { removedPaths: 1, missing: 1 })
  t.like(await lib.track(sha), { missing: true, paths: [], lastPaths: [path] })
  t.is((await lib.list({ includeMissing: false })).length, 0)
  t.is((await lib.list()).length, 1)
  await copyFile(backup, path)
  await lib.scan([music])
  t.like(await lib.track(sha), { missing: false, paths: [path] })
})

test('scanning one folder leaves tracks under other folders alone; an unplugged root fails cleanly', async (t) => {
  const { home, music, lib } = await setup(t)
  const other = join(home, 'other')
  await mkdir(other)
  await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await writeTrack(join(other, 'b.wav'), { title: 'Beta' }, 2)
  await lib.scan([music, other])
  await lib.scan([music])
  t.false((await lib.list({ query: 'beta' }))[0]!.missing)
  await rm(other, { recursive: true })
  await t.throwsAsync(lib.scan([other]), { message: /not a folder/ })
  t.false((await lib.list({ query: 'beta' }))[0]!.missing)
  t.deepEqual((await lib.stats()).roots.sort(), [music, other].sort())
})

test('bad files are skipped with a one-line reason and the scan goes on', async (t) => {
  const { music, lib } = await setup(t)
  await writeTrack(join(music, 'good.wav'), { title: 'Good' }, 1)
  await writeFile(join(music, 'empty.mp3'), '')
  await writeFile(join(music, 'notes.flac'), 'these are my notes, not audio')
  await symlink(join(music, 'nowhere.wav'), join(music, 'dangling.wav'))
  await writeFile(join(music, 'cover.jpg'), 'not scanned: not an audio extension')
  const s = await lib.scan([music])
  t.is(s.added, 1)
  t.is(s.skipped, 3)
  const reasons = Object.fromEntries(s.issues.map((i) => [i.path.split('/').pop(), i]))
  t.like(reasons['empty.mp3'], { code: 'ERR_EMPTY' })
  t.like(reasons['notes.flac'], { code: 'ERR_NOT_AUDIO' })
  t.like(reasons['dangling.wav'], { reason: 'broken symlink' })
  for (const i of s.issues) t.false(i.reason.includes('\n'))
  // unchanged bad files are reported again without being re-read
  const again = await lib.scan([music])
  t.like(again, { skipped: 3, unchanged: 1, bytesRead: 0 })
})

test('a file that turns corrupt keeps its indexed track: nothing is lost', async (t) => {
  const { music, lib } = await setup(t)
  const path = await writeTrack(join(music, 'a.wav'), { title: 'Alpha' }, 1)
  await lib.scan([music])
  const sha = (await shaOf(lib, 'alpha'))!
  await writeFile(path, 'garbage now')
  const s = await lib.scan([music])
  t.is(s.skipped, 1)
  t.like(await lib.track(sha), { missing: false, paths: [path] })
})

test('symlink loops end, and files reached twice through links are counted once', async (t) => {
  const { music, lib } = await setup(t)
  await mkdir(join(music, 'house'))
  await writeTrack(join(music, 'house', 'a.wav'), { title: 'Alpha' }, 1)
  await symlink(music, join(music, 'house', 'loop')) // music/house/loop -> music
  await symlink(join(music, 'house'), join(music, 'house-again'))
  const s = await lib.scan([music])
  t.is(s.files, 1)
  t.is((await lib.list()).length, 1)
})

test('NFC and NFD file names are both indexed and both found without accents', async (t) => {
  const { music, lib } = await setup(t)
  const nfc = 'Beyoncé - Halo.wav'.normalize('NFC')
  const nfd = 'Beyoncé - Déjà Vu.wav'.normalize('NFD')
  await writeTrack(join(music, nfc), {}, 1)
  await writeTrack(join(music, nfd), {}, 2)
  const s = await lib.scan([music])
  t.like(s, { added: 2, skipped: 0 })
  t.is((await lib.list({ query: 'beyonce' })).length, 2)
  t.is((await lib.list({ query: 'deja vu beyonce' })).length, 1)
})
