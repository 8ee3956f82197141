// The restored device adopts the join of every device's edits as its own.
// Property (fixed seeds): the join alone merges to what the originals merge
// to, and so does the join merged with the originals, whatever the adopting
// device's id sorts as (below, between or above the original authors).
import test from 'ava'
import fc from 'fast-check'
import type { CueRegister, CueSlot } from '../../src/library/index.ts'
import {
  addTracks, editsFromBody, editsToBody, emptyEdits, mergeCollaborative, mergeCues, mergePlaylist, moveEntry, removeEntries, setCollaborator, setPulls, setShare,
  type PlaylistEdits,
} from '../../src/manifest/index.ts'
import { joinCueRegisters, joinPlaylistEdits } from '../../src/backup/index.ts'

const AUTHORS = ['aa', 'bb', 'cc']
const ADOPTERS = ['00', 'b5', 'ff']
const FRIENDS = ['11'.repeat(32), '22'.repeat(32)]

type Op =
  | { op: 'add'; author: number; sees: number; n: number; at: number; track: number }
  | { op: 'remove'; author: number; sees: number; pick: number }
  | { op: 'move'; author: number; sees: number; pick: number; to: number }
  | { op: 'share'; author: number; sees: number; friend: number; on: boolean }
  | { op: 'grant'; author: number; sees: number; friend: number; on: boolean }
  | { op: 'pulls'; author: number; sees: number; on: boolean }

const who = { author: fc.integer({ min: 0, max: 2 }), sees: fc.integer({ min: 0, max: 7 }) }
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), ...who, n: fc.integer({ min: 1, max: 3 }), at: fc.nat(), track: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ op: fc.constant('remove' as const), ...who, pick: fc.nat() }),
  fc.record({ op: fc.constant('move' as const), ...who, pick: fc.nat(), to: fc.nat() }),
  fc.record({ op: fc.constant('share' as const), ...who, friend: fc.integer({ min: 0, max: 1 }), on: fc.boolean() }),
  fc.record({ op: fc.constant('grant' as const), ...who, friend: fc.integer({ min: 0, max: 1 }), on: fc.boolean() }),
  fc.record({ op: fc.constant('pulls' as const), ...who, on: fc.boolean() }),
)

/** Runs edits on three devices, each seeing only some of the others' sets at the time (`sees` is a bit mask). */
function run(ops: Op[]): Map<string, PlaylistEdits> {
  const sets = new Map<string, PlaylistEdits>(AUTHORS.map((a) => [a, emptyEdits()]))
  for (const o of ops) {
    const author = AUTHORS[o.author]!
    const own = sets.get(author)!
    const view = mergePlaylist(new Map([...sets].filter(([a], i) => a === author || (o.sees >> i) & 1)))
    const n = view.entries.length
    let next: PlaylistEdits = own
    if (o.op === 'add') {
      const tracks = Array.from({ length: o.n }, (_, i) => ({ sha256: (o.track + i).toString(16).padStart(64, '0') }))
      next = addTracks(own, view, author, tracks, o.at % (n + 1))
    } else if (o.op === 'remove' && n) next = removeEntries(own, view, [view.entries[o.pick % n]!.id])
    else if (o.op === 'move' && n) next = moveEntry(own, view, view.entries[o.pick % n]!.id, o.to % n)
    else if (o.op === 'share') next = setShare(own, view, FRIENDS[o.friend]!, o.on)
    else if (o.op === 'grant') next = setCollaborator(own, mergeCollaborative(new Map([...sets].filter(([a], i) => a === author || (o.sees >> i) & 1)), new Map()), FRIENDS[o.friend]!, o.on)
    else if (o.op === 'pulls') next = setPulls(own, view, o.on)
    sets.set(author, next)
  }
  return sets
}

