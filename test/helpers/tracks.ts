// Small real audio files for scanner tests: tagged WAVs synthesised in JS
// (fast, no external tools), distinct bytes per seed.
import { writeFile } from 'node:fs/promises'
import { buildId3, encodeWav, synthLoop, type Id3Fields } from '../../src/demo/index.ts'

export async function writeTrack(path: string, tags: Id3Fields, seed = 1, seconds = 1): Promise<string> {
  const pcm = synthLoop({ bpm: tags.bpm ?? 120, key: 'A minor', seconds, seed, sampleRate: 8000 })
  await writeFile(path, encodeWav(pcm, 8000, 1, buildId3(tags)))
  return path
}

/** A large valid WAV of random 16-bit PCM (noise), written fast: for transfer tests. */
export async function writeNoiseWav(path: string, bytes: number, seed = 1): Promise<string> {
  const { createHash } = await import('node:crypto')
  const pcm = Buffer.alloc(bytes & ~1)
  let block = createHash('sha256').update(`noise-${seed}`).digest()
  for (let at = 0; at < pcm.length; at += block.length) {
    block.copy(pcm, at)
    block = createHash('sha256').update(block).digest()
  }
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2)
  await writeFile(path, encodeWav(samples, 44100, 2, buildId3({ title: `Noise ${seed}` })))
  return path
}
