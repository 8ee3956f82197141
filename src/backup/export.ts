// Making a backup of a home: everything the owner would lose with every
// device (roster, playlists, cues, analyses, the signed library manifests)
// gathered into one content (content.ts), compressed and sealed (format.ts).
// Only an admin device can: it holds the owner key (to sign) and the backup
// key (to encrypt). Opens the home's library and manifest store, so no node
// may run on the home meanwhile (LevelDB takes one process).
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { homePaths } from '../home.ts'
import { loadIdentity, type Identity } from '../identity/index.ts'
import { playsLogPath, readLogFile } from '../plays/index.ts'
import { LocalLibrary, type CueRegister, type NoteRegister, type StoredAnalysis } from '../library/index.ts'
import {
  decodeLibraryPage, decodeManifest, LIBRARY_CAPS, ManifestBook, ManifestError, MANIFEST_LIMITS, ManifestStore, rootFromBody, rootPageCount, unpackBlob,
} from '../manifest/index.ts'
import { compressContent, decodeContent, encodeContent, type BackupAnalysis, type BackupContent, type BackupPlaylistSet } from './content.ts'
import { BackupError } from './errors.ts'
import { parseHeader, sealBackup, type BackupHeader } from './format.ts'
import { noteBackupSeq, readBackupState } from './state.ts'

export interface ExportOptions {
  /** Our clock, ms since the epoch (default Date.now()). */
  now?: number
  /** The seq to use when above the home's own (e.g. one above the DHT pointer's); default the home's plus one. */
  atLeast?: number
}

/** A home's stores, open already (a running node's). */
export interface OpenStores {
  identity: Identity
  library: LocalLibrary
  store: ManifestStore
  book: ManifestBook
}

export interface BackupCounts {
  /** Playlists, and the (playlist, device) edit sets behind them. */
  playlists: number
  playlistSets: number
  /** Recordings with cue registers (over all devices). */
  cuedRecordings: number
  analyses: number
  /** Play-log entries (plays and removals of every own device). */
  plays: number
  /** Signed library manifests (one per own device this one knew). */
  libraries: number
  blobs: number
}

