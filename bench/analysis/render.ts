// Renders one corpus track: synthesised drums and bass in a genre's pattern
// at a known tempo, over a chord progression in a known key played on the
// recorded piano (./piano.ts), on a synthesised pad, or both, with an
// optional melody on the key's scale. Stereo float at the track's rate.
// Deterministic: the same plan gives the same samples.
import { mulberry32, type Random } from '../scan/prng.ts'
import { Piano, type StereoClip } from './piano.ts'
import type { Key } from './score.ts'

export type Genre = 'house' | 'techno' | 'hip-hop' | 'dubstep' | 'drum and bass' | 'breakbeat'
export type Instrument = 'piano' | 'synth' | 'piano+synth'

/** Drum lanes, one character per 16th note: x hit, o ghost (soft), . rest. A lane of 32 steps spans two bars. */
export interface DrumPattern {
  name: string
  kick: string
  snare?: string
  clap?: string
  hat: string
  openHat?: string
  /** 0.5 straight; 0.6 delays every second 16th by 20% of a 16th. */
  swing?: number
}

/** Note events within one bar of 16 steps: [start step, length in steps]. */
type Hits = Array<[number, number]>

export interface GenreSpec {
  name: Genre
  /** Whole BPM, inclusive. */
  tempo: [number, number]
  patterns: DrumPattern[]
  barsPerChord: number
  chordHits: Hits
  bassHits: Hits
  kick: 'tight' | 'long'
  wobble?: boolean
  jitterMs: number
}

export const GENRES: GenreSpec[] = [
  {
    name: 'house',
    tempo: [120, 128],
    patterns: [{ name: 'four to the floor', kick: 'x...x...x...x...', clap: '....x.......x...', hat: 'oxoxoxoxoxoxoxox', openHat: '..x...x...x...x.' }],
    barsPerChord: 1,
    chordHits: [[0, 2], [3, 2], [6, 3], [10, 2], [12, 3]],
    bassHits: [[2, 2], [6, 2], [10, 2], [14, 2]],
    kick: 'tight',
    jitterMs: 1,
  },
  {
    name: 'techno',
    tempo: [130, 140],
    patterns: [{ name: 'four to the floor, 16th hats', kick: 'x...x...x...x...', clap: '....o.......o...', hat: 'xoxoxoxoxoxoxoxo', openHat: '..x...x...x...x.' }],
    barsPerChord: 2,
    chordHits: [[2, 1], [6, 1], [10, 1], [14, 1]],
    bassHits: [[1, 1], [2, 1], [3, 1], [5, 1], [6, 1], [7, 1], [9, 1], [10, 1], [11, 1], [13, 1], [14, 1], [15, 1]],
    kick: 'tight',
    jitterMs: 0.5,
  },
  {
    name: 'hip-hop',
    tempo: [85, 95],
    patterns: [
      { name: 'boom bap', kick: 'x......x..x.....x.....x...x..x..', snare: '....x.......x.......x.......x...', hat: 'x.x.x.x.x.x.x.x.', swing: 0.58 },
      { name: 'boom bap, swung 16th hats', kick: 'x.........x.....x......x..x.....', snare: '....x.......x.......x.......x..o', hat: 'xoxoxoxoxoxoxoxo', swing: 0.6 },
    ],
    barsPerChord: 1,
    chordHits: [[0, 8], [8, 8]],
    bassHits: [[0, 6], [7, 3], [10, 6]],
    kick: 'long',
    jitterMs: 6,
  },
  {
    name: 'dubstep',
    tempo: [138, 142],
    patterns: [{ name: 'half-time (snare on 3)', kick: 'x.........x.....x...............', snare: '........x...............x.......', hat: 'x.x.x.x.x.x.x.x.' }],
    barsPerChord: 1,
    chordHits: [[0, 16]],
    bassHits: [[0, 16]],
    kick: 'long',
    wobble: true,
    jitterMs: 1,
  },
  {
    name: 'drum and bass',
    tempo: [170, 175],
    patterns: [
      { name: 'half-time (snare on 3)', kick: 'x.........x.....x......x..x.....', snare: '........x...............x......o', hat: 'x.x.x.x.x.x.x.x.', openHat: '......x.......x.' },
      { name: 'two-step', kick: 'x.........x.....', snare: '....x..o....x...', hat: 'x.x.x.x.x.x.x.x.' },
    ],
    barsPerChord: 2,
    chordHits: [[0, 32]],
    bassHits: [[0, 10], [10, 6]],
    kick: 'tight',
    jitterMs: 1,
  },
  {
    name: 'breakbeat',
    tempo: [125, 140],
    patterns: [{ name: 'syncopated break', kick: 'x.x.......xx....x.x.......x.....', snare: '....x..o.o..x..o....x..o.o..x...', hat: 'x.x.x.x.x.x.x.x.', openHat: '..............x.', swing: 0.54 }],
    barsPerChord: 1,
    chordHits: [[0, 6], [6, 4], [12, 4]],
    bassHits: [[0, 2], [3, 3], [10, 2], [11, 3]],
    kick: 'tight',
    jitterMs: 4,
  },
]

