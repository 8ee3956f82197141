// importLibrary's orchestration against an in-memory node: a dry run writes
// nothing, an import cut short by a failing node is finished by running it
// again, and a complete import run again writes nothing.
import test from 'ava'
import { importLibrary, importLibraryInto, spoolTrackPlans, type LibraryTrack, type NodeAccess, type PlaylistItem, type TrackPlans } from '../../src/djimport/index.ts'
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

function memoryNode(failPutAfter = Infinity) {
  const cues = new Map<string, Cue[]>()
  const notes = new Map<string, TrackNotes>()
  const playlists = new Map<string, PlaylistItem[]>()
  const audio = new Map(library.map((t) => [t.sha256, t.audioHash]))
  let puts = 0
  const writes: string[] = []
  const node: NodeAccess = {
    library: async () => library,
    allCues: async () => new Map(cues),
    allNotes: async () => new Map(notes),
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
    read: async (onTrack: (track: DjTrack) => void) => {
      for (const track of lib.tracks) {
        events.push(`read ${track.id}`)
        onTrack(track)
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
  t.deepEqual(events.slice(0, 4), ['read e0', 'plan e0', 'read e1', 'plan e1'], 'planned as read, not after')
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
