// A file whose tags DJ software rewrote in place (same audio, new bytes) is
// a new version of the same track: the scan says so, the new track names the
// version it replaces and the old one the version that replaced it, and the
// old one is not counted as a track gone missing.
import test from 'ava'
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { openLibrary } from '../../src/library/index.ts'
import { writeSeratoTags } from '../../src/serato/index.ts'
import { tempDir } from '../helpers/temp.ts'

const run = promisify(execFile)

test('Serato tags written into a scanned MP3: the rescan records a new version of the same recording', async (t) => {
  const home = await tempDir(t)
  const music = join(home, 'music')
  await mkdir(music)
  const file = join(music, 'a.mp3')
  await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=2', '-c:a', 'libmp3lame', '-metadata', 'title=Alpha', '-threads', '1', file])
  const lib = await openLibrary(home, { circleSecret: new Uint8Array(32).fill(7) })
  t.teardown(() => lib.close())
  await lib.scan([music])
  const [v1] = await lib.list({})

  await writeSeratoTags(file, { cues: [{ type: 'cue', slot: 0, positionMs: 500 }], grid: [] })
  const s = await lib.scan([music])
  t.like(s, { changed: 1, newVersions: 1, missing: 0 })

  const all = await lib.list({})
  const v2 = all.find((x) => x.sha256 !== v1!.sha256)!
  const old = all.find((x) => x.sha256 === v1!.sha256)!
  t.is(v2.audioHash, v1!.audioHash)
  t.is(v2.replaces, v1!.sha256)
  t.deepEqual(v2.paths, [file])
  t.like(old, { missing: true, replacedBy: v2.sha256 })

  // A file changed into other audio is no new version: its old bytes are simply missing.
  await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libmp3lame', '-threads', '1', file])
  const s3 = await lib.scan([music])
  t.like(s3, { changed: 1, newVersions: 0, missing: 1 })
})
