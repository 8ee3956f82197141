import test from 'ava'
import { writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { openLibrary } from '../../src/library/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

test('a file name that is not valid UTF-8 is reported, not crashed on', async (t) => {
  const home = await tempDir(t)
  const music = join(home, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'fine.wav'), { title: 'Fine' }, 1)
  await writeFile(Buffer.concat([Buffer.from(music + '/latin1-caf'), Buffer.from([0xe9]), Buffer.from('.wav')]), 'x')
  const lib = await openLibrary(home)
  t.teardown(() => lib.close())
  const s = await lib.scan([music])
  t.is(s.added, 1)
  t.is(s.skipped, 1)
  t.like(s.issues[0], { code: 'ERR_BAD_NAME' })
  t.regex(s.issues[0]!.reason, /not valid UTF-8/)
})