export const genreSpec = (name: Genre): GenreSpec => GENRES.find((g) => g.name === name)!

/** A progression as [semitones above the tonic, chord is minor]. */
type Progression = { name: string; chords: Array<[number, boolean]> }

export const MAJOR_PROGRESSIONS: Progression[] = [
  { name: 'I-V-vi-IV', chords: [[0, false], [7, false], [9, true], [5, false]] },
  { name: 'I-IV-V-I', chords: [[0, false], [5, false], [7, false], [0, false]] },
  { name: 'I-vi-IV-V', chords: [[0, false], [9, true], [5, false], [7, false]] },
  { name: 'I-ii-V-I', chords: [[0, false], [2, true], [7, false], [0, false]] },
  { name: 'I-iii-IV-V', chords: [[0, false], [4, true], [5, false], [7, false]] },
]
export const MINOR_PROGRESSIONS: Progression[] = [
  { name: 'i-VI-III-VII', chords: [[0, true], [8, false], [3, false], [10, false]] },
  { name: 'i-iv-v-i', chords: [[0, true], [5, true], [7, true], [0, true]] },
  { name: 'i-VI-iv-V', chords: [[0, true], [8, false], [5, true], [7, false]] },
  { name: 'i-VII-VI-V', chords: [[0, true], [10, false], [8, false], [7, false]] },
  { name: 'i-iv-VII-i', chords: [[0, true], [5, true], [10, false], [0, true]] },
]
const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
const MINOR_SCALE = [0, 2, 3, 5, 7, 8, 10]

export interface TrackPlan {
  genre: Genre
  pattern: string
  bpm: number
  key: Key
  progression: string
  instrument: Instrument
  melody: boolean
  sampleRate: number
  seconds: number
  seed: number
}

export interface Rendered {
  left: Float32Array
  right: Float32Array
  rate: number
}

// ---- building blocks -------------------------------------------------------

const midiHz = (m: number) => 440 * 2 ** ((m - 69) / 12)

class Mix {
  readonly left: Float32Array
  readonly right: Float32Array
  constructor(readonly length: number) {
    this.left = new Float32Array(length)
    this.right = new Float32Array(length)
  }
  /** Adds a mono clip at `at`, panned (-1 left .. 1 right), cut at `maxLength` with a 5 ms release when given. */
  addMono(clip: Float32Array, at: number, gain: number, pan = 0, maxLength = Infinity, releaseLen = 0): void {
    const gl = gain * Math.min(1, 1 - pan)
    const gr = gain * Math.min(1, 1 + pan)
    const n = Math.min(clip.length, this.length - at, maxLength + releaseLen)
    for (let i = Math.max(0, -at); i < n; i++) {
      const env = i < maxLength ? 1 : 1 - (i - maxLength) / releaseLen
      const v = clip[i]! * env
      this.left[at + i]! += v * gl
      this.right[at + i]! += v * gr
    }
  }
  addStereo(clip: StereoClip, at: number, gain: number, maxLength: number, releaseLen: number): void {
    const n = Math.min(clip.left.length, this.length - at, maxLength + releaseLen)
    for (let i = Math.max(0, -at); i < n; i++) {
      const env = gain * (i < maxLength ? 1 : 1 - (i - maxLength) / releaseLen)
      this.left[at + i]! += clip.left[i]! * env
      this.right[at + i]! += clip.right[i]! * env
    }
  }
}

function onePoleCoef(hz: number, rate: number): number {
  return 1 - Math.exp((-2 * Math.PI * hz) / rate)
}

function noise(random: Random, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = random() * 2 - 1
  return out
}