test('playlists: the join merges to the same playlist, alone or beside the originals', (t) => {
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
    const sets = run(ops)
    const want = mergePlaylist(sets)
    for (const self of ADOPTERS) {
      const joined = joinPlaylistEdits(sets, self)
      t.deepEqual(editsFromBody(editsToBody(joined)), joined, 'a valid edit set')
      const alone = mergePlaylist(new Map([[self, joined]]))
      t.deepEqual(alone.entries, want.entries)
      t.deepEqual(alone.shared, want.shared)
      const beside = mergePlaylist(new Map([...sets, [self, joined]]))
      t.deepEqual(beside.entries, want.entries)
      t.deepEqual(beside.shared, want.shared)
      // Collaborators and the pull rule too (a restored circle keeps its grants).
      const rules = (m: { collaborators: string[]; pulls: boolean }) => ({ collaborators: m.collaborators, pulls: m.pulls })
      const wantRules = rules(mergeCollaborative(sets, new Map()))
      t.deepEqual(rules(mergeCollaborative(new Map([[self, joined]]), new Map())), wantRules)
      t.deepEqual(rules(mergeCollaborative(new Map([...sets, [self, joined]]), new Map())), wantRules)
    }
  }), { seed: 0x1017, numRuns: 300 })
})

test('playlists: an edit made after the restore on top of the join merges as an edit of the originals would', (t) => {
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 15 }), fc.nat(), fc.nat(), (ops, pick, to) => {
    const sets = run(ops)
    const joined = joinPlaylistEdits(sets, 'ff')
    const view = mergePlaylist(sets)
    if (!view.entries.length) return
    const id = view.entries[pick % view.entries.length]!.id
    const moved = moveEntry(joined, mergePlaylist(new Map([['ff', joined]])), id, to % view.entries.length)
    // The old devices come back: the move wins over everything they did before.
    const after = mergePlaylist(new Map([...sets, ['ff', moved]]))
    t.deepEqual(after.entries, mergePlaylist(new Map([['ff', moved]])).entries)
  }), { seed: 0x2024, numRuns: 200 })
})

const IDS = ['cue-00001', 'cue-00002', 'cue-00003', 'cue-00004', 'cue-00005']
const register: fc.Arbitrary<CueRegister> = fc.record({
  id: fc.constantFrom(...IDS),
  clock: fc.integer({ min: 1, max: 4 }),
  cue: fc.option(
    fc.oneof(
      fc.record({ kind: fc.constant('hot' as const), slot: fc.constantFrom<CueSlot>('A', 'B'), position: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('memory' as const), position: fc.integer({ min: 0, max: 9 }) }),
    ),
    { nil: null },
  ),
})
const registers = fc.uniqueArray(register, { selector: (r) => r.id, maxLength: 5 })

test('cues: the join shows the same cues, alone or beside the originals, slot conflicts included', (t) => {
  fc.assert(fc.property(fc.tuple(registers, registers, registers), (regs) => {
    const sets = new Map(AUTHORS.map((a, i) => [a, regs[i]!]))
    const want = mergeCues(sets).cues
    for (const self of ADOPTERS) {
      const joined = joinCueRegisters(sets)
      t.deepEqual(mergeCues(new Map([[self, joined]])).cues, want)
      t.deepEqual(mergeCues(new Map([...sets, [self, joined]])).cues, want)
    }
  }), { seed: 0xc0e5, numRuns: 500 })
})

test('notes: the join per field is the winning write, so it shows the same notes alone or beside the originals', async (t) => {
  const { joinNoteRegisters } = await import('../../src/backup/index.ts')
  const { mergeNotes } = await import('../../src/manifest/index.ts')
  const a = 'a'.repeat(64)
  const b = 'b'.repeat(64)
  const sets = new Map([
    [a, [{ field: 'rating' as const, clock: 3, value: 4 }, { field: 'comment' as const, clock: 1, value: 'warm' }]],
    [b, [{ field: 'rating' as const, clock: 3, value: 2 }, { field: 'comment' as const, clock: 2, value: null }, { field: 'key' as const, clock: 1, value: 'A minor' }]],
  ])
  const joined = joinNoteRegisters(sets)
  const want = mergeNotes(sets).notes
  t.deepEqual(want, { key: 'A minor', rating: 2 })
  t.deepEqual(mergeNotes(new Map([['c'.repeat(64), joined]])).notes, want)
  t.deepEqual(mergeNotes(new Map([...sets, ['c'.repeat(64), joined]])).notes, want)
})
