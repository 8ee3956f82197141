// LevelDB storage for the library. LevelDB allows one process per store, so
// only the process that owns a home (the CLI, or the node once it runs)
// opens this; everything else goes through the Library interface.
//
// Sublevels:
//   meta    schema version, scanned roots, circle id
//   tracks  sha256 -> TrackRecord (json)
//   paths   absolute path -> PathEntry (json)
//   pieces  sha256 -> concatenated SHA-1 piece hashes (binary)
//   analysis   audio hash -> StoredAnalysis (json): tempo, key, loudness, or the error
//   waveforms  audio hash -> waveform levels (json, base64 columns), read one track at a time
//   cues       audio hash -> CueRegister[] (json): this device's cue edits of the recording
//   notes      audio hash -> NoteRegister[] (json): this device's note edits (grid, rating, ...) of the recording
import type { Level } from 'level'
import type { AudioFormat } from '../audio-file/index.ts'
import type { Tags } from './tags.ts'
import { LibraryError } from './errors.ts'
import type { AnalysisSummary, StoredAnalysis, StoredWaveform } from './analysis-record.ts'
import type { CueRegister } from './cues.ts'
import type { NoteRegister } from './notes.ts'

export const SCHEMA_VERSION = 1

export interface TrackRecord {
  sha256: string
  audioHash: string
  size: number
  format: AudioFormat
  pieceLength: number
  /** Infohash of the track's private torrent in this device's circle. */
  infohash?: string
  tags: Tags
  /** Paths where the bytes were last seen; empty when missing. */
  paths: string[]
  /** Where it was when it went missing, so the person can find it again. */
  lastPaths?: string[]
  missing: boolean
  /**
   * This file was rewritten in place into another with the same audio (DJ
   * software wrote its tags): the SHA-256 of the version that took its path.
   * The same recording, so cues, analysis and playlists (by audio hash) follow.
   */
  replacedBy?: string
  /** The SHA-256 of the version of this file that was at its path before (see replacedBy). */
  replaces?: string
  /** ms since the epoch */
  added: number
  updated: number
  /** Filled in when listing (kept apart, by audio hash): tempo, key, loudness as analysed. */
  analysis?: AnalysisSummary
}

export interface PathEntry {
  sha256?: string
  size: number
  mtimeMs: number
  dev: number
  ino: number
  /** Set when the file was skipped; unchanged skipped files are not re-read. */
  error?: { code: string; message: string }
}

type Db = Level<string, unknown>
type Sub<V> = ReturnType<typeof sublevel<V>>
const sublevel = <V>(db: Db, name: string, valueEncoding: 'json' | 'view') =>
  db.sublevel<string, V>(name, { valueEncoding })

export class LevelLibraryStore {
  private constructor(
    private readonly db: Db,
    private readonly tracks: Sub<TrackRecord>,
    private readonly paths: Sub<PathEntry>,
    private readonly pieces: Sub<Uint8Array>,
    private readonly meta: Sub<unknown>,
    private readonly analyses: Sub<StoredAnalysis>,
    private readonly waveforms: Sub<StoredWaveform>,
    private readonly cues: Sub<CueRegister[]>,
    private readonly notes: Sub<NoteRegister[]>,
  ) {}

  static async open(location: string): Promise<LevelLibraryStore> {
    // Loaded here: a process that never opens a store does not load LevelDB.
    const { Level } = await import('level')
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new LibraryError('ERR_STORE_LOCKED', 'the library is in use by another djcloud process (is "djcloud serve" running on this home?)')
      }
      throw err
    }
    const meta = sublevel<unknown>(db, 'meta', 'json')
    const version = (await meta.get('schema')) as number | undefined
    if (version !== undefined && version > SCHEMA_VERSION) {
      await db.close()
      throw new LibraryError('ERR_STORE_VERSION', `the library was written by a newer djcloud (schema ${version}, this one reads ${SCHEMA_VERSION})`)
    }
    if (version === undefined) await meta.put('schema', SCHEMA_VERSION)
    return new LevelLibraryStore(
      db,
      sublevel<TrackRecord>(db, 'tracks', 'json'),
      sublevel<PathEntry>(db, 'paths', 'json'),
      sublevel<Uint8Array>(db, 'pieces', 'view'),
      meta,
      sublevel<StoredAnalysis>(db, 'analysis', 'json'),
      sublevel<StoredWaveform>(db, 'waveforms', 'json'),
      sublevel<CueRegister[]>(db, 'cues', 'json'),
      sublevel<NoteRegister[]>(db, 'notes', 'json'),
    )
  }

  getTrack(sha256: string): Promise<TrackRecord | undefined> {
    return this.tracks.get(sha256)
  }

  getPieces(sha256: string): Promise<Uint8Array | undefined> {
    return this.pieces.get(sha256)
  }

  allTracks(): AsyncIterable<TrackRecord> {
    return this.tracks.values()
  }

  allPaths(): AsyncIterable<[string, PathEntry]> {
    return this.paths.iterator()
  }

  getAnalysis(audioHash: string): Promise<StoredAnalysis | undefined> {
    return this.analyses.get(audioHash)
  }

  allAnalyses(): AsyncIterable<[string, StoredAnalysis]> {
    return this.analyses.iterator()
  }

  getWaveform(audioHash: string): Promise<StoredWaveform | undefined> {
    return this.waveforms.get(audioHash)
  }

  /** One track's result, written at once (a kill -9 keeps every result already written). */
  async putAnalysis(audioHash: string, record: StoredAnalysis, waveform?: StoredWaveform): Promise<void> {
    const batch = this.db.batch()
    batch.put(audioHash, record, { sublevel: this.analyses })
    if (waveform) batch.put(audioHash, waveform, { sublevel: this.waveforms })
    else batch.del(audioHash, { sublevel: this.waveforms })
    await batch.write()
  }

  getCues(audioHash: string): Promise<CueRegister[] | undefined> {
    return this.cues.get(audioHash)
  }

  allCues(): AsyncIterable<[string, CueRegister[]]> {
    return this.cues.iterator()
  }

  putCues(audioHash: string, registers: CueRegister[]): Promise<void> {
    return this.cues.put(audioHash, registers)
  }

  getNotes(audioHash: string): Promise<NoteRegister[] | undefined> {
    return this.notes.get(audioHash)
  }

  allNotes(): AsyncIterable<[string, NoteRegister[]]> {
    return this.notes.iterator()
  }

  putNotes(audioHash: string, registers: NoteRegister[]): Promise<void> {
    return this.notes.put(audioHash, registers)
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.meta.get(key)) as T | undefined
  }

  putMeta(key: string, value: unknown): Promise<void> {
    return this.meta.put(key, value)
  }

  /** Applies one atomic batch: a kill -9 leaves either all of it or none. */
  async write(ops: {
    tracks?: TrackRecord[]
    paths?: Array<[string, PathEntry]>
    deletePaths?: string[]
    pieces?: Array<[string, Uint8Array]>
  }): Promise<void> {
    const batch = this.db.batch()
    for (const t of ops.tracks ?? []) batch.put(t.sha256, t, { sublevel: this.tracks })
    for (const [p, e] of ops.paths ?? []) batch.put(p, e, { sublevel: this.paths })
    for (const p of ops.deletePaths ?? []) batch.del(p, { sublevel: this.paths })
    for (const [k, v] of ops.pieces ?? []) batch.put(k, v, { sublevel: this.pieces })
    await batch.write()
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
