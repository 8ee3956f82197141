// Synthesised dance-music loops: kick, snare, hi-hat and a sustained chord,
// at a given tempo and key. Deterministic for a given seed, so a demo or
// test library is the same bytes every time.
const NOTE_INDEX: Record<string, number> = { C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11 }

export interface LoopSpec {
  bpm: number
  /** e.g. "A minor", "F# major" */
  key: string
  seconds: number
  sampleRate?: number
  seed?: number
}

/** A small seeded PRNG: the same seed gives the same audio on every machine. */
export function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function chordFrequencies(key: string): number[] {
  const [root, mode] = key.split(' ')
  const index = NOTE_INDEX[root ?? '']
  if (index === undefined) throw new RangeError(`unknown key root in "${key}"`)
  const third = mode === 'minor' ? 3 : 4
  const midi = 48 + index // around C3
  return [midi, midi + third, midi + 7, midi + 12].map((m) => 440 * 2 ** ((m - 69) / 12))
}

export function synthLoop(spec: LoopSpec): Int16Array {
  const rate = spec.sampleRate ?? 22050
  const n = Math.round(spec.seconds * rate)
  const out = new Float32Array(n)
  const beat = (60 / spec.bpm) * rate
  const random = mulberry32(spec.seed ?? 1)
  const chord = chordFrequencies(spec.key)
  for (let i = 0; i < n; i++) {
    const t = i / rate
    let v = 0
    for (const f of chord) v += 0.06 * Math.sin(2 * Math.PI * f * t)
    out[i] = v
  }
  const beats = Math.floor(n / beat)
  for (let b = 0; b < beats; b++) {
    const start = Math.round(b * beat)
    // kick on every beat: a falling sine
    for (let j = 0; j < rate * 0.15 && start + j < n; j++) {
      const t = j / rate
      out[start + j]! += 0.7 * Math.exp(-t * 30) * Math.sin(2 * Math.PI * (50 + 100 * Math.exp(-t * 40)) * t)
    }
    // snare on 2 and 4, hat on the off-beats
    const hits: Array<[number, number, number]> = []
    if (b % 2 === 1) hits.push([start, 0.35, 18])
    hits.push([Math.round(start + beat / 2), 0.12, 60])
    for (const [at, gain, decay] of hits) {
      for (let j = 0; j < rate * 0.1 && at + j < n; j++) out[at + j]! += gain * Math.exp((-j / rate) * decay) * (random() * 2 - 1)
    }
  }
  const pcm = new Int16Array(n)
  for (let i = 0; i < n; i++) pcm[i] = Math.max(-32767, Math.min(32767, Math.round(out[i]! * 24000)))
  return pcm
}
