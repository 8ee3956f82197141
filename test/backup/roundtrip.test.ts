// A backup of a real home restored onto a brand-new home from the phrase
// alone: roster, playlists, cues, analyses and the signed library manifests
// come back, a node started there shows them, and every refusal leaves the
// target home exactly as it was.
import test, { type ExecutionContext } from 'ava'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  addFriend, deriveOwnerSecrets, initIdentity, loadIdentity, newRecoveryPhrase, revokeDevice, saveRoster, type Identity,
} from '../../src/identity/index.ts'
import { LocalLibrary, splitAnalysis, type Cue, type CueRegister, type TrackRecord } from '../../src/library/index.ts'
import {
  addTracks, ManifestBook, ManifestStore, mergeCues, mergePlaylist, moveEntry, removeEntries, setCues, setShare, type ManifestTrack, mergeNotes, setNotes,
} from '../../src/manifest/index.ts'
import { ANALYZER_VERSION, type Analysis } from '../../src/analysis/index.ts'
import { BackupError, exportBackup, importBackup, readBackupState, type BackupErrorCode } from '../../src/backup/index.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { serveNode } from '../helpers/node-process.ts'
import { freePort } from '../helpers/ports.ts'
import { readApiToken } from '../../src/player/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const hot = (id: string, slot: Cue['slot'], position: number, name?: string): Cue => ({ id, kind: 'hot', slot, position, ...(name ? { name } : {}) })
const memory = (id: string, position: number): Cue => ({ id, kind: 'memory', position })

function analysisOf(seed: number): Analysis {
  const level = (columns: number) => ({ columns, secondsPerColumn: 2 / columns, data: Uint8Array.from({ length: columns * 4 }, (_, i) => (i * seed) & 255) })
  return {
    version: ANALYZER_VERSION, duration: 2, bpm: 120 + seed, tempoRange: { min: 85, max: 175 }, bpmConfidence: 0.8, beatOffset: 0.01 * seed,
    key: 'A minor', camelot: '8A', openKey: '1m', keyStrength: 0.7, lufs: -9.5 - seed, peakDb: -0.3, waveform: [level(128), level(1024)],
  }
}

const toManifestTrack = (t: TrackRecord): ManifestTrack => ({
  sha256: t.sha256, audioHash: t.audioHash, size: t.size, format: t.format,
  tags: Object.fromEntries(Object.entries(t.tags).filter(([k, v]) => v !== undefined && !['comment', 'codec'].includes(k))) as ManifestTrack['tags'],
})

const openBook = async (id: Identity) => ManifestBook.open({ store: await ManifestStore.open(id.home, id.circleSecret), identity: () => id })

