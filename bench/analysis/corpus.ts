// The benchmark's corpus: tracks with a known tempo and key, rendered by
// ./render.ts and encoded by ffmpeg into the formats a DJ library holds.
// The plan is seeded (same spec, same tracks, same bytes for the same
// ffmpeg); a directory holding a corpus of the same spec is reused.
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mulberry32, pick, uniformInt, type Random } from '../scan/prng.ts'
import { ffmpeg, Piano } from './piano.ts'
import { GENRES, MAJOR_PROGRESSIONS, MINOR_PROGRESSIONS, renderTrack, type Rendered, type TrackPlan } from './render.ts'
import { keyName, type Key } from './score.ts'

/** Bumped whenever a change to the generator changes the audio: a cached corpus of another version is regenerated. */
export const CORPUS_VERSION = 1
const MANIFEST = 'corpus.json'

export type Format = 'mp3' | 'flac' | 'm4a' | 'ogg' | 'wav' | 'aiff'
export const FORMATS: Format[] = ['mp3', 'flac', 'm4a', 'ogg', 'wav', 'aiff']
const INSTRUMENTS = ['piano', 'synth', 'piano', 'piano+synth'] as const

export interface CorpusSpec {
  version: number
  tracks: number
  minSeconds: number
  maxSeconds: number
  seed: number
}

export interface CorpusTrack extends TrackPlan {
  file: string
  format: Format
  /** Bits per sample of the lossless formats; null for lossy ones. */
  bitDepth: 16 | 24 | null
  /** The encoder and its settings, as a reader would say them. */
  encoding: string
  truth: { bpm: number; key: string }
}

export interface Corpus {
  dir: string
  spec: CorpusSpec
  tracks: CorpusTrack[]
  /** Short files, one per format, that prime the decoders and analysers before timing. */
  warmups: string[]
  /** Whether this run made the files (false: a cached corpus was reused). */
  generated: boolean
  generateMs: number
}

function shuffle<T>(random: Random, items: T[]): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

const ALL_KEYS: Key[] = [...Array(12).keys()].flatMap((tonic) => [
  { tonic, mode: 'major' as const },
  { tonic, mode: 'minor' as const },
])

/**
 * Genres in turn (house, techno, hip-hop, dubstep, drum and bass, breakbeat),
 * so any 6 consecutive tracks hold one of each; every 24 tracks hold all 24
 * keys once, in seeded order; format k of a genre's round r is FORMATS[(g + r) % 6],
 * so every format appears once in 6 and every genre is heard in 4 formats in 24.
 */
export function planCorpus(spec: CorpusSpec): CorpusTrack[] {
  const random = mulberry32(spec.seed)
  let keys: Key[] = []
  const tracks: CorpusTrack[] = []
  for (let i = 0; i < spec.tracks; i++) {
    if (i % ALL_KEYS.length === 0) keys = shuffle(random, ALL_KEYS)
    const g = i % GENRES.length
    const round = Math.floor(i / GENRES.length)
    const genre = GENRES[g]!
    const key = keys[i % ALL_KEYS.length]!
    const format = FORMATS[(g + round) % FORMATS.length]!
    const sampleRate = random() < 0.25 ? 48_000 : 44_100
    const lossless = format === 'flac' || format === 'wav' || format === 'aiff'
    const bitDepth = lossless ? (random() < 0.3 ? 24 : 16) : null
    const plan: TrackPlan = {
      genre: genre.name,
      pattern: genre.patterns[round % genre.patterns.length]!.name,
      bpm: uniformInt(random, genre.tempo[0], genre.tempo[1]),
      key,
      progression: pick(random, key.mode === 'major' ? MAJOR_PROGRESSIONS : MINOR_PROGRESSIONS).name,
      instrument: INSTRUMENTS[round % INSTRUMENTS.length]!,
      melody: random() < 0.5,
      sampleRate,
      seconds: Math.round((spec.minSeconds + random() * (spec.maxSeconds - spec.minSeconds)) * 10) / 10,
      seed: spec.seed * 1000 + i,
    }
    const slug = genre.name.replace(/ and /g, '-n-').replace(/\s+/g, '-')
    tracks.push({
      ...plan,
      file: `${String(i + 1).padStart(2, '0')}-${slug}.${format}`,
      format,
      bitDepth,
      encoding: encoding(format, bitDepth, sampleRate).label,
      truth: { bpm: plan.bpm, key: keyName(key) },
    })
  }
  return tracks
}