function highpass(x: Float32Array, hz: number, rate: number): Float32Array {
  const a = onePoleCoef(hz, rate)
  let lp = 0
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) {
    lp += a * (x[i]! - lp)
    out[i] = x[i]! - lp
  }
  return out
}

function lowpass(x: Float32Array, hz: number, rate: number): Float32Array {
  const a = onePoleCoef(hz, rate)
  let lp = 0
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = lp += a * (x[i]! - lp)
  return out
}

function normalize(x: Float32Array): Float32Array {
  let peak = 0
  for (const v of x) peak = Math.max(peak, Math.abs(v))
  if (peak > 0) for (let i = 0; i < x.length; i++) x[i]! /= peak
  return x
}

/**
 * A sine kick falling from ~170 Hz. A long (808-style) kick rings at the
 * tonic, as producers tune them; a tight one ends at an untuned 45-60 Hz.
 */
function kick(kind: 'tight' | 'long', tonic: number, random: Random, rate: number): Float32Array {
  const seconds = kind === 'long' ? 0.9 : 0.3
  const n = Math.round(seconds * rate)
  const out = new Float32Array(n)
  const tuned = midiHz(24 + tonic) // C1..B1, 32.7-61.7 Hz
  const f0 = kind === 'long' ? (tuned < 40 ? tuned * 2 : tuned) : 45 + random() * 15
  const f1 = 150 + random() * 40
  const ampDecay = kind === 'long' ? 4.5 : 14
  let phase = 0
  for (let i = 0; i < n; i++) {
    const t = i / rate
    phase += (2 * Math.PI * (f0 + (f1 - f0) * Math.exp(-t * 35))) / rate
    const click = t < 0.003 ? (random() * 2 - 1) * 0.3 * (1 - t / 0.003) : 0
    out[i] = Math.exp(-t * ampDecay) * Math.sin(phase) + click
  }
  return normalize(out)
}

function snare(random: Random, rate: number): Float32Array {
  const n = Math.round(0.25 * rate)
  const hiss = highpass(noise(random, n), 1500, rate)
  const body = 170 + random() * 40
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const t = i / rate
    out[i] = 0.35 * Math.exp(-t * 35) * Math.sin(2 * Math.PI * body * t) + 0.8 * Math.exp(-t * 17) * hiss[i]!
  }
  return normalize(out)
}

function clap(random: Random, rate: number): Float32Array {
  const n = Math.round(0.3 * rate)
  const src = lowpass(highpass(noise(random, n), 900, rate), 5000, rate)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const t = i / rate
    let env = 0
    for (const burst of [0, 0.009, 0.018]) if (t >= burst) env = Math.max(env, Math.exp(-(t - burst) * 180))
    if (t >= 0.022) env = Math.max(env, 0.6 * Math.exp(-(t - 0.022) * 22))
    out[i] = src[i]! * env
  }
  return normalize(out)
}

function hat(open: boolean, random: Random, rate: number): Float32Array {
  const n = Math.round((open ? 0.35 : 0.07) * rate)
  const src = highpass(highpass(noise(random, n), 6000, rate), 6000, rate)
  const out = new Float32Array(n)
  const decay = open ? 9 : 70
  for (let i = 0; i < n; i++) out[i] = src[i]! * Math.exp((-i / rate) * decay)
  return normalize(out)
}

/** One cycle of a band-limited sawtooth (12 harmonics), peak 1. */
function sawTable(size = 4096): Float32Array {
  const t = new Float32Array(size + 1)
  for (let i = 0; i <= size; i++) {
    let v = 0
    for (let k = 1; k <= 12; k++) v += Math.sin((2 * Math.PI * k * i) / size) / k
    t[i] = v
  }
  return normalize(t)
}
const SAW = sawTable()

/** A tone from the saw table with an attack/release envelope, low-passed; mono. */
function sawTone(hz: number, length: number, rate: number, detuneCents: number, attack: number, release: number, cutoff: number): Float32Array {
  const n = length + release
  const out = new Float32Array(n)
  const step = ((hz * 2 ** (detuneCents / 1200)) / rate) * (SAW.length - 1)
  const a = onePoleCoef(cutoff, rate)
  let phase = 0
  let lp = 0
  for (let i = 0; i < n; i++) {
    const idx = phase | 0
    const frac = phase - idx
    const v = SAW[idx]! + (SAW[idx + 1]! - SAW[idx]!) * frac
    phase += step
    if (phase >= SAW.length - 1) phase -= SAW.length - 1
    const env = i < attack ? i / attack : i < length ? 1 : 1 - (i - length) / release
    lp += a * (v * env - lp)
    out[i] = lp
  }
  return out
}