/** A desk (admin) with three scanned tracks, analyses, cues, two playlists and a friend; a laptop (member) with its own cues and playlist edits, taken in by the desk. */
async function livedInHomes(t: ExecutionContext) {
  const root = await tempDir(t)
  const [desk, laptop] = await makeHomes(root, ['desk', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  for (const [i, name] of ['Alpha', 'Bravo', 'Charlie'].entries()) await writeTrack(join(music, `${name}.wav`), { title: name, artist: 'NATO' }, i + 1, 2)
  let deskId = await loadIdentity(desk!)
  const friend = deriveOwnerSecrets(newRecoveryPhrase())
  deskId = await saveRoster(deskId, addFriend(deskId.roster, friend.owner.publicKey, 'Sam'))
  const lapId = await loadIdentity(laptop!)
  const deskSelf = hex(deskId.device.publicKey)
  const lapSelf = hex(lapId.device.publicKey)

  const lib = await LocalLibrary.open(desk!, { circleSecret: deskId.circleSecret })
  await lib.scan([music])
  const tracks = (await lib.list()).sort((a, b) => a.tags.title!.localeCompare(b.tags.title!))
  const [A, B, C] = tracks as [TrackRecord, TrackRecord, TrackRecord]
  for (const [i, tr] of [A, B].entries()) {
    const { summary, waveform } = splitAnalysis(analysisOf(i + 1))
    await lib.putAnalysis(tr.audioHash, { version: ANALYZER_VERSION, at: Date.now(), source: 'local', result: summary }, waveform)
  }
  await lib.putAnalysis(C.audioHash, { version: ANALYZER_VERSION, at: Date.now(), source: 'local', error: { code: 'ERR_DECODE', message: 'cannot decode' } })
  const deskCues = setCues(deskSelf, new Map(), [hot('drop-0001', 'A', 32.5, 'Drop'), memory('intro-001', 0.25)])
  await lib.putCueEdits(A.audioHash, deskCues)
  const deskNotes = setNotes(deskSelf, new Map(), { grid: [{ position: 0.0123456, bpm: 139.999924, beat: 1 }], rating: 5 })
  await lib.putNoteEdits(A.audioHash, deskNotes)
  const manifestTracks = (await lib.list()).map(toManifestTrack)
  await lib.close()

  // The laptop, apart: a hot cue in the desk's slot A (settled by the merge), cues of B, its own edits of "Friday".
  const lapCues = new Map<string, CueRegister[]>([
    [A.audioHash, setCues(lapSelf, new Map(), [hot('lapdrop-01', 'A', 40)])],
    [B.audioHash, setCues(lapSelf, new Map(), [hot('loop-0001', 'B', 10), memory('outro-001', 100)])],
  ])
  const lapLib = await LocalLibrary.open(laptop!, { circleSecret: lapId.circleSecret })
  for (const [audio, regs] of lapCues) await lapLib.putCueEdits(audio, regs)
  const lapNotes = new Map([[B.audioHash, setNotes(lapSelf, new Map(), { key: 'F minor', plays: 7 })]])
  for (const [audio, regs] of lapNotes) await lapLib.putNoteEdits(audio, regs)
  await lapLib.close()
  const lapBook = await openBook(lapId)
  const ref = (tr: TrackRecord) => ({ sha256: tr.sha256, audio: tr.audioHash, title: tr.tags.title })
  await lapBook.editPlaylist('Friday', (own, merged) => addTracks(own, merged, lapSelf, [ref(C)]), { create: true })
  const lapRoot = await lapBook.publishLibrary([], lapCues, lapNotes)

  const book = await openBook(deskId)
  await book.editPlaylist('Friday', (own, merged) => addTracks(own, merged, deskSelf, [ref(A), ref(B)]), { create: true })
  t.true(await book.applyLibrary(lapRoot!.blob.data, async (id) => (await lapBook.store.getBlob(id)) ?? null, 'laptop'))
  await book.editPlaylist('Friday', (own, merged) => moveEntry(own, merged, merged.entries.at(-1)!.id, 0))
  await book.editPlaylist('Friday', (own, merged) => setShare(own, merged, hex(friend.owner.publicKey), true))
  await book.editPlaylist('Warmup', (own, merged) => addTracks(own, merged, deskSelf, [ref(A), ref(B), ref(C)]), { create: true })
  await book.editPlaylist('Warmup', (own, merged) => removeEntries(own, merged, [merged.entries[1]!.id]))
  await book.publishLibrary(manifestTracks, new Map([[A.audioHash, deskCues]]), new Map([[A.audioHash, deskNotes]]))

  const expected = {
    playlists: Object.fromEntries(['Friday', 'Warmup'].map((n) => [n, book.playlist(n)!])),
    cues: {
      [A.audioHash]: mergeCues(new Map([[deskSelf, deskCues], [lapSelf, lapCues.get(A.audioHash)!]])).cues,
      [B.audioHash]: mergeCues(new Map([[lapSelf, lapCues.get(B.audioHash)!]])).cues,
    },
    notes: {
      [A.audioHash]: { grid: [{ position: 0.0123456, bpm: 139.999924, beat: 1 }], rating: 5 },
      [B.audioHash]: { key: 'F minor', plays: 7 },
    } as Record<string, object>,
  }
  return { root, desk: desk!, laptop: laptop!, deskId, lapId, tracks: { A, B, C }, expected, friend }
}

/** Every file under a directory with its bytes (or absent). */
async function snapshot(dir: string): Promise<Record<string, string> | null> {
  try {
    await stat(dir)
  } catch {
    return null
  }
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, String(name))
    if ((await stat(p)).isFile()) out[String(name)] = (await readFile(p)).toString('base64')
  }
  return out
}

