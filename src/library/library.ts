// The Library: what the CLI (and later the node's API) asks of a home's
// track collection. LocalLibrary owns the LevelDB store; since LevelDB takes
// one process, a running node will serve the same interface over its local
// API and the CLI will pick whichever is available.
import { join } from 'node:path'
import { homePaths, ensureDir } from '../home.ts'
import { LevelLibraryStore, type TrackRecord } from './level-store.ts'
import { scan, type ScanOptions, type ScanSummary } from './scanner.ts'
import { matches, queryTokens, sortTracks, type SortField } from './search.ts'
import { infohashOf } from './torrent-info.ts'
import { analyzeLibrary, type AnalyzeOptions, type AnalyzeSummary } from './analyze-run.ts'
import type { StoredAnalysis, StoredWaveform } from './analysis-record.ts'
import { createHash } from 'node:crypto'
import type { CueRegister } from './cues.ts'
import type { NoteRegister } from './notes.ts'
import { DEFAULT_TEMPO_RANGE, checkUserRange, type TempoRange } from '../analysis/index.ts'

export interface ListOptions {
  query?: string
  sort?: SortField
  reverse?: boolean
  /** Include tracks whose files are gone. Default true: missing tracks are shown as missing. */
  includeMissing?: boolean
  limit?: number
}

export interface LibraryStats {
  tracks: number
  missing: number
  bytes: number
  roots: string[]
}

export interface Library {
  scan(roots: string[], opts?: Omit<ScanOptions, 'circleSecret'>): Promise<ScanSummary>
  list(opts?: ListOptions): Promise<TrackRecord[]>
  track(sha256: string): Promise<TrackRecord | undefined>
  stats(): Promise<LibraryStats>
  close(): Promise<void>
}

export interface OpenLibraryOptions {
  /** The circle secret keys infohashes; without it tracks are stored without one. */
  circleSecret?: Uint8Array
}

const circleId = (secret: Uint8Array) => createHash('sha256').update('djcloud/circle-id:').update(secret).digest('hex').slice(0, 16)

export class LocalLibrary implements Library {
  private constructor(
    private readonly store: LevelLibraryStore,
    private readonly circleSecret: Uint8Array | undefined,
  ) {}

  static async open(home: string, opts: OpenLibraryOptions = {}): Promise<LocalLibrary> {
    const dir = homePaths(home).library
    await ensureDir(home)
    const store = await LevelLibraryStore.open(join(dir))
    const lib = new LocalLibrary(store, opts.circleSecret)
    if (opts.circleSecret) await lib.rekey(opts.circleSecret)
    return lib
  }

  /** Recomputes infohashes from stored piece hashes when the circle changed; no file is read. */
  private async rekey(secret: Uint8Array): Promise<void> {
    const id = circleId(secret)
    if ((await this.store.getMeta<string>('circle')) === id) return
    const batch: TrackRecord[] = []
    for await (const t of this.store.allTracks()) {
      const pieces = await this.store.getPieces(t.sha256)
      if (!pieces) continue
      batch.push({ ...t, infohash: infohashOf({ ...t, pieces }, secret) })
      if (batch.length >= 1000) await this.store.write({ tracks: batch.splice(0) })
    }
    await this.store.write({ tracks: batch })
    await this.store.putMeta('circle', id)
  }

  scan(roots: string[], opts: Omit<ScanOptions, 'circleSecret'> = {}): Promise<ScanSummary> {
    return scan(this.store, roots, { ...opts, circleSecret: this.circleSecret })
  }

  async list(opts: ListOptions = {}): Promise<TrackRecord[]> {
    const tokens = queryTokens(opts.query ?? '')
    const analyses = new Map<string, StoredAnalysis>()
    for await (const [audioHash, a] of this.store.allAnalyses()) analyses.set(audioHash, a)
    const out: TrackRecord[] = []
    for await (const t of this.store.allTracks()) {
      if (t.missing && opts.includeMissing === false) continue
      if (!matches(t, tokens)) continue
      const a = analyses.get(t.audioHash)
      out.push(a?.result ? { ...t, analysis: a.result } : t)
    }
    sortTracks(out, opts.sort ?? 'artist', opts.reverse)
    return opts.limit ? out.slice(0, opts.limit) : out
  }