function encoding(format: Format, bitDepth: 16 | 24 | null, rate: number): { label: string; args: string[] } {
  const khz = `${rate / 1000} kHz`
  switch (format) {
    case 'mp3':
      return { label: `mp3 320 kbit/s CBR (LAME), ${khz}`, args: ['-c:a', 'libmp3lame', '-b:a', '320k'] }
    case 'm4a':
      return { label: `AAC-LC 256 kbit/s in MP4 (ffmpeg aac), ${khz}`, args: ['-c:a', 'aac', '-b:a', '256k'] }
    case 'ogg':
      return { label: `Vorbis q6 (~192 kbit/s) in Ogg, ${khz}`, args: ['-c:a', 'libvorbis', '-q:a', '6'] }
    case 'flac':
      return {
        label: `FLAC ${bitDepth}-bit, ${khz}`,
        args: bitDepth === 24 ? ['-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24'] : ['-c:a', 'flac', '-sample_fmt', 's16'],
      }
    case 'wav':
      return { label: `WAV PCM ${bitDepth}-bit, ${khz}`, args: ['-c:a', bitDepth === 24 ? 'pcm_s24le' : 'pcm_s16le'] }
    case 'aiff':
      return { label: `AIFF PCM ${bitDepth}-bit, ${khz}`, args: ['-c:a', bitDepth === 24 ? 'pcm_s24be' : 'pcm_s16be'] }
  }
}

async function encode(audio: Rendered, path: string, format: Format, bitDepth: 16 | 24 | null): Promise<void> {
  const n = audio.left.length
  const interleaved = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) {
    interleaved[2 * i] = audio.left[i]!
    interleaved[2 * i + 1] = audio.right[i]!
  }
  const input = Buffer.from(interleaved.buffer)
  const { args } = encoding(format, bitDepth, audio.rate)
  await ffmpeg(
    ['-f', 'f32le', '-ar', String(audio.rate), '-ac', '2', '-i', 'pipe:0', ...args, '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact', '-y', path],
    input,
  )
}

const sameSpec = (a: CorpusSpec, b: CorpusSpec) => JSON.stringify(a) === JSON.stringify(b)

/**
 * The corpus in `dir`: reused when `dir` holds one of this spec, generated
 * otherwise. Refuses a non-empty directory that is not a corpus.
 */
export async function loadOrMakeCorpus(dir: string, spec: CorpusSpec, log: (line: string) => void): Promise<Corpus> {
  const manifestPath = join(dir, MANIFEST)
  if (existsSync(manifestPath)) {
    const saved = JSON.parse(await readFile(manifestPath, 'utf8')) as { spec: CorpusSpec; tracks: CorpusTrack[]; warmups: string[] }
    if (sameSpec(saved.spec, spec) && [...saved.tracks.map((t) => t.file), ...saved.warmups].every((f) => existsSync(join(dir, f)))) {
      log(`reusing the corpus in ${dir} (${saved.tracks.length} tracks)`)
      return { dir, spec, tracks: saved.tracks, warmups: saved.warmups, generated: false, generateMs: 0 }
    }
    log(`the corpus in ${dir} is of another spec or incomplete: generating it again`)
    await rm(join(dir, 'tracks'), { recursive: true, force: true })
    await rm(join(dir, 'warmup'), { recursive: true, force: true })
    await rm(manifestPath, { force: true })
  } else if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(`${dir} is not empty and holds no ${MANIFEST}: give an empty or new directory to --corpus`)
  }
  return generateCorpus(dir, spec, log)
}

export async function generateCorpus(dir: string, spec: CorpusSpec, log: (line: string) => void): Promise<Corpus> {
  const t0 = performance.now()
  const planned = planCorpus(spec)
  await mkdir(join(dir, 'tracks'), { recursive: true })
  await mkdir(join(dir, 'warmup'), { recursive: true })
  const piano = new Piano()
  const tracks = planned.map((t) => ({ ...t, file: join('tracks', t.file) }))
  // Render in this thread while ffmpeg encodes the previous track.
  let pending: Promise<void> = Promise.resolve()
  for (const [i, t] of tracks.entries()) {
    const audio = await renderTrack(t, piano)
    await pending
    pending = encode(audio, join(dir, t.file), t.format, t.bitDepth)
    log(`corpus ${i + 1}/${tracks.length}: ${t.file} ${t.genre} (${t.pattern}) ${t.bpm} BPM ${t.truth.key}, ${t.instrument}${t.melody ? ' + melody' : ''}, ${t.seconds} s, ${t.encoding}`)
  }
  await pending
  // Warm-up clips: 8 s of a track of its own, in every format.
  const warmPlan: TrackPlan = { genre: 'house', pattern: GENRES[0]!.patterns[0]!.name, bpm: 124, key: { tonic: 0, mode: 'major' }, progression: 'I-V-vi-IV', instrument: 'piano+synth', melody: true, sampleRate: 44_100, seconds: 8, seed: 1 }
  const warmAudio = await renderTrack(warmPlan, piano)
  const warmups: string[] = []
  for (const format of FORMATS) {
    const file = join('warmup', `warmup.${format}`)
    await encode(warmAudio, join(dir, file), format, format === 'flac' || format === 'wav' || format === 'aiff' ? 16 : null)
    warmups.push(file)
  }
  await writeFile(join(dir, MANIFEST), JSON.stringify({ spec, tracks, warmups }, null, 2) + '\n')
  const generateMs = performance.now() - t0
  log(`corpus: ${tracks.length} tracks generated in ${(generateMs / 1000).toFixed(1)} s`)
  return { dir, spec, tracks, warmups, generated: true, generateMs }
}
