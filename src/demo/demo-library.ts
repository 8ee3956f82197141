// Writes the demo library: each track synthesised once, tagged, and placed in
// the music folder of every device that holds it (hard links, so a track on
// three devices takes its disk space once; the same bytes, so the same
// SHA-256 everywhere). Files already there are kept: a second run reuses them.
import { access, copyFile, link, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildId3 } from './id3.ts'
import { encodeWav } from './wav.ts'
import { synthTrack } from './track-synth.ts'
import { DEMO_TRACKS, type DemoDevice, type DemoTrack } from './catalog.ts'

const SAMPLE_RATE = 22050 // Hz, mono: ~2.6 MB a minute, decodes and analyses fast

const exists = (path: string) => access(path).then(() => true, () => false)

/** The WAV bytes of one demo track (the same every time). */
export function renderDemoTrack(t: DemoTrack, index: number): Buffer {
  const pcm = synthTrack({ bpm: t.bpm, key: t.key, seconds: t.seconds, sampleRate: SAMPLE_RATE, seed: index + 1 })
  const id3 = buildId3({ title: t.title, artist: t.artist, album: t.album, genre: t.genre, bpm: t.bpm, key: t.key, track: index + 1, year: 2026 })
  return encodeWav(pcm, SAMPLE_RATE, 1, id3)
}

/** Writes every track into its holders' folders; returns how many files were written (not reused). */
export async function writeDemoMusic(folders: Record<DemoDevice, string>, tracks: readonly DemoTrack[] = DEMO_TRACKS): Promise<number> {
  for (const dir of Object.values(folders)) await mkdir(dir, { recursive: true })
  let written = 0
  for (const [i, t] of tracks.entries()) {
    const paths = t.holders.map((d) => join(folders[d], t.file))
    const present = await Promise.all(paths.map(exists))
    let source = paths.find((_, k) => present[k])
    for (const [k, path] of paths.entries()) {
      if (present[k]) continue
      if (!source) {
        await writeFile(path, renderDemoTrack(t, i))
        source = path
      } else {
        await link(source, path).catch(() => copyFile(source!, path))
      }
      written++
    }
  }
  return written
}