  track(sha256: string): Promise<TrackRecord | undefined> {
    return this.store.getTrack(sha256)
  }

  /** Analyses every present recording not yet analysed by this analyser version; resumable. */
  analyze(opts: AnalyzeOptions): Promise<AnalyzeSummary> {
    return analyzeLibrary(this.store, opts)
  }

  /** The device's DJ tempo range for analysis (set with `djcloud analyze --tempo-range`). */
  async tempoRange(): Promise<TempoRange> {
    return (await this.store.getMeta<TempoRange>('tempoRange')) ?? { ...DEFAULT_TEMPO_RANGE }
  }

  /** Keeps a new range (checked as a user's); the next analysis run redoes results of another range. */
  async setTempoRange(range: TempoRange): Promise<void> {
    const checked = checkUserRange(range)
    await this.store.putMeta('tempoRange', { min: checked.min, max: checked.max })
  }

  /** The stored analysis of a recording (by audio hash), its result or its error. */
  analysisOf(audioHash: string): Promise<StoredAnalysis | undefined> {
    return this.store.getAnalysis(audioHash)
  }

  waveformOf(audioHash: string): Promise<StoredWaveform | undefined> {
    return this.store.getWaveform(audioHash)
  }

  /** Every stored analysis (results and errors), by audio hash: what a backup carries. */
  allAnalyses(): AsyncIterable<[string, StoredAnalysis]> {
    return this.store.allAnalyses()
  }

  /** Stores a recording's analysis as it is (with its waveform, or none): how a backup is restored. */
  putAnalysis(audioHash: string, record: StoredAnalysis, waveform?: StoredWaveform): Promise<void> {
    return this.store.putAnalysis(audioHash, record, waveform)
  }

  /** This device's cue edits of a recording (empty when it made none). */
  async cueEdits(audioHash: string): Promise<CueRegister[]> {
    return (await this.store.getCues(audioHash)) ?? []
  }

  /** This device's cue edits of every recording it edited cues of, for its library manifest. */
  async allCueEdits(): Promise<Map<string, CueRegister[]>> {
    const out = new Map<string, CueRegister[]>()
    for await (const [audioHash, regs] of this.store.allCues()) if (regs.length) out.set(audioHash, regs)
    return out
  }

  putCueEdits(audioHash: string, registers: CueRegister[]): Promise<void> {
    return this.store.putCues(audioHash, registers)
  }

  /** This device's note edits (grid, rating, colour, comment, plays) of a recording (empty when it made none). */
  async noteEdits(audioHash: string): Promise<NoteRegister[]> {
    return (await this.store.getNotes(audioHash)) ?? []
  }

  /** This device's note edits of every recording it noted, for its library manifest. */
  async allNoteEdits(): Promise<Map<string, NoteRegister[]>> {
    const out = new Map<string, NoteRegister[]>()
    for await (const [audioHash, regs] of this.store.allNotes()) if (regs.length) out.set(audioHash, regs)
    return out
  }

  putNoteEdits(audioHash: string, registers: NoteRegister[]): Promise<void> {
    return this.store.putNotes(audioHash, registers)
  }

  /** The stored SHA-1 piece hashes of a track's torrent. */
  pieces(sha256: string): Promise<Uint8Array | undefined> {
    return this.store.getPieces(sha256)
  }

  async stats(): Promise<LibraryStats> {
    let tracks = 0
    let missing = 0
    let bytes = 0
    for await (const t of this.store.allTracks()) {
      tracks++
      if (t.missing) missing++
      else bytes += t.size
    }
    return { tracks, missing, bytes, roots: (await this.store.getMeta<string[]>('roots')) ?? [] }
  }

  close(): Promise<void> {
    return this.store.close()
  }
}

export function openLibrary(home: string, opts: OpenLibraryOptions = {}): Promise<Library> {
  return LocalLibrary.open(home, opts)
}
