// importLibrary's orchestration against an in-memory node: a dry run writes
// nothing, an import cut short by a failing node is finished by running it
// again, and a complete import run again writes nothing.
import test from 'ava'
import { importLibrary, importLibraryInto, memoryTrackPlans, spoolTrackPlans, STATE_BATCH, type LibraryTrack, type NodeAccess, type PlaylistItem, type TrackPlans } from '../../src/djimport/index.ts'
import { DjFormatError, readRekordbox, rekordboxXml, type DjLibrary, type DjTrack } from '../../src/djformats/index.ts'
import type { Cue, TrackNotes } from '../../src/library/index.ts'
import { tempDir } from '../helpers/temp.ts'

const hex = (i: number) => i.toString(16).padStart(64, '0')
const library: LibraryTrack[] = Array.from({ length: 20 }, (_, i) => ({ sha256: hex(i + 1), audioHash: hex(i + 1001), size: 1, paths: [`/m/${i}.mp3`] }))
const lib: DjLibrary = {
  format: 'traktor',
  tracks: library.map((_, i) => ({ id: `e${i}`, location: `/m/${i}.mp3`, grid: [], cues: [{ type: 'cue', slot: i % 8, positionMs: 1000 + i }] })),
  playlists: [{ type: 'folder', name: 'F', children: [{ type: 'playlist', name: 'P', entries: library.map((_, i) => ({ trackId: `e${i}` })) }] }],
  history: [],
  warnings: [],
  warningsDropped: 0,
}
const opts = { exists: () => true, platform: 'linux' as const }

/** The entries of a map that these keys name. */
const only = <V>(m: Map<string, V>, keys: readonly string[]) => new Map(keys.flatMap((k) => (m.has(k) ? [[k, m.get(k)!] as const] : [])))

function memoryNode(failPutAfter = Infinity) {
  const cues = new Map<string, Cue[]>()
  const notes = new Map<string, TrackNotes>()
  const playlists = new Map<string, PlaylistItem[]>()
  const audio = new Map(library.map((t) => [t.sha256, t.audioHash]))
  let puts = 0
  const writes: string[] = []
  const node: NodeAccess = {
    library: async () => library,
    cuesOf: async (hs) => only(cues, hs),
    notesOf: async (hs) => only(notes, hs),
    async putNotes(h, set) {
      writes.push(`notes ${h}`)
      notes.set(h, { ...notes.get(h), ...(set as TrackNotes) })
    },
    playlistNames: async () => [...playlists.keys()],
    playlist: async (name) => playlists.get(name) ?? [],
    async putCues(h, set) {
      if (++puts > failPutAfter) throw new Error('the node stopped')
      writes.push(`cues ${h}`)
      cues.set(h, set)
    },
    async createPlaylist(name) {
      writes.push(`create ${name}`)
      playlists.set(name, [])
    },
    async addToPlaylist(name, shas) {
      writes.push(`add ${name} ${shas.length}`)
      playlists.get(name)!.push(...shas.map((sha256) => ({ sha256, audioHash: audio.get(sha256)! })))
    },
  }
  return { node, cues, playlists, writes, allow: () => (failPutAfter = Infinity) }
}

test('a dry run writes nothing; a full import run again writes nothing', async (t) => {
  const m = memoryNode()
  const dry = await importLibrary(lib, m.node, { ...opts, dryRun: true })
  t.false(dry.applied)
  t.is(dry.plan.summary.cuesAdded, 20)
  t.deepEqual(m.writes, [])
  const seen: string[] = []
  const done = await importLibrary(lib, m.node, { ...opts, onProgress: (phase, n, total) => void seen.push(`${phase} ${n}/${total}`) })
  t.true(done.applied)
  t.true(seen.includes('cues 0/20') && seen.includes('cues 20/20'), 'progress is reported as the writes go out')
  t.is(m.writes.length, 22)
  t.deepEqual(m.writes.slice(-2), ['create F › P', 'add F › P 20'])
  const again = await importLibrary(lib, m.node, opts)
  t.false(again.applied)
  t.is(m.writes.length, 22)
})

test('an import cut short by a failing node is finished by running it again, and nothing is written twice', async (t) => {
  const m = memoryNode(5)
  await t.throwsAsync(importLibrary(lib, m.node, opts), { message: 'the node stopped' })
  t.is(m.cues.size, 5, 'the writes before the failure stay')
  t.is(m.playlists.size, 0)
  m.allow()
  const rest = await importLibrary(lib, m.node, opts)
  t.is(rest.plan.summary.cuesAdded, 15)
  t.is(m.cues.size, 20)
  const cueWrites = m.writes.filter((w) => w.startsWith('cues'))
  t.is(cueWrites.length, 20)
  t.is(new Set(cueWrites).size, 20)
  t.deepEqual(m.playlists.get('F › P')!.map((x) => x.sha256), library.map((x) => x.sha256))
})

