// The subsonic benchmark's homes and music: a laptop (the Subsonic server)
// whose union takes in two offline own devices' signed library manifests of
// synthetic tracks (as it would have from the DHT), and real 320 kbps MP3s
// held only by the home PC, for the streams.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeHomes } from '../../src/demo/index.ts'
import { takeInOfflineLibraries } from '../manifest/offline-libraries.ts'
import { makeSeedAudio } from '../scan/seed-audio.ts'
import { buildMp3Track } from '../scan/tracks.ts'

export interface BenchHomes {
  homePc: string
  laptop: string
}

export interface PlayedTrack {
  title: string
  path: string
  bytes: number
}

/** 320 kbps CBR: 40,000 bytes a second of audio. */
export const MP3_BYTES_PER_SECOND = 40_000

/**
 * Homes of one circle (home-pc the admin); the laptop's manifest book holds
 * `tracks` synthetic tracks from each of two offline devices.
 */
export async function makeBenchHomes(work: string, tracks: number): Promise<BenchHomes> {
  const [homePc, laptop, studio, oldLaptop] = await makeHomes(work, ['home-pc', 'laptop', 'studio', 'old-laptop'])
  await takeInOfflineLibraries(laptop!, [studio!, oldLaptop!], tracks)
  return { homePc: homePc!, laptop: laptop! }
}

/**
 * `count` distinct MP3s of `seconds` each (320 kbps CBR, 44.1 kHz stereo,
 * cut from one synthesised 20 s seed: distinct tags and distinct audio bytes),
 * with titles that find each alone.
 */
export async function writePlayedMp3s(dir: string, seedDir: string, count: number, seconds: number): Promise<PlayedTrack[]> {
  await mkdir(dir, { recursive: true })
  await mkdir(seedDir, { recursive: true })
  const seed = await makeSeedAudio(seedDir) // not in `dir`: the seed files are not tracks
  const out: PlayedTrack[] = []
  for (let i = 0; i < count; i++) {
    const title = `Subplay ${String(i + 1).padStart(3, '0')} Qzv`
    const bytes = buildMp3Track(seed, seconds * MP3_BYTES_PER_SECOND, 1000 + i, { title, artist: 'Subbench Artist', album: 'Subbench Album', genre: 'Techno', bpm: 126, track: i + 1 })
    const path = join(dir, `played-${i + 1}.mp3`)
    await writeFile(path, bytes)
    out.push({ title, path, bytes: bytes.length })
  }
  return out
}
