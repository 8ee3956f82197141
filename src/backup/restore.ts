// Restoring a backup onto a home, from the recovery phrase and the backup
// bytes alone. Everything is checked before anything is written: the
// signature (an altered copy), the owner (another owner's backup or the wrong
// phrase), the seq (an old copy), decryption, decompression and decoding
// under caps, the roster, every signed manifest, and the joins' caps. Only
// then does the home change: the identity (made from the phrase when the
// home has none), the roster (the backed-up one plus this device), analyses
// and cue edits in the library store, and playlists and library manifests in
// the manifest store, each through that store's own API. A node started on
// the home afterwards has them and publishes them.
import {
  addDevice, deriveOwnerSecrets, hasIdentity, IdentityError, initIdentity, loadIdentity, saveRoster, verifyRoster, type Identity, type Roster,
} from '../identity/index.ts'
import { PlayBook, playsLogPath, rosterTrust } from '../plays/index.ts'
import { LocalLibrary, type CueRegister, type NoteRegister } from '../library/index.ts'
import {
  decodeManifest, ManifestBook, ManifestError, MANIFEST_LIMITS, ManifestStore, unpackBlob, type PlaylistEdits,
} from '../manifest/index.ts'
import { decodeContent, decompressContent, type CheckedContent } from './content.ts'
import { BackupError } from './errors.ts'
import { countsOf, type BackupCounts } from './export.ts'
import { openBackup, verifyBackup, type BackupHeader } from './format.ts'
import { joinCueRegisters, joinNoteRegisters, joinPlaylistEdits } from './join.ts'
import { noteBackupSeq, readBackupState } from './state.ts'

export interface ReadOptions {
  /** The last backup seq known for this owner: a backup at or below it is an old copy. */
  knownSeq?: number
  /** Our clock, ms since the epoch (default Date.now()). */
  now?: number
}

export interface ImportOptions extends ReadOptions {
  phrase: string
  /** This device's name when the home has no identity yet (default: the host name). */
  name?: string
  /**
   * An owner-signed roster found elsewhere (on the DHT, at an own device):
   * restored instead of the backed-up one when its seq is higher, so a
   * backup older than the last revocation does not bring a revoked device
   * back. Verified here under the owner key; a bad one is refused (ERR_CONTENT).
   */
  newerRoster?: Uint8Array
}