test('a file read as the import goes (each entry planned as it is read, none kept) gives the plan of the whole model, and a bad file writes nothing', async (t) => {
  const whole = await importLibrary(lib, memoryNode().node, { ...opts, dryRun: true })
  const xml = rekordboxXml({ ...lib, format: 'rekordbox' })
  const asRead = (text: string) => ({
    format: 'rekordbox' as const,
    read: async (onTrack: (track: DjTrack) => void) => {
      let given = 0
      const read = await readRekordbox(text, {
        onTrack: (track) => {
          given++
          onTrack(track)
        },
      })
      t.is(read.tracks.length, 0, 'the reader keeps no tracks when they are handed on')
      t.is(given, 20)
      return read
    },
  })
  const fromFile = await importLibrary(asRead([...xml].join('')), memoryNode().node, { ...opts, dryRun: true })
  const rekordboxOnes = await importLibrary(await readRekordbox([...rekordboxXml({ ...lib, format: 'rekordbox' })].join('')), memoryNode().node, { ...opts, dryRun: true })
  t.deepEqual(fromFile.plan, rekordboxOnes.plan)
  t.is(fromFile.plan.summary.cuesAdded, whole.plan.summary.cuesAdded)
  t.is(fromFile.plan.tracks.length, 20)
  // Cut off after its collection: refused, and nothing written although every entry was planned.
  const m = memoryNode()
  const text = [...xml].join('')
  await t.throwsAsync(importLibrary(asRead(text.slice(0, text.indexOf('</COLLECTION>'))), m.node, opts), { instanceOf: DjFormatError })
  t.deepEqual(m.writes, [])
})

test('an import into a spool hands on each plan as its entry is read, applies it from the spool, and a re-import writes nothing', async (t) => {
  const dir = await tempDir(t)
  const m = memoryNode()
  const events: string[] = []
  const source = {
    format: 'traktor' as const,
    read: async (onTrack: (track: DjTrack) => void | Promise<void>) => {
      for (const track of lib.tracks) {
        events.push(`read ${track.id}`)
        await onTrack(track)
      }
      return { ...lib, tracks: [] }
    },
  }
  const watched = (spool: TrackPlans): TrackPlans => ({
    add: (p) => (events.push(`plan ${p.entryId}`), spool.add(p)),
    get length() {
      return spool.length
    },
    read: () => (events.push('read plans'), spool.read()),
    close: () => spool.close(),
  })
  const first = watched(spoolTrackPlans(dir))
  t.teardown(() => first.close())
  const done = await importLibraryInto(source, m.node, opts, first)
  t.true(done.applied)
  // 20 entries are one batch (STATE_BATCH): planned, in file order, once the last is read.
  t.deepEqual(events.slice(0, 22), [...lib.tracks.map((e) => `read ${e.id}`), 'plan e0', 'plan e1'])
  t.deepEqual(events.slice(-2), ['read plans', 'read plans'], 'cues, then notes, applied from the spool')
  t.deepEqual(done.methods, { path: 20, 'name-size-duration': 0, 'tags-duration': 0 })
  t.is(done.plan.summary.cuesAdded, 20)
  t.is(m.writes.length, 22)
  t.deepEqual(m.cues.get(library[3]!.audioHash)!.map((c) => c.slot), ['D'])
  // The same as the plan held in memory, and run again: nothing to write.
  const again = await importLibraryInto(source, m.node, opts, spoolTrackPlans(dir))
  t.false(again.applied)
  t.is(again.plan.summary.changes, 0)
  again.tracks.close()
  t.is(m.writes.length, 22)
})

test('a large file is planned in batches: djcloud\'s state read for each batch\'s recordings only, the reader held back while a batch waits', async (t) => {
  const n = STATE_BATCH * 3 + 17
  const big: LibraryTrack[] = Array.from({ length: n }, (_, i) => ({ sha256: hex(i + 1), audioHash: hex(i + 100_001), size: 1, paths: [`/b/${i}.mp3`] }))
  const have = new Map(big.map((x) => [x.audioHash, [{ id: `had-${x.audioHash.slice(-6)}`, kind: 'hot' as const, slot: 'A' as const, position: 1 }]]))
  let read = 0
  let planned = 0
  let ahead = 0
  const asked: string[][] = []
  const node: NodeAccess = {
    library: async () => big,
    async cuesOf(hs) {
      asked.push([...hs])
      await new Promise((resolve) => setImmediate(resolve)) // a node answers later
      return only(have, hs)
    },
    notesOf: async () => new Map(),
    playlistNames: async () => [],
    playlist: async () => [],
    putCues: async () => {},
    putNotes: async () => {},
    createPlaylist: async () => {},
    addToPlaylist: async () => {},
  }
  const source = {
    format: 'rekordbox' as const,
    read: async (onTrack: (track: DjTrack) => void | Promise<void>) => {
      for (let i = 0; i < n; i++) {
        read++
        ahead = Math.max(ahead, read - planned)
        // Slot A as djcloud has it, slot B new: the plan needs djcloud's cues of the recording.
        await onTrack({ id: `e${i}`, location: `/b/${i}.mp3`, grid: [], cues: [{ type: 'cue', slot: 0, positionMs: 1000 }, { type: 'cue', slot: 1, positionMs: 2000 }] })
      }
      return { format: 'rekordbox' as const, tracks: [], playlists: [], history: [], warnings: [], warningsDropped: 0 }
    },
  }
  const tracks = memoryTrackPlans()
  const counting: TrackPlans = { ...tracks, add: (p) => (planned++, tracks.add(p)), read: () => tracks.read(), close: () => tracks.close() }
  const { plan } = await importLibraryInto(source, node, { ...opts, dryRun: true }, counting)
  t.is(plan.summary.matched, n)
  t.is(plan.summary.cuesAdded, n, 'slot B added to each, slot A unchanged: each entry planned against its own recording\'s cues')
  t.is(plan.summary.cuesChanged, 0)
  t.deepEqual(tracks.list.map((p) => p.entryId), Array.from({ length: n }, (_, i) => `e${i}`), 'plans in file order')
  t.deepEqual(asked.map((a) => a.length), [STATE_BATCH, STATE_BATCH, STATE_BATCH, 17], 'one read a batch, of its recordings only')
  t.deepEqual(asked.flat(), big.map((x) => x.audioHash))
  t.true(ahead <= STATE_BATCH, `read ${ahead} entries ahead of the plans`)
})