function bassTone(hz: number, length: number, rate: number, wobblePerSec: number): Float32Array {
  const release = Math.round(0.02 * rate)
  const attack = Math.round(0.004 * rate)
  const n = length + release
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const t = i / rate
    const env = i < attack ? i / attack : i < length ? 1 : 1 - (i - length) / release
    const wob = wobblePerSec ? 0.55 + 0.45 * Math.cos(2 * Math.PI * wobblePerSec * t) : 1
    const w = 2 * Math.PI * hz * t
    out[i] = env * wob * (Math.sin(w) + 0.35 * Math.sin(2 * w) + 0.12 * Math.sin(3 * w))
  }
  return out
}

/** Close voicing of a triad whose root lies in C3..B3, with the root doubled an octave up. */
function voicing(tonic: number, rootOffset: number, minor: boolean): number[] {
  const root = 48 + ((tonic + rootOffset) % 12)
  return [root, root + (minor ? 3 : 4), root + 7, root + 12]
}

// ---- the track -------------------------------------------------------------

interface Sections {
  drums: boolean
  bass: boolean
  chords: boolean
  melody: boolean
}

/** Intro (drums), main part, breakdown (chords and melody only), main part, outro (drums). */
function sections(totalBars: number, melody: boolean): Sections[] {
  const even = (v: number) => Math.max(2, 2 * Math.round(v / 2))
  const intro = even(totalBars * 0.1)
  const breakdown = even(totalBars * 0.1)
  const outro = Math.max(1, Math.round(totalBars * 0.05))
  const breakAt = even(totalBars * 0.55)
  return Array.from({ length: totalBars }, (_, bar) => {
    if (bar < intro || bar >= totalBars - outro) return { drums: true, bass: false, chords: false, melody: false }
    if (bar >= breakAt && bar < breakAt + breakdown) return { drums: false, bass: false, chords: true, melody }
    return { drums: true, bass: true, chords: true, melody: melody && bar >= intro + 2 }
  })
}