test('a backup restored onto a brand-new home brings back roster, playlists, cues, analyses and manifests; a node there shows them', async (t) => {
  const h = await livedInHomes(t)
  const { bytes, header, counts } = await exportBackup(h.desk)
  t.is(header.seq, 1)
  t.is((await readBackupState(h.desk)).seq, 1)
  t.like(counts, { playlists: 2, analyses: 3, cuedRecordings: 2, libraries: 2 })
  t.false(Buffer.from(bytes).includes(Buffer.from('Charlie')), 'nothing readable in the file')

  const fresh = join(h.root, 'new-laptop')
  const summary = await importBackup(fresh, bytes, { phrase: h.deskId.phrase!, name: 'new-laptop' })
  t.true(summary.createdIdentity)
  t.is(summary.from, 'desk')
  t.deepEqual(summary.refused, [])

  // Identity and roster: the same owner, an admin, the backed-up roster with this device added.
  const id = await loadIdentity(fresh)
  t.is(hex(id.certificate.owner), hex(h.deskId.owner!.publicKey))
  t.truthy(id.owner && id.backupKey)
  t.is(id.roster.seq, h.deskId.roster.seq + 1)
  t.deepEqual(id.roster.devices.map((c) => c.name).sort(), ['desk', 'laptop', 'new-laptop'])
  t.deepEqual(id.roster.friends.map((f) => f.name), ['Sam'])
  t.is(summary.rosterSeq, id.roster.seq)

  // Analyses and waveforms, byte for byte.
  const deskLib = await LocalLibrary.open(h.desk, { circleSecret: h.deskId.circleSecret })
  const lib = await LocalLibrary.open(fresh, { circleSecret: id.circleSecret })
  for (const tr of Object.values(h.tracks)) {
    t.deepEqual(await lib.analysisOf(tr.audioHash), await deskLib.analysisOf(tr.audioHash))
    t.deepEqual(await lib.waveformOf(tr.audioHash), await deskLib.waveformOf(tr.audioHash))
  }
  await deskLib.close()
  // Cues: this device's own registers alone show what the desk showed (so revoking the lost devices loses nothing) ...
  const self = hex(id.device.publicKey)
  const own = new Map<string, CueRegister[]>()
  for (const [audio, cues] of Object.entries(h.expected.cues)) {
    own.set(audio, await lib.cueEdits(audio))
    t.deepEqual(mergeCues(new Map([[self, own.get(audio)!]])).cues, cues)
  }
  // Notes (grid, key, rating, plays) likewise: the desk's own and the laptop's, adopted.
  for (const [audio, notes] of Object.entries(h.expected.notes)) t.deepEqual(mergeNotes(new Map([[self, await lib.noteEdits(audio)]])).notes, notes)
  await lib.close()

  // ... and so do they merged with the restored devices' manifests.
  const book = await openBook(id)
  for (const [audio, cues] of Object.entries(h.expected.cues)) {
    t.deepEqual(mergeCues(new Map([...book.cueEdits(audio), [self, own.get(audio)!]])).cues, cues)
  }
  // Playlists: merged as before; this device's adopted edits alone merge to the same.
  t.deepEqual(book.playlistNames(), ['Friday', 'Warmup'])
  // (The book's view also says who added what and the collaborators: compared as the playlist CRDT shows it.)
  const plain = (m: { clock: number; entries: unknown; shared: string[] } | undefined) => m && { clock: m.clock, entries: m.entries, shared: m.shared }
  for (const [name, merged] of Object.entries(h.expected.playlists)) {
    t.deepEqual(plain(book.playlist(name)), plain(merged))
    t.deepEqual(plain(mergePlaylist(new Map([[self, book.playlistEdits(name).get(self)!]]))), plain(merged))
  }
  t.deepEqual(book.playlist('Friday')!.shared, [hex(h.friend.owner.publicKey)])
  // The signed library manifests: the desk's tracks show as held by the (offline) desk.
  const remote = book.remoteLibraries()
  t.deepEqual(remote.map((r) => r.name).sort(), ['desk', 'laptop'])
  t.is(remote.find((r) => r.name === 'desk')!.tracks.length, 3)

  // A node started on the restored home has all of it.
  const n = await serveNode(t, fresh, ['--tracker-port', String(await freePort()), '--tracker-host', '127.0.0.1'])
  const token = (await readApiToken(fresh))!
  const get = async (path: string) => (await fetch(n.info.api + path, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>
  const friday = (await get('/api/playlists/Friday')).playlist
  t.deepEqual(friday.entries.map((e: { id: string }) => e.id), h.expected.playlists.Friday!.entries.map((e) => e.id))
  t.deepEqual((await get(`/api/cues/${h.tracks.A.audioHash}`)).cues, h.expected.cues[h.tracks.A.audioHash])
  t.deepEqual((await get(`/api/notes/${h.tracks.B.audioHash}`)).notes, h.expected.notes[h.tracks.B.audioHash])
  await n.stop()
})

async function code(p: Promise<unknown>): Promise<BackupErrorCode | undefined> {
  try {
    await p
  } catch (err) {
    if (err instanceof BackupError) return err.code
    throw err
  }
  return undefined
}

test('refusals leave the target home untouched: wrong phrase, flipped bytes, a cut, another owner, an old seq, a member home', async (t) => {
  const h = await livedInHomes(t)
  const first = (await exportBackup(h.desk)).bytes
  const second = (await exportBackup(h.desk)).bytes
  const phrase = h.deskId.phrase!

  // A new home stays nonexistent; an admin home of the same owner (init --recover) stays byte for byte.
  const fresh = join(h.root, 'fresh')
  const recovered = join(h.root, 'recovered')
  await initIdentity(recovered, { recoverPhrase: phrase, name: 'recovered' })
  const before = await snapshot(recovered)
  const untouched = async () => {
    t.is(await snapshot(fresh), null)
    t.deepEqual(await snapshot(recovered), before)
  }
  const both = async (bytes: Uint8Array, p: string, want: BackupErrorCode, label: string) => {
    t.is(await code(importBackup(fresh, bytes, { phrase: p })), want, `${label} (new home)`)
    t.is(await code(importBackup(recovered, bytes, { phrase: p })), want, `${label} (admin home)`)
    await untouched()
  }
  await both(second, newRecoveryPhrase(), 'ERR_OTHER_OWNER', 'wrong phrase')
  t.is(await code(importBackup(fresh, second, { phrase: 'not a phrase' })), 'ERR_BAD_PHRASE')
  for (const at of [3, 20, 50, 70, 86, 200, second.length - 100, second.length - 10]) {
    const copy = Buffer.from(second)
    copy[at]! ^= 0x10
    const c = await code(importBackup(fresh, copy, { phrase }))
    t.true(c !== undefined && ['ERR_MALFORMED', 'ERR_OTHER_OWNER', 'ERR_BAD_SIGNATURE', 'ERR_UNSUPPORTED_VERSION'].includes(c), `flip at ${at}: ${c}`)
  }
  await untouched()
  await both(second.subarray(0, second.length - 1), phrase, 'ERR_MALFORMED', 'a cut')

  // Another owner's backup (a valid one) restored with that owner's phrase onto our recovered home: another owner.
  const otherRoot = join(h.root, 'other')
  const otherHome = join(otherRoot, 'desk')
  const other = await initIdentity(otherHome, { name: 'other-desk' })
  const otherBytes = (await exportBackup(otherHome)).bytes
  t.is(await code(importBackup(recovered, otherBytes, { phrase: other.phrase! })), 'ERR_OTHER_OWNER')
  t.is(await code(importBackup(fresh, otherBytes, { phrase })), 'ERR_OTHER_OWNER')
  await untouched()

  // An older seq once a newer is known (from the caller, e.g. the DHT pointer, or from the home).
  t.is(await code(importBackup(fresh, first, { phrase, knownSeq: 2 })), 'ERR_REPLAY')
  await untouched()
  t.is(await code(importBackup(recovered, second, { phrase })), undefined)
  t.is((await readBackupState(recovered)).seq, 2)
  const afterRestore = await snapshot(recovered)
  t.is(await code(importBackup(recovered, first, { phrase })), 'ERR_REPLAY')
  t.deepEqual(await snapshot(recovered), afterRestore)

  // A member device's home is not restored onto.
  t.is(await code(importBackup(h.laptop, second, { phrase })), 'ERR_NOT_ADMIN')
})

test('a restored home makes the next backup above the restored seq; the roster keeps growing', async (t) => {
  const h = await livedInHomes(t)
  await exportBackup(h.desk)
  const { bytes } = await exportBackup(h.desk)
  const fresh = join(h.root, 'fresh')
  await importBackup(fresh, bytes, { phrase: h.deskId.phrase!, name: 'fresh' })
  const next = await exportBackup(fresh)
  t.is(next.header.seq, 3)
  // Restoring that onto yet another home: all three devices and the new one are listed.
  const third = join(h.root, 'third')
  await importBackup(third, next.bytes, { phrase: h.deskId.phrase!, name: 'third' })
  const id = await loadIdentity(third)
  t.deepEqual(id.roster.devices.map((c) => c.name).sort(), ['desk', 'fresh', 'laptop', 'third'])
  t.is(id.roster.seq, h.deskId.roster.seq + 2)
})

test('a node running on the target home stops the restore before the roster changes', async (t) => {
  const h = await livedInHomes(t)
  const { bytes } = await exportBackup(h.desk)
  const recovered = join(h.root, 'recovered')
  await initIdentity(recovered, { recoverPhrase: h.deskId.phrase!, name: 'recovered' })
  const n = await serveNode(t, recovered, ['--tracker-port', String(await freePort()), '--tracker-host', '127.0.0.1'])
  const identityBefore = await snapshot(join(recovered, 'identity'))
  const err = await t.throwsAsync(importBackup(recovered, bytes, { phrase: h.deskId.phrase! }))
  t.regex(err!.message, /in use by another djcloud process/)
  t.deepEqual(await snapshot(join(recovered, 'identity')), identityBefore)
  t.is((await readBackupState(recovered)).seq, 0)
  await n.stop()
  // Stopped, the same restore goes through.
  const s = await importBackup(recovered, bytes, { phrase: h.deskId.phrase! })
  t.false(s.createdIdentity)
  t.deepEqual((await loadIdentity(recovered)).roster.devices.map((c) => c.name).sort(), ['desk', 'laptop', 'recovered'])
})

test('a home whose device the backed-up roster revoked is not restored onto, and is left as it was', async (t) => {
  const h = await livedInHomes(t)
  const recovered = join(h.root, 'recovered')
  const rec = await initIdentity(recovered, { recoverPhrase: h.deskId.phrase!, name: 'recovered' })
  await saveRoster(await loadIdentity(h.desk), revokeDevice((await loadIdentity(h.desk)).roster, rec.device.publicKey))
  const { bytes } = await exportBackup(h.desk)
  const before = await snapshot(recovered)
  const err = await t.throwsAsync(importBackup(recovered, bytes, { phrase: h.deskId.phrase! }), { instanceOf: BackupError })
  t.is(err?.code, 'ERR_CONFLICT')
  t.deepEqual(await snapshot(recovered), before)
})
