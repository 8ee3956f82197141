// Whole synthesised dance tracks for the demo: an arrangement in 8-bar
// phrases (intro, groove, breakdown, groove, outro) over a chord pad and a
// bass line in the track's key, so tempo and key analysis find something
// real and the waveform has a shape. Deterministic for a given seed.
import { chordFrequencies, mulberry32 } from './synth.ts'

export interface TrackSpec {
  bpm: number
  /** e.g. "A minor", "F# major" */
  key: string
  seconds: number
  sampleRate?: number
  seed?: number
}

type Section = 'intro' | 'groove' | 'breakdown' | 'outro'

const PHRASE_BARS = 8

/** The section a bar falls in: intro and outro one phrase each, a breakdown in the middle. */
function sectionOf(bar: number, bars: number): Section {
  if (bar < PHRASE_BARS) return 'intro'
  if (bar >= bars - PHRASE_BARS) return 'outro'
  const phrase = Math.floor(bar / PHRASE_BARS)
  const middle = Math.floor(bars / PHRASE_BARS / 2)
  return phrase === middle ? 'breakdown' : 'groove'
}

/** Mono 16-bit PCM. */
export function synthTrack(spec: TrackSpec): Int16Array {
  const rate = spec.sampleRate ?? 22050
  const n = Math.round(spec.seconds * rate)
  const out = new Float32Array(n)
  const beat = (60 / spec.bpm) * rate // samples
  const bars = Math.ceil(n / (beat * 4))
  const random = mulberry32(spec.seed ?? 1)
  const chord = chordFrequencies(spec.key)
  const root = chord[0]! / 2 // bass, an octave below the pad
  const halfTime = spec.bpm < 100 // hip-hop: kick on 1 and 3 only

  // The pad: the key's chord all through (louder in the breakdown), with a
  // slow swell. Sines by rotating phasors (a multiply-add a sample instead of
  // Math.sin) keep a whole library to a second or two.
  const notes = [...chord, 1 / 8] // the last one is the swell, one cycle in 8 s
  const cos = Float64Array.from(notes, (f) => Math.cos((2 * Math.PI * f) / rate))
  const sin = Float64Array.from(notes, (f) => Math.sin((2 * Math.PI * f) / rate))
  const re = new Float64Array(notes.length).fill(1)
  const im = new Float64Array(notes.length)
  const swell = notes.length - 1
  const barLength = beat * 4
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0) {
      // keep the phasors on the unit circle
      for (let k = 0; k < notes.length; k++) {
        const r = 1 / Math.hypot(re[k]!, im[k]!)
        re[k]! *= r
        im[k]! *= r
      }
    }
    let v = 0
    for (let k = 0; k < swell; k++) v += im[k]!
    const gain = sectionOf(Math.floor(i / barLength), bars) === 'breakdown' ? 0.09 : 0.05
    out[i] = gain * (0.8 + 0.2 * im[swell]!) * v
    for (let k = 0; k < notes.length; k++) {
      const r = re[k]! * cos[k]! - im[k]! * sin[k]!
      im[k] = im[k]! * cos[k]! + re[k]! * sin[k]!
      re[k] = r
    }
  }

  const add = (at: number, length: number, fn: (j: number, t: number) => number) => {
    for (let j = 0; j < length && at + j < n; j++) out[at + j]! += fn(j, j / rate)
  }
  const beats = Math.floor(n / beat)
  for (let b = 0; b < beats; b++) {
    const start = Math.round(b * beat)
    const section = sectionOf(Math.floor(b / 4), bars)
    const inBar = b % 4
    const drums = section !== 'breakdown'
    if (drums && (!halfTime || inBar % 2 === 0)) {
      // kick: a falling sine
      add(start, rate * 0.15, (_, t) => 0.7 * Math.exp(-t * 30) * Math.sin(2 * Math.PI * (50 + 100 * Math.exp(-t * 40)) * t))
    }
    if (section === 'groove' || (section === 'outro' && inBar % 2 === 1)) {
      // snare on 2 and 4
      if (inBar % 2 === 1) add(start, rate * 0.1, (_, t) => 0.35 * Math.exp(-t * 18) * (random() * 2 - 1))
    }
    if (drums) {
      // hat on the off-beat
      add(Math.round(start + beat / 2), rate * 0.05, (_, t) => 0.12 * Math.exp(-t * 60) * (random() * 2 - 1))
    }
    if (section === 'groove') {
      // bass on the off-beat, the root, a fifth up on the last beat of the bar
      const f = inBar === 3 ? root * 1.5 : root
      add(Math.round(start + beat / 2), Math.round(beat / 2), (j, t) => 0.3 * Math.sin(2 * Math.PI * f * t) * Math.min(1, j / 60) * Math.exp(-t * 4))
    }
  }

  // Fade in over the first beat and out over the last two seconds.
  const fadeIn = Math.round(beat)
  const fadeOut = Math.min(n, 2 * rate)
  for (let i = 0; i < fadeIn && i < n; i++) out[i]! *= i / fadeIn
  for (let i = 0; i < fadeOut; i++) out[n - 1 - i]! *= i / fadeOut

  const pcm = new Int16Array(n)
  for (let i = 0; i < n; i++) pcm[i] = Math.max(-32767, Math.min(32767, Math.round(out[i]! * 24000)))
  return pcm
}
