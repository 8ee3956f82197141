// What the soak knows about the circle's music: every track it ever wrote
// (its original bytes kept apart, so streamed ranges can be compared), which
// files are in each device's music folder now, and which of them the
// device's library took in at its last acknowledged scan. A track's holders
// are the devices with it both present and scanned.
import { createHash } from 'node:crypto'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildId3, encodeWav, synthTrack } from '../../src/demo/index.ts'

const SAMPLE_RATE = 22050 // Hz, mono 16-bit: 44.1 kB a second
const KEYS = ['A minor', 'C major', 'F# minor', 'D major', 'E minor', 'G major', 'B minor', 'F major']

export interface SoakTrack {
  sha256: string
  file: string
  /** Where the original bytes are kept (never served, never scanned). */
  original: string
  size: number
  /** When a device's library first took it in (ms), or undefined. */
  knownAt?: number
}

export class LibraryModel {
  readonly tracks = new Map<string, SoakTrack>()
  private readonly present = new Map<string, Set<string>>()
  private readonly scanned = new Map<string, Set<string>>()
  private made = 0

  constructor(
    private readonly root: string,
    readonly devices: readonly string[],
    private readonly seconds: number,
  ) {
    for (const d of devices) {
      this.present.set(d, new Set())
      this.scanned.set(d, new Set())
    }
  }

  folder(device: string): string {
    return join(this.root, 'music', device)
  }

  /** Synthesises a new tagged WAV (distinct bytes and audio every time) and keeps its original. */
  async newTrack(): Promise<SoakTrack> {
    const n = ++this.made
    const bpm = 118 + (n * 7) % 30
    const key = KEYS[n % KEYS.length]!
    const pcm = synthTrack({ bpm, key, seconds: this.seconds, sampleRate: SAMPLE_RATE, seed: 1000 + n })
    const title = `Soak Track ${String(n).padStart(3, '0')}`
    const bytes = encodeWav(pcm, SAMPLE_RATE, 1, buildId3({ title, artist: 'Fault Campaign', album: 'Soak', genre: 'House', bpm, key, track: n, year: 2026 }))
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const dir = join(this.root, 'originals')
    await mkdir(dir, { recursive: true })
    const original = join(dir, sha256)
    await writeFile(original, bytes)
    const t: SoakTrack = { sha256, file: `${title}.wav`, original, size: bytes.length }
    this.tracks.set(sha256, t)
    return t
  }

  /** Puts a track's file into a device's music folder. */
  async place(device: string, sha256: string): Promise<void> {
    const t = this.tracks.get(sha256)!
    await mkdir(this.folder(device), { recursive: true })
    await copyFile(t.original, join(this.folder(device), t.file))
    this.present.get(device)!.add(sha256)
  }

  /** Deletes a track's file from a device's music folder; it stops counting as a holder at once. */
  async remove(device: string, sha256: string): Promise<void> {
    this.present.get(device)!.delete(sha256)
    this.scanned.get(device)!.delete(sha256)
    await rm(join(this.folder(device), this.tracks.get(sha256)!.file), { force: true })
  }

  /** What a scan started now will find in the device's folder. */
  snapshot(device: string): Set<string> {
    return new Set(this.present.get(device))
  }

  /** A scan of the device, started with `snapshot`, was acknowledged. */
  scannedAt(device: string, snapshot: Set<string>, at = Date.now()): void {
    const now = this.present.get(device)!
    this.scanned.set(device, new Set([...snapshot].filter((s) => now.has(s))))
    for (const s of snapshot) {
      const t = this.tracks.get(s)!
      t.knownAt ??= at
    }
  }

  holders(sha256: string): string[] {
    return this.devices.filter((d) => this.present.get(d)!.has(sha256) && this.scanned.get(d)!.has(sha256))
  }

  presentOn(device: string): string[] {
    return [...this.present.get(device)!]
  }

  /** Tracks some device's library took in at least `ageMs` ago (every own device's union should list them). */
  settled(ageMs: number, now = Date.now()): SoakTrack[] {
    return [...this.tracks.values()].filter((t) => t.knownAt !== undefined && now - t.knownAt >= ageMs && this.holders(t.sha256).length > 0)
  }
}
