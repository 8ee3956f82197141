import { randomBytes } from 'node:crypto'
import type { ManifestTrack } from '../../src/manifest/index.ts'

/** Library manifest entries with random hashes and plausible tags. */
export function fakeTracks(n: number, seed = 0): ManifestTrack[] {
  return Array.from({ length: n }, (_, i) => ({
    sha256: randomBytes(32).toString('hex'),
    audioHash: randomBytes(32).toString('hex'),
    size: 1_000_000 + i + seed,
    format: 'mp3' as const,
    tags: { title: `Track ${i}`, artist: `Artist ${i % 50}`, album: 'Album', duration: 200.5 + i, bpm: 120 + (i % 40) / 10, key: '8A', year: 2020 },
  }))
}