export interface ExportResult {
  bytes: Uint8Array
  header: BackupHeader
  counts: BackupCounts
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export function countsOf(c: BackupContent): BackupCounts {
  const recordings = new Set<string>()
  for (const sets of c.cues.values()) for (const audio of sets.keys()) recordings.add(audio)
  return {
    playlists: new Set(c.playlists.map((p) => p.name)).size,
    playlistSets: c.playlists.length,
    cuedRecordings: recordings.size,
    analyses: c.analyses.length,
    plays: c.plays?.length ?? 0,
    libraries: c.manifests.libraries.length,
    blobs: c.manifests.blobs.size,
  }
}

/** Makes the next backup of an admin home and remembers its seq there (opens the home's stores: no node may run on it). */
export async function exportBackup(home: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const now = opts.now ?? Date.now()
  const id = await loadIdentity(home)
  adminOnly(id)
  const library = await LocalLibrary.open(home, { circleSecret: id.circleSecret })
  try {
    const store = await ManifestStore.open(home, id.circleSecret)
    const book = await ManifestBook.open({ store, identity: () => id, now: () => now })
    return await exportFromStores(home, { identity: id, library, store, book }, opts)
  } finally {
    await library.close()
  }
}

function adminOnly(id: Identity): asserts id is Identity & { owner: NonNullable<Identity['owner']>; backupKey: NonNullable<Identity['backupKey']> } {
  if (!id.owner || !id.backupKey) {
    throw new BackupError('ERR_NOT_ADMIN', 'only an admin device (one holding the owner and backup keys) can make a backup')
  }
}

/** Makes the next backup from stores open already (a running node's), and remembers its seq on the home. */
export async function exportFromStores(home: string, src: OpenStores, opts: ExportOptions = {}): Promise<ExportResult> {
  const now = opts.now ?? Date.now()
  const id = src.identity
  adminOnly(id)
  const self = hex(id.device.publicKey)

  // The library store: analyses with their waveforms, this device's cue edits.
  const analyses: BackupAnalysis[] = []
  const cues = new Map<string, Map<string, CueRegister[]>>()
  const notes = new Map<string, Map<string, NoteRegister[]>>()
  const library = src.library
  {
    const records: Array<[string, StoredAnalysis]> = []
    for await (const entry of library.allAnalyses()) records.push(entry)
    for (const [audio, record] of records) {
      const waveform = await library.waveformOf(audio)
      analyses.push(waveform ? { audio, record, waveform } : { audio, record })
    }
    const own = await library.allCueEdits()
    if (own.size) cues.set(self, own)
    const ownNotes = await library.allNoteEdits()
    if (ownNotes.size) notes.set(self, ownNotes)
  }

  // The manifest store: every edit set of every playlist, the signed manifests and their blobs.
  const store = src.store
  const book = src.book
  const playlists: BackupPlaylistSet[] = []
  for (const name of book.playlistNames()) {
    for (const [author, edits] of book.playlistEdits(name)) playlists.push({ name, author, edits })
  }
  const blobs = new Map<string, Uint8Array>()
  const libraries: string[] = []
  const playlistManifests: string[] = []
  const rootIds: string[] = []
  for (const [key, pub] of [...Object.entries(store.state.own), ...Object.entries(store.state.known)]) {
    if (key === 'library' || key.startsWith('library:')) rootIds.push(pub.root)
    else if (key.startsWith('playlist:')) playlistManifests.push(pub.root)
  }
  for (const root of rootIds) {
    const got = await readLibrary(store, root, id.roster, now)
    if (!got) continue // a root whose blobs are not all here cannot be restored: the rest of the backup still is
    for (const [sha, data] of got.blobs) blobs.set(sha, data)
    libraries.push(root)
    if (got.device !== self && got.cues.size) cues.set(got.device, got.cues)
    if (got.device !== self && got.notes.size) notes.set(got.device, got.notes)
  }
  const keptPlaylists: string[] = []
  for (const sha of playlistManifests) {
    const data = await store.getBlob(sha)
    if (!data || sha256(data) !== sha) continue
    blobs.set(sha, data)
    keptPlaylists.push(sha)
  }

  // The play log as it is on disk now (a node may be appending: a torn tail is left to it).
  const plays = (await readLogFile(playsLogPath(home), { cut: false })).lines

  const seq = Math.max((await readBackupState(home)).seq + 1, opts.atLeast ?? 0)
  const content: BackupContent = {
    owner: id.owner.publicKey,
    seq,
    created: now,
    device: { key: id.device.publicKey, name: id.certificate.name },
    roster: await rosterBytes(home),
    playlists,
    cues,
    ...(notes.size ? { notes } : {}),
    ...(plays.length ? { plays } : {}),
    analyses,
    manifests: { libraries, playlists: keptPlaylists, blobs },
  }
  const plain = encodeContent(content)
  // Never make what a restore would refuse (a cap, say): read it back first, as the restoring device will.
  decodeContent(plain, { owner: id.owner.publicKey, seq, created: now })
  const bytes = sealBackup(compressContent(plain), { owner: id.owner, backupKey: id.backupKey, seq, created: now })
  await noteBackupSeq(home, seq)
  return { bytes, header: parseHeader(bytes, now), counts: countsOf(content) }
}

/** The roster exactly as the owner signed it (as loadIdentity verified it). */
function rosterBytes(home: string): Promise<Uint8Array> {
  return readFile(join(homePaths(home).identity, 'roster'))
}

/** A stored library root with every page and playlist blob it names, and the cues on its pages; null if anything is missing. */
async function readLibrary(
  store: ManifestStore, root: string, roster: Parameters<typeof decodeManifest>[1]['roster'], now: number,
): Promise<{ device: string; blobs: Map<string, Uint8Array>; cues: Map<string, CueRegister[]>; notes: Map<string, NoteRegister[]> } | null> {
  const blobs = new Map<string, Uint8Array>()
  const get = async (sha: string) => {
    const data = await store.getBlob(sha)
    if (!data || sha256(data) !== sha) return null
    blobs.set(sha, data)
    return data
  }
  try {
    const data = await get(root)
    if (!data) return null
    const m = decodeManifest(unpackBlob(data, MANIFEST_LIMITS.library.maxBytes), { roster, expectedKind: 'library', now })
    const r = rootFromBody(m.body)
    const pageCount = rootPageCount(r)
    const cues = new Map<string, CueRegister[]>()
    const notes = new Map<string, NoteRegister[]>()
    for (const [i, page] of r.pages.entries()) {
      const p = await get(page)
      if (!p) return null
      const read = decodeLibraryPage(unpackBlob(p, LIBRARY_CAPS.pageBytes), i, pageCount)
      for (const [audio, regs] of read.cues) if (regs.length) cues.set(audio, regs)
      for (const [audio, regs] of read.notes) if (regs.length) notes.set(audio, regs)
    }
    for (const ref of r.playlists) if (!(await get(ref.blob))) return null
    return { device: hex(m.signer), blobs, cues, notes }
  } catch (err) {
    if (err instanceof ManifestError) return null
    throw err
  }
}