export async function renderTrack(plan: TrackPlan, piano: Piano): Promise<Rendered> {
  const random = mulberry32(plan.seed)
  const rate = plan.sampleRate
  const genre = genreSpec(plan.genre)
  const pattern = genre.patterns.find((p) => p.name === plan.pattern)!
  const progression = [...MAJOR_PROGRESSIONS, ...MINOR_PROGRESSIONS].find((p) => p.name === plan.progression)!
  const n = Math.round(plan.seconds * rate)
  const mix = new Mix(n)
  const stepLen = (60 / plan.bpm / 4) * rate // a 16th note, in samples (fractional)
  const totalBars = Math.ceil(n / (16 * stepLen))
  const arrangement = sections(totalBars, plan.melody)
  const jitter = () => Math.round((random() * 2 - 1) * genre.jitterMs * rate * 0.001)
  const swingDelay = ((pattern.swing ?? 0.5) - 0.5) * 2 * stepLen
  const at = (bar: number, step: number) => Math.round((bar * 16 + step) * stepLen + (step % 2 === 1 ? swingDelay : 0))

  // Drums: one set of one-shots per track, as a producer's kit.
  const kit = {
    kick: kick(genre.kick, plan.key.tonic, random, rate),
    snare: snare(random, rate),
    clap: clap(random, rate),
    hat: hat(false, random, rate),
    openHat: hat(true, random, rate),
  }
  const lanes: Array<[string | undefined, Float32Array, number, number]> = [
    [pattern.kick, kit.kick, 0.95, 0],
    [pattern.snare, kit.snare, 0.5, 0.05],
    [pattern.clap, kit.clap, 0.42, -0.05],
    [pattern.hat, kit.hat, 0.16, 0.3],
    [pattern.openHat, kit.openHat, 0.12, -0.25],
  ]
  for (let bar = 0; bar < totalBars; bar++) {
    if (!arrangement[bar]!.drums) continue
    for (const [lane, clip, gain, pan] of lanes) {
      if (!lane) continue
      for (let step = 0; step < 16; step++) {
        const c = lane[((bar * 16) % lane.length) + step]
        if (c !== 'x' && c !== 'o') continue
        const velocity = (c === 'x' ? 1 : 0.35) * (0.88 + 0.12 * random())
        mix.addMono(clip, Math.max(0, at(bar, step) + jitter()), gain * velocity, pan)
      }
    }
  }

  // Harmony: the progression, one chord per `barsPerChord` bars, in the genre's rhythm.
  const usePiano = plan.instrument !== 'synth'
  const useSynth = plan.instrument !== 'piano'
  const release = Math.round(0.08 * rate)
  const chordAt = (bar: number) => progression.chords[Math.floor(bar / genre.barsPerChord) % progression.chords.length]!
  const stepsPerBar = 16
  for (let bar = 0; bar < totalBars; bar++) {
    const s = arrangement[bar]!
    const [offset, minor] = chordAt(bar)
    const notes = voicing(plan.key.tonic, offset, minor)
    if (s.chords) {
      for (const [step, len] of genre.chordHits) {
        // hits longer than a bar start only on the first bar of their chord
        if (step + len > stepsPerBar && bar % Math.ceil(len / stepsPerBar) !== 0) continue
        const start = at(bar, step)
        const length = Math.round(len * stepLen) - release
        if (usePiano) {
          for (const m of notes) mix.addStereo(await piano.note(m, rate), start, (plan.instrument === 'piano' ? 0.26 : 0.18) * (0.9 + 0.1 * random()), length, release)
        }
        if (useSynth) {
          const attack = Math.round(Math.min(0.03, len * 0.2 * (stepLen / rate)) * rate)
          for (const m of notes) {
            for (const [cents, pan] of [[-7, -0.6], [7, 0.6]] as const) {
              mix.addMono(sawTone(midiHz(m), length, rate, cents, attack, release, 2200), start, plan.instrument === 'synth' ? 0.07 : 0.045, pan)
            }
          }
        }
      }
    }
    if (s.bass) {
      const root = 28 + ((plan.key.tonic + offset + 8) % 12) // E1..D#2 (MIDI 28 is E1)
      for (const [step, len] of genre.bassHits) {
        const wobble = genre.wobble ? (plan.bpm / 60) * 2 : 0
        mix.addMono(bassTone(midiHz(root), Math.round(len * stepLen) - Math.round(0.02 * rate), rate, wobble), at(bar, step), 0.38, 0)
      }
    }
  }

  // Melody: a random walk on the key's scale, 8th notes with rests, starting and ending phrases on the tonic.
  if (plan.melody) {
    const scale = plan.key.mode === 'minor' ? MINOR_SCALE : MAJOR_SCALE
    let degree = 0
    for (let bar = 0; bar < totalBars; bar++) {
      if (!arrangement[bar]!.melody) continue
      for (let step = 0; step < 16; step += 2) {
        const phraseEnd = bar % 4 === 3 && step >= 12
        if (phraseEnd) degree = 0
        else if (random() < 0.35) continue
        else degree = Math.max(-2, Math.min(9, degree + Math.round((random() * 2 - 1) * 2)))
        const octave = Math.floor(degree / 7)
        const pitch = 72 + plan.key.tonic + 12 * octave + scale[((degree % 7) + 7) % 7]!
        const len = Math.round((phraseEnd ? 4 : 2) * stepLen) - release
        if (usePiano) mix.addStereo(await piano.note(pitch - (plan.key.tonic > 6 ? 12 : 0), rate), at(bar, step), 0.22, len, release)
        else mix.addMono(sawTone(midiHz(pitch - (plan.key.tonic > 6 ? 12 : 0)), len, rate, 0, Math.round(0.005 * rate), release, 3000), at(bar, step), 0.12, 0.15)
      }
    }
  }

  // Master: peak at -0.5 .. -4 dBFS, 10 ms fades at the ends.
  let peak = 0
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(mix.left[i]!), Math.abs(mix.right[i]!))
  const gain = 10 ** (-(0.5 + 3.5 * random()) / 20) / peak
  const fade = Math.round(0.01 * rate)
  for (let i = 0; i < n; i++) {
    const edge = Math.min(1, i / fade, (n - 1 - i) / fade)
    mix.left[i]! *= gain * edge
    mix.right[i]! *= gain * edge
  }
  return { left: mix.left, right: mix.right, rate }
}
