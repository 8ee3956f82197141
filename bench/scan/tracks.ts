// Builds one track's bytes at (about) a target size. Every track gets a
// distinct tag and distinct audio bytes, so both its SHA-256 and its audio
// hash are unique, as in a real library.
import { buildId3, encodeWav } from '../../src/demo/index.ts'
import type { Id3Fields } from '../../src/demo/index.ts'
import { stampPrivateBit } from './mpeg-frames.ts'
import type { Random } from './prng.ts'
import { SAMPLE_RATE, type SeedAudio } from './seed-audio.ts'

/**
 * ID3v2 tag + whole seed frames, starting at a per-track frame and wrapping
 * around, up to `size` bytes (short by less than one frame). The track
 * number goes into the private bits of the first 32 frames.
 */
export function buildMp3Track(seed: SeedAudio, size: number, id: number, tags: Id3Fields): Buffer {
  const tag = buildId3(tags)
  const n = seed.frames.length
  const start = id % n
  let total = tag.length
  let count = 0
  while (total + seed.frames[(start + count) % n]!.length <= size) total += seed.frames[(start + count++) % n]!.length
  const out = Buffer.allocUnsafe(total)
  let at = tag.copy(out, 0)
  for (let k = 0; k < count; k++) {
    const frame = seed.frames[(start + k) % n]!
    frame.copy(out, at)
    if (k < 32) stampPrivateBit(out, at, (id >>> k) & 1)
    at += frame.length
  }
  return out
}

/**
 * A 44.1 kHz stereo WAV with an "id3 " chunk: the seed PCM from a per-track
 * offset, with +-1 LSB of seeded dither on every sample (inaudible, and it
 * makes the audio bytes unique).
 */
export function buildWavTrack(seed: SeedAudio, size: number, id: number, tags: Id3Fields, random: Random): Buffer {
  const tag = buildId3(tags)
  // RIFF header 12 + fmt chunk 24 + data header 8 + id3 chunk (8 + tag, padded to even).
  const overhead = 12 + 24 + 8 + 8 + tag.length + (tag.length & 1)
  const frames = Math.max(1, Math.floor((size - overhead) / 4))
  const samples = new Int16Array(frames * 2)
  const src = seed.pcm
  let from = ((id * 4410) % (src.length / 2)) * 2 // whole stereo frames
  for (let i = 0; i < samples.length; i++) {
    const v = src[from]! + (random() < 0.5 ? -1 : 1)
    samples[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v
    if (++from === src.length) from = 0
  }
  return encodeWav(samples, SAMPLE_RATE, 2, tag)
}
