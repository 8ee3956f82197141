import test from 'ava'
import { readFile } from 'node:fs/promises'
import { readTags } from '../../src/library/tags.ts'
import { FIXTURE_EXTENSIONS, fixtureDir, makeAudio, type FixtureFormat } from '../helpers/audio-fixtures.ts'

// The scanner parses small files from the bytes it already read; that must
// give exactly what parsing the file does.
for (const format of Object.keys(FIXTURE_EXTENSIONS) as FixtureFormat[]) {
  test(`${format}: tags parsed from memory equal tags parsed from the file`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: { title: 'Mem', artist: 'Ory', album: 'Buf', genre: 'House', bpm: 125, key: 'Am' } })
    const fromFile = await readTags(path)
    t.is(fromFile.title, 'Mem')
    t.deepEqual(await readTags(path, await readFile(path)), fromFile)
  })
}
