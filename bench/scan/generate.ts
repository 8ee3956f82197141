// Writes a generated library: artist folders of tagged mp3 and WAV tracks
// with sizes drawn uniformly from [minBytes, maxBytes], all from one seed.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mulberry32, pick, uniformInt } from './prng.ts'
import type { SeedAudio } from './seed-audio.ts'
import { buildMp3Track, buildWavTrack } from './tracks.ts'

export interface LibrarySpec {
  tracks: number
  minBytes: number
  maxBytes: number
  /** Share of WAV tracks; the rest are mp3. */
  wavShare: number
  perFolder: number
  seed: number
}

export interface GeneratedLibrary {
  dir: string
  tracks: number
  mp3: number
  wav: number
  bytes: number
}

const GENRES = ['House', 'Deep House', 'Techno', 'Minimal', 'Drum & Bass', 'Dub Techno', 'Electro', 'Disco', 'Breaks', 'Ambient']
const KEYS = ['A minor', 'C major', 'E minor', 'G major', 'D minor', 'F major', 'B minor', 'Eb major', 'F# minor', 'Ab major']
const WORDS = ['Night', 'Drive', 'Sunrise', 'Echo', 'Pulse', 'Fjord', 'Nuit', 'Blanche', 'Groove', 'Wasser', 'Ñandú', 'Zoë', 'Lisboa', 'Kinder', 'Bass', 'Wind']

/** Writes at most this many files at once: building is synchronous, this only overlaps the writes. */
const WRITES_IN_FLIGHT = 8

export async function generateLibrary(dir: string, spec: LibrarySpec, seed: SeedAudio): Promise<GeneratedLibrary> {
  const random = mulberry32(spec.seed)
  const lib: GeneratedLibrary = { dir, tracks: 0, mp3: 0, wav: 0, bytes: 0 }
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; i < spec.tracks; i++) {
    const folder = Math.floor(i / spec.perFolder)
    const artist = `Artist ${String(folder).padStart(3, '0')}`
    const title = `${pick(random, WORDS)} ${pick(random, WORDS)} ${i}`
    const size = uniformInt(random, spec.minBytes, spec.maxBytes)
    const wav = random() < spec.wavShare
    const tags = {
      title,
      artist,
      album: `${artist} Sessions`,
      genre: pick(random, GENRES),
      bpm: uniformInt(random, 90, 175),
      key: pick(random, KEYS),
      track: (i % spec.perFolder) + 1,
      year: uniformInt(random, 1990, 2026),
    }
    const bytes = wav ? buildWavTrack(seed, size, i, tags, mulberry32(spec.seed ^ (i + 1))) : buildMp3Track(seed, size, i, tags)
    const folderPath = join(dir, artist)
    if (i % spec.perFolder === 0) await mkdir(folderPath, { recursive: true })
    const write = writeFile(join(folderPath, `${artist} - ${title}.${wav ? 'wav' : 'mp3'}`), bytes).then(() => {
      inFlight.delete(write)
    })
    inFlight.add(write)
    if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight)
    lib.tracks++
    lib.bytes += bytes.length
    if (wav) lib.wav++
    else lib.mp3++
  }
  await Promise.all(inFlight)
  return lib
}
