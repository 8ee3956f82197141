// The embedded default library: a few synthesised, tagged WAV tracks at
// known tempos and keys, written on demand (nothing is bundled).
import { mkdir, writeFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { buildId3 } from './id3.ts'
import { encodeWav } from './wav.ts'
import { synthLoop } from './synth.ts'

export interface DemoTrack {
  file: string
  title: string
  artist: string
  album: string
  genre: string
  bpm: number
  key: string
}

export const DEMO_TRACKS: readonly DemoTrack[] = [
  { file: 'Ólafur Beats - Reykjavík Sunrise.wav', title: 'Reykjavík Sunrise', artist: 'Ólafur Beats', album: 'Demo Circle', genre: 'House', bpm: 124, key: 'A minor' },
  { file: 'DJ Ñandú - Pampa Groove.wav', title: 'Pampa Groove', artist: 'DJ Ñandú', album: 'Demo Circle', genre: 'Deep House', bpm: 120, key: 'F major' },
  { file: 'Chloé Vasquez - Nuit Blanche.wav', title: 'Nuit Blanche', artist: 'Chloé Vasquez', album: 'Demo Circle', genre: 'Techno', bpm: 132, key: 'E minor' },
  { file: 'Søren Lyd - Fjord Bass.wav', title: 'Fjord Bass', artist: 'Søren Lyd', album: 'Demo Circle', genre: 'Drum & Bass', bpm: 174, key: 'G minor' },
  { file: 'MC Zoë - Slow Wind.wav', title: 'Slow Wind', artist: 'MC Zoë', album: 'Demo Circle', genre: 'Hip-Hop', bpm: 90, key: 'C major' },
  { file: 'Kraftwerk Kids - Autobahn Kinder.wav', title: 'Autobahn Kinder', artist: 'Kraftwerk Kids', album: 'Demo Circle', genre: 'Electro', bpm: 128, key: 'D minor' },
  { file: 'Ana Conceição - Lisboa 5am.wav', title: 'Lisboa 5am', artist: 'Ana Conceição', album: 'Demo Circle', genre: 'Minimal', bpm: 126, key: 'B minor' },
  { file: 'Jürgen Dub - Rheinwasser.wav', title: 'Rheinwasser', artist: 'Jürgen Dub', album: 'Demo Circle', genre: 'Dub Techno', bpm: 118, key: 'Eb major' },
]

/** Writes the demo tracks into `dir` (skipping ones already there) and returns their paths. */
export async function writeDemoLibrary(dir: string, seconds = 12): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const paths: string[] = []
  for (const [i, t] of DEMO_TRACKS.entries()) {
    const path = join(dir, t.file)
    paths.push(path)
    if (await access(path).then(() => true, () => false)) continue
    const pcm = synthLoop({ bpm: t.bpm, key: t.key, seconds, seed: i + 1 })
    const id3 = buildId3({ title: t.title, artist: t.artist, album: t.album, genre: t.genre, bpm: t.bpm, key: t.key, track: i + 1, year: 2026 })
    await writeFile(path, encodeWav(pcm, 22050, 1, id3))
  }
  return paths
}