export interface ImportSummary {
  header: BackupHeader
  counts: BackupCounts
  /** The name of the device that made the backup. */
  from: string
  /** The roster seq now on the home. */
  rosterSeq: number
  /** The seq of the roster in the backup (below the restored one when a newer roster was given). */
  backupRosterSeq: number
  /** Whether the home got its identity from the phrase just now. */
  createdIdentity: boolean
  /** Manifests in the backup that the manifest book refused, with reasons (none expected). */
  refused: string[]
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function secretsOf(phrase: string) {
  try {
    return deriveOwnerSecrets(phrase)
  } catch (err) {
    if (err instanceof IdentityError) throw new BackupError('ERR_BAD_PHRASE', err.message)
    throw err
  }
}

/** Verifies, decrypts and decodes a backup with the phrase; touches nothing. */
export function readBackup(bytes: Uint8Array, phrase: string, opts: ReadOptions = {}): { header: BackupHeader; content: CheckedContent } {
  const secrets = secretsOf(phrase)
  return readWithKeys(bytes, secrets.owner.publicKey, secrets.backupKey, opts)
}

function readWithKeys(bytes: Uint8Array, owner: Uint8Array, backupKey: Uint8Array, opts: ReadOptions) {
  const header = verifyBackup(bytes, owner, opts)
  const content = decodeContent(decompressContent(openBackup(bytes, header, backupKey)), header)
  // Every signed manifest checks out against the backed-up roster before the home is touched.
  for (const [kind, list] of [['library', content.manifests.libraries], ['playlist', content.manifests.playlists]] as const) {
    for (const sha of list) {
      try {
        decodeManifest(unpackBlob(content.manifests.blobs.get(sha)!, MANIFEST_LIMITS[kind].maxBytes), {
          roster: content.rosterDecoded, expectedKind: kind, now: opts.now,
        })
      } catch (err) {
        if (err instanceof ManifestError) throw new BackupError('ERR_CONTENT', `a ${kind} manifest in the backup: ${err.message}`)
        throw err
      }
    }
  }
  return { header, content }
}

/** Every recording's cue registers in the backup, by author. */
function cueSetsByRecording(content: CheckedContent): Map<string, Map<string, CueRegister[]>> {
  const out = new Map<string, Map<string, CueRegister[]>>()
  for (const [author, sets] of content.cues) {
    for (const [audio, regs] of sets) {
      let m = out.get(audio)
      if (!m) out.set(audio, (m = new Map()))
      m.set(author, regs)
    }
  }
  return out
}

/** Every recording's note registers in the backup, by author. */
function noteSetsByRecording(content: CheckedContent): Map<string, Map<string, NoteRegister[]>> {
  const out = new Map<string, Map<string, NoteRegister[]>>()
  for (const [author, sets] of content.notes ?? []) {
    for (const [audio, regs] of sets) {
      if (!regs.length) continue
      let m = out.get(audio)
      if (!m) out.set(audio, (m = new Map()))
      m.set(author, regs)
    }
  }
  return out
}

function playlistSetsByName(content: CheckedContent): Map<string, Map<string, PlaylistEdits>> {
  const out = new Map<string, Map<string, PlaylistEdits>>()
  for (const p of content.playlists) {
    let m = out.get(p.name)
    if (!m) out.set(p.name, (m = new Map()))
    m.set(p.author, p.edits)
  }
  return out
}

/**
 * Restores a backup onto `home`: a new home (no identity: it is made from the
 * phrase, as `init --recover` does) or an admin home of the same owner. On
 * any refusal the home is left as it was.
 */
export async function importBackup(home: string, bytes: Uint8Array, opts: ImportOptions): Promise<ImportSummary> {
  const secrets = secretsOf(opts.phrase)
  const owner = secrets.owner.publicKey
  let existing: Identity | undefined
  if (await hasIdentity(home)) {
    existing = await loadIdentity(home)
    if (!Buffer.from(existing.certificate.owner).equals(owner)) {
      throw new BackupError('ERR_OTHER_OWNER', 'this home belongs to another owner than the recovery phrase; restore onto a new home')
    }
    if (!existing.owner) throw new BackupError('ERR_NOT_ADMIN', 'this home is not an admin device; restore onto a new home or an admin one (djcloud init --recover)')
  }
  const knownSeq = Math.max(opts.knownSeq ?? 0, (await readBackupState(home)).seq) || undefined
  const { header, content } = readWithKeys(bytes, owner, secrets.backupKey, { ...opts, knownSeq })
  let roster = content.rosterDecoded
  if (opts.newerRoster) {
    let newer: Roster
    try {
      newer = verifyRoster(opts.newerRoster, owner)
    } catch (err) {
      if (err instanceof IdentityError) throw new BackupError('ERR_CONTENT', `the newer roster given: ${err.message}`)
      throw err
    }
    if (newer.seq > roster.seq) roster = newer
  }
  if (existing && roster.revoked.some((k) => Buffer.from(k).equals(existing.device.publicKey))) {
    throw new BackupError('ERR_CONFLICT', 'the backed-up roster revoked this device; restore onto a new home')
  }
  // The joins, checked against one device's caps before anything is written.
  const playlistSets = playlistSetsByName(content)
  for (const sets of playlistSets.values()) joinPlaylistEdits(sets, '')
  const cueSets = cueSetsByRecording(content)
  for (const sets of cueSets.values()) joinCueRegisters(sets)

  // ---- from here on the home changes ----
  // On a home that has a library, take its lock first: a node running there (LevelDB is one
  // process's) stops the restore before the roster changes.
  let library = existing ? await LocalLibrary.open(home, { circleSecret: existing.circleSecret }) : undefined
  let id: Identity
  try {
    id = existing ?? (await initIdentity(home, { recoverPhrase: secrets.phrase, name: opts.name }))
    if (roster.seq >= id.roster.seq) {
      // The backed-up roster (devices, revocations, friends, trackers) with this device on it, one version above both.
      id = await saveRoster(id, addDevice(roster, id.certificate))
    }
    library ??= await LocalLibrary.open(home, { circleSecret: id.circleSecret })
  } catch (err) {
    await library?.close()
    throw err
  }
  const self = hex(id.device.publicKey)

  try {
    for (const a of content.analyses) {
      const have = await library.analysisOf(a.audio)
      if (have && have.version >= a.record.version) continue // never replace this analyser's (or a newer one's) result
      await library.putAnalysis(a.audio, a.record, a.waveform)
    }
    for (const [audio, sets] of cueSets) {
      const own = await library.cueEdits(audio)
      const all = new Map(sets)
      if (own.length) all.set(self, own)
      await library.putCueEdits(audio, joinCueRegisters(all))
    }
    for (const [audio, sets] of noteSetsByRecording(content)) {
      const own = await library.noteEdits(audio)
      const all = new Map(sets)
      if (own.length) all.set(self, own)
      await library.putNoteEdits(audio, joinNoteRegisters(all))
    }
  } finally {
    await library.close()
  }

  const store = await ManifestStore.open(home, id.circleSecret)
  const current = id
  const book = await ManifestBook.open({ store, identity: () => current, now: opts.now ? () => opts.now! : undefined })
  const refusedBefore = book.refusals.length
  const fromBackup = async (sha: string) => {
    const b = content.manifests.blobs.get(sha)
    return b ? Buffer.from(b) : null
  }
  for (const sha of content.manifests.libraries) await book.applyLibrary(Buffer.from(content.manifests.blobs.get(sha)!), fromBackup, 'backup')
  for (const sha of content.manifests.playlists) await book.applyPlaylist(Buffer.from(content.manifests.blobs.get(sha)!), 'backup')
  // ERR_REPLAY: a playlist manifest that a library root already brought in at that seq.
  const refused = book.refusals.slice(refusedBefore).filter((r) => r.code !== 'ERR_REPLAY').map((r) => `${r.code}: ${r.reason}`)

  for (const [name, sets] of playlistSets) {
    const exists = book.playlistNames().includes(name)
    const all = new Map([...sets, ...book.playlistEdits(name)])
    const joined = joinPlaylistEdits(all, self)
    const own = store.state.playlists[name]
    if (own && JSON.stringify(own) === JSON.stringify(joined)) continue
    await book.editPlaylist(name, () => joined, { create: !exists })
  }
  // Play-log entries: merged into the home's log, each checked (signature, device on the roster) as a sync would.
  let playsRefused = 0
  if (content.plays?.length) {
    const restored = id
    const plays = await PlayBook.open({ path: playsLogPath(home), device: id.device, trust: rosterTrust(() => restored) })
    playsRefused = (await plays.merge(content.plays)).refused.length
  }
  if (playsRefused) refused.push(`${playsRefused} play-log entries refused (not signed by a device of the roster)`)
  await noteBackupSeq(home, header.seq)
  return {
    header,
    counts: countsOf(content),
    from: content.device.name,
    rosterSeq: id.roster.seq,
    backupRosterSeq: content.rosterDecoded.seq,
    createdIdentity: !existing,
    refused,
  }
}
