// Small real audio files for scanner tests: tagged WAVs synthesised in JS
// (fast, no external tools), distinct bytes per seed.
import { writeFile } from 'node:fs/promises'
import { buildId3, encodeWav, synthLoop, type Id3Fields } from '../../src/demo/index.ts'

export async function writeTrack(path: string, tags: Id3Fields, seed = 1, seconds = 1): Promise<string> {
  const pcm = synthLoop({ bpm: tags.bpm ?? 120, key: 'A minor', seconds, seed, sampleRate: 8000 })
  await writeFile(path, encodeWav(pcm, 8000, 1, buildId3(tags)))
  return path
}
