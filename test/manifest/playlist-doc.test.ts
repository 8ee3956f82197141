// The playlist CRDT: devices edit apart, learn each other's edit sets in any
// order, and must all end with the same playlist in which nothing made apart
// was lost. Checked against an oracle that logs every write each device made.
import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'
import { generateKeyBetween } from 'fractional-indexing'
import { BencodeError, decode, encode, type BValue } from '../../src/codec/index.ts'
import { ManifestError } from '../../src/manifest/errors.ts'
import {
  addTracks, editsFromBody, editsToBody, emptyEdits, isPositionKey, mergePlaylist, moveEntry, removeEntries, setShare,
  PLAYLIST_CAPS, type MergedPlaylist, type PlaylistEdits, type TrackRef,
} from '../../src/manifest/playlist-doc.ts'

const hex = (n: number) => n.toString(16).padStart(64, '0')
const track = (n: number): TrackRef => ({ sha256: hex(n), title: `Track ${n}` })
const ids = (m: MergedPlaylist) => m.entries.map((e) => e.id)
const roundTrip = (e: PlaylistEdits) => editsFromBody(decode(encode(editsToBody(e))))

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

/** A merge, after checking it does not depend on the Map's order. */
function merge(sets: [string, PlaylistEdits][]): MergedPlaylist {
  const m = mergePlaylist(new Map(sets))
  const reversed = mergePlaylist(new Map([...sets].reverse()))
  if (JSON.stringify(m) !== JSON.stringify(reversed)) throw new Error('merge depends on the Map order')
  return m
}

// ---------------------------------------------------------------------------
// A simulation of three devices with an oracle

const AUTHORS = ['dev-b', 'dev-a', 'dev-c'] // not in sorted order on purpose
const FRIENDS = [hex(0xf1), hex(0xf2), hex(0xf3)]

type Op =
  | { kind: 'add'; device: number; count: number; at: number | null }
  | { kind: 'remove'; device: number; pick: number }
  | { kind: 'move'; device: number; pick: number; to: number }
  | { kind: 'share'; device: number; friend: number; on: boolean }
  | { kind: 'sync'; from: number; to: number }

const device = fc.integer({ min: 0, max: 2 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), device, count: fc.integer({ min: 1, max: 3 }), at: fc.option(fc.nat(), { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), device, pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('move' as const), device, pick: fc.nat(), to: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('share' as const), device, friend: fc.integer({ min: 0, max: 2 }), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: device, to: device }) },
)

interface LoggedWrite {
  pos: string
  clock: number
  author: string
}
const later = (a: { clock: number; author: string }, b: { clock: number; author: string }) =>
  a.clock !== b.clock ? a.clock > b.clock : a.author > b.author

class World {
  own: PlaylistEdits[] = AUTHORS.map(() => deepFreeze(emptyEdits()))
  /** known[i][j]: the snapshot of device j's edits that device i holds. */
  known: (PlaylistEdits | undefined)[][] = AUTHORS.map(() => AUTHORS.map(() => undefined))
  added = new Set<string>()
  removed = new Set<string>()
  writes = new Map<string, LoggedWrite[]>()
  shareWrites = new Map<string, { on: boolean; clock: number; author: string }[]>()
  tracks = 0
  /** How often the runs hit the interesting cases (checked after the property, so the generator cannot drift into trivia). */
  static stats = { concurrent: 0, respaced: 0, tiedAtEnd: 0, moveOfRemoved: 0 }

  /** What device i merges: its own set first, then the others it knows, in an order of its own. */
  sets(i: number): [string, PlaylistEdits][] {
    const out: [string, PlaylistEdits][] = [[AUTHORS[i]!, this.own[i]!]]
    for (const j of [2, 0, 1]) {
      const k = this.known[i]![j]
      if (j !== i && k) out.push([AUTHORS[j]!, k])
    }
    return out
  }

  view(i: number): MergedPlaylist {
    return merge(this.sets(i))
  }

  apply(t: ExecutionContext, op: Op): void {
    if (op.kind === 'sync') {
      if (op.from !== op.to) this.known[op.to]![op.from] = this.own[op.from]
      return
    }
    const i = op.device
    const author = AUTHORS[i]!
    const before = this.own[i]!
    const view = this.view(i)
    let after: PlaylistEdits
    const n = view.entries.length
    if (this.own.some((o, j) => j !== i && o.clock > 0 && this.known[i]![j] !== o)) World.stats.concurrent++
    if (op.kind === 'add') {
      const at = op.at === null ? undefined : op.at % (n + 1)
      const tracks = Array.from({ length: op.count }, () => track(++this.tracks))
      after = addTracks(before, view, author, tracks, at)
      const fresh = after.entries.filter((x) => !before.entries.some((y) => y.id === x.id))
      t.is(fresh.length, op.count)
      for (const x of fresh) this.added.add(x.id)
      // Local intent: the new entries sit at the index asked for, the others keep their order.
      const mine = this.mergedWith(i, after)
      const start = at ?? n
      t.deepEqual(ids(mine).slice(start, start + op.count), fresh.map((x) => x.id))
      t.deepEqual(ids(mine).filter((id) => !fresh.some((x) => x.id === id)), ids(view))
      t.deepEqual(mine.entries.slice(start, start + op.count).map((e) => e.track), tracks)
    } else if (op.kind === 'remove') {
      if (n === 0) return
      const id = view.entries[op.pick % n]!.id
      after = removeEntries(before, view, [id])
      this.removed.add(id)
      t.deepEqual(ids(this.mergedWith(i, after)), ids(view).filter((x) => x !== id))
    } else if (op.kind === 'move') {
      if (n === 0) return
      const id = view.entries[op.pick % n]!.id
      const to = op.to % n
      if (this.removed.has(id)) World.stats.moveOfRemoved++ // another device removed it, unknown here yet
      after = moveEntry(before, view, id, to)
      const expected = ids(view).filter((x) => x !== id)
      expected.splice(to, 0, id)
      t.deepEqual(ids(this.mergedWith(i, after)), expected)
    } else {
      after = setShare(before, view, FRIENDS[op.friend]!, op.on)
      t.is(this.mergedWith(i, after).shared.includes(FRIENDS[op.friend]!), op.on)
    }
    // Lamport: the op's clock is above everything the device saw.
    t.is(after.clock, Math.max(before.clock, view.clock) + 1)
    // Log what this op wrote: new adds, new or rewritten moves, share grants.
    for (const x of after.entries) if (x.clock === after.clock) this.log(x.id, { pos: x.pos, clock: x.clock, author })
    for (const m of after.moves) if (m.clock === after.clock) this.log(m.id, { pos: m.pos, clock: m.clock, author })
    if (after.moves.filter((m) => m.clock === after.clock).length > (op.kind === 'move' ? 1 : 0)) World.stats.respaced++
    for (const s of after.shares) {
      if (s.clock !== after.clock) continue
      const list = this.shareWrites.get(s.owner) ?? []
      list.push({ on: s.on, clock: s.clock, author })
      this.shareWrites.set(s.owner, list)
    }
    this.own[i] = deepFreeze(after)
  }

  mergedWith(i: number, own: PlaylistEdits): MergedPlaylist {
    return merge(this.sets(i).map(([a, e]) => [a, a === AUTHORS[i] ? own : e]))
  }

  log(id: string, w: LoggedWrite): void {
    const list = this.writes.get(id) ?? []
    list.push(w)
    this.writes.set(id, list)
  }

  learnEverything(): void {
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) this.known[i]![j] = this.own[j]
  }
}

function checkAgainstOracle(t: ExecutionContext, w: World, m: MergedPlaylist): void {
  // Nothing added is lost; everything removed stays removed; one copy of each.
  const expected = [...w.added].filter((id) => !w.removed.has(id)).sort()
  t.deepEqual([...ids(m)].sort(), expected)
  t.is(new Set(ids(m)).size, m.entries.length)
  // Each entry sits where its highest (clock, author) write put it.
  for (const e of m.entries) {
    const winner = w.writes.get(e.id)!.reduce((a, b) => (later(b, a) ? b : a))
    t.is(e.pos, winner.pos, e.id)
  }
  // Order: by pos, ties by id.
  for (let k = 1; k < m.entries.length; k++) {
    const a = m.entries[k - 1]!
    const b = m.entries[k]!
    t.true(a.pos < b.pos || (a.pos === b.pos && a.id < b.id))
  }
  // Sharing: last writer wins per friend.
  const shared = [...w.shareWrites].filter(([, ws]) => ws.reduce((a, b) => (later(b, a) ? b : a)).on).map(([o]) => o).sort()
  t.deepEqual(m.shared, shared)
}

test('three devices editing apart converge, and no addition, removal, move or share is lost', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), (ops, order) => {
      const w = new World()
      for (const op of ops) w.apply(t, op)
      w.learnEverything()
      const views = [0, 1, 2].map((i) => w.view(i))
      t.deepEqual(views[1], views[0])
      t.deepEqual(views[2], views[0])
      checkAgainstOracle(t, w, views[0]!)
      if (views[0]!.entries.some((e, k) => k > 0 && views[0]!.entries[k - 1]!.pos === e.pos)) World.stats.tiedAtEnd++
      // Any insertion order of the Map gives the same playlist.
      const shuffled = [...w.sets(0)].sort((a, b) => order[AUTHORS.indexOf(a[0])]! - order[AUTHORS.indexOf(b[0])]! || (a[0] < b[0] ? 1 : -1))
      t.deepEqual(mergePlaylist(new Map(shuffled)), views[0])
      // Every device's edits survive the wire unchanged, and merge to the same playlist after it.
      const wired = w.sets(0).map(([a, e]) => [a, roundTrip(e)] as [string, PlaylistEdits])
      t.deepEqual(wired.map(([, e]) => e), w.sets(0).map(([, e]) => e))
      t.deepEqual(mergePlaylist(new Map(wired)), views[0])
    }),
    { seed: 42, numRuns: 150 },
  )
  t.log(World.stats)
  for (const [k, v] of Object.entries(World.stats)) t.true(v > 0, `no run exercised ${k}`)
})

test('merge is idempotent: merging again, or with an edit set delivered twice, changes nothing', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 2 }), (ops, twice) => {
      const w = new World()
      for (const op of ops) w.apply(t, op)
      w.learnEverything()
      const sets = w.sets(0)
      const m = mergePlaylist(new Map(sets))
      // Frozen inputs: merging reads them only; a second merge gives the same.
      t.deepEqual(mergePlaylist(new Map(sets)), m)
      // The same set again (an echo under a second key, a copy restored elsewhere): each entry still once.
      const echoed = mergePlaylist(new Map([...sets, [`${AUTHORS[twice]}-echo`, w.own[twice]!]]))
      t.deepEqual([...ids(echoed)].sort(), [...ids(m)].sort())
      t.is(new Set(ids(echoed)).size, echoed.entries.length)
      t.deepEqual(echoed.shared, m.shared)
      // Learning a set twice (a repeated sync) changes nothing.
      w.known[1]![0] = w.own[0]
      t.deepEqual(w.view(1), m)
    }),
    { seed: 42, numRuns: 60 },
  )
})

test('merge rules on hand-built edit sets: union minus tombstones, latest (clock, author) place, ties by id, LWW shares', (t) => {
  const set = (e: Partial<PlaylistEdits>): PlaylistEdits => ({ ...emptyEdits(), ...e })
  const x = set({
    clock: 9,
    entries: [
      { id: 'z.1', track: track(1), pos: 'a0', clock: 1 },
      { id: 'z.2', track: track(2), pos: 'a5', clock: 2 },
      { id: 'z.3', track: track(3), pos: 'a6', clock: 3 },
    ],
    moves: [{ id: 'b.1', pos: 'a7', clock: 5 }],
    shares: [{ owner: FRIENDS[0]!, on: true, clock: 4 }, { owner: FRIENDS[1]!, on: true, clock: 9 }],
  })
  const y = set({
    clock: 9,
    entries: [
      { id: 'b.1', track: track(4), pos: 'a0', clock: 1 },
      { id: 'z.2', track: track(5), pos: 'a1', clock: 2 }, // the same id from a second set: one copy
    ],
    moves: [{ id: 'b.1', pos: 'a8', clock: 5 }, { id: 'gone.1', pos: 'a2', clock: 6 }],
    removed: ['z.3', 'never.seen'],
    shares: [{ owner: FRIENDS[0]!, on: false, clock: 4 }, { owner: FRIENDS[1]!, on: false, clock: 8 }],
  })
  for (const m of [mergePlaylist(new Map([['x', x], ['y', y]])), mergePlaylist(new Map([['y', y], ['x', x]]))]) {
    t.is(m.clock, 9)
    // z.1 and b.1's add tie on 'a0' but b.1 was moved; at clock 5 author y beats x: b.1 goes to 'a8'.
    // z.2: clock 2 from both sets, author y wins the place ('a1') and the track.
    t.deepEqual(m.entries, [
      { id: 'z.1', track: track(1), pos: 'a0' },
      { id: 'z.2', track: track(5), pos: 'a1' },
      { id: 'b.1', track: track(4), pos: 'a8' },
    ])
    // FRIENDS[0]: clock 4 on both, y beats x (off); FRIENDS[1]: x's clock 9 beats y's 8 (on).
    t.deepEqual(m.shared, [FRIENDS[1]])
  }
  // Two entries on one key are ordered by id, not by author or Map order.
  const p = set({ clock: 1, entries: [{ id: 'z.1', track: track(1), pos: 'a0', clock: 1 }] })
  const q = set({ clock: 1, entries: [{ id: 'b.1', track: track(2), pos: 'a0', clock: 1 }] })
  t.deepEqual(ids(mergePlaylist(new Map([['a', p], ['b', q]]))), ['b.1', 'z.1'])
  t.deepEqual(ids(mergePlaylist(new Map([['b', q], ['a', p]]))), ['b.1', 'z.1'])
})

// ---------------------------------------------------------------------------
// Concurrent moves and removals

/** Device a adds `n` tracks and everyone learns them. */
function base(n: number) {
  let a = emptyEdits()
  a = addTracks(a, mergePlaylist(new Map([['a', a]])), 'a', Array.from({ length: n }, (_, i) => track(i + 1)))
  return { a, b: emptyEdits(), c: emptyEdits() }
}
const mergeOf = (sets: Record<string, PlaylistEdits>) => mergePlaylist(new Map(Object.entries(sets)))

test('concurrent moves of one entry on two devices leave one copy, at the higher (clock, author) move', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 8 }), fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
      (n, pick, toA, toB, busyA, busyB) => {
        const { a: a0, b: b0 } = base(n)
        let a = a0
        let b = b0
        const id = mergeOf({ a }).entries[pick % n]!.id
        // Apart: each does some other edits first (to vary the clocks), then moves the same entry.
        for (let k = 0; k < busyA; k++) a = setShare(a, mergeOf({ a }), FRIENDS[0]!, k % 2 === 0)
        for (let k = 0; k < busyB; k++) b = setShare(b, mergeOf({ a: a0, b }), FRIENDS[1]!, k % 2 === 0)
        const viewA = mergeOf({ a })
        const viewB = mergeOf({ a: a0, b })
        const ia = toA % n
        let ib = toB % n
        if (ib === viewB.entries.findIndex((e) => e.id === id)) ib = (ib + 1) % n // b really moves it
        a = moveEntry(a, viewA, id, ia)
        b = moveEntry(b, viewB, id, ib)
        const moveA = a.moves.find((m) => m.id === id)
        const moveB = b.moves.find((m) => m.id === id)
        t.truthy(moveB)
        const met = mergeOf({ b, a })
        t.is(ids(met).filter((x) => x === id).length, 1)
        const winner = !moveA || later({ clock: moveB!.clock, author: 'b' }, { clock: moveA.clock, author: 'a' }) ? moveB! : moveA
        t.is(met.entries.find((e) => e.id === id)!.pos, winner.pos)
        t.is(met.entries.length, n)
      },
    ),
    { seed: 42, numRuns: 200 },
  )
})

test('equal clocks: the move by the higher author id wins, whatever the Map order', (t) => {
  const { a: a0, b: b0 } = base(4)
  const start = mergeOf({ a: a0 })
  const id = start.entries[1]!.id
  const a = moveEntry(a0, start, id, 0)
  const b = moveEntry(b0, mergeOf({ a: a0, b: b0 }), id, 3)
  t.is(a.clock, b.clock)
  for (const m of [mergeOf({ a, b }), mergeOf({ b, a })]) {
    t.deepEqual(ids(m), [start.entries[0]!.id, start.entries[2]!.id, start.entries[3]!.id, id])
  }
})

test('a removal made apart wins over a concurrent move, and the entry cannot come back', (t) => {
  let { a, b } = base(5)
  const start = mergeOf({ a, b })
  const id = start.entries[2]!.id
  b = moveEntry(b, start, id, 0)
  b = moveEntry(b, mergeOf({ a, b }), id, 4) // b's move is later by clock than a's removal
  a = removeEntries(a, mergeOf({ a }), [id])
  t.true(b.clock > a.clock)
  const met = mergeOf({ b, a })
  t.false(ids(met).includes(id))
  t.is(met.entries.length, 4)
  // b, having learned the removal, can no longer move it.
  t.throws(() => moveEntry(b, met, id, 0), { message: /no entry/ })
  // a's own record of the entry went with the removal; the tombstone remains.
  t.false(a.entries.some((x) => x.id === id))
  t.deepEqual(a.removed, [id])
})

test('additions made apart at the same place are all kept, and a later insert between them lands where asked', (t) => {
  let { a, b, c } = base(2)
  const start = mergeOf({ a })
  // All three insert at index 1 while apart: the same key is generated three times.
  a = addTracks(a, start, 'a', [track(100)], 1)
  b = addTracks(b, start, 'b', [track(200)], 1)
  c = addTracks(c, start, 'c', [track(300)], 1)
  let met = mergeOf({ a, b, c })
  t.is(met.entries.length, 5)
  const tied = met.entries.slice(1, 4)
  t.is(new Set(tied.map((e) => e.pos)).size, 1, 'the three share one key')
  t.deepEqual(tied.map((e) => e.track.sha256), [hex(100), hex(200), hex(300)])
  // Inserting between two tied entries re-keys the tail of the tie and lands where asked.
  b = addTracks(b, met, 'b', [track(400)], 2)
  met = mergeOf({ a, b, c })
  t.deepEqual(met.entries.map((e) => e.track.sha256), [hex(1), hex(100), hex(400), hex(200), hex(300), hex(2)])
  // Moving into the tie too.
  c = moveEntry(c, met, met.entries[5]!.id, 2)
  met = mergeOf({ a, b, c })
  t.deepEqual(met.entries.map((e) => e.track.sha256), [hex(1), hex(100), hex(2), hex(400), hex(200), hex(300)])
})

test('a thousand inserts at one spot keep every key within 128 characters and the order asked for', (t) => {
  let e = emptyEdits()
  let m = mergePlaylist(new Map([['a', e]]))
  e = addTracks(e, m, 'a', [track(0), track(1)])
  const expected = [hex(0), hex(1)]
  for (let k = 2; k < 1000; k++) {
    m = mergePlaylist(new Map([['a', e]]))
    e = addTracks(e, m, 'a', [track(k)], 1)
    expected.splice(1, 0, hex(k))
  }
  m = mergePlaylist(new Map([['a', e]]))
  t.deepEqual(m.entries.map((x) => x.track.sha256), expected)
  t.true(m.entries.every((x) => x.pos.length <= 128 && isPositionKey(x.pos)))
  t.true(e.moves.length > 0, 'some neighbours were re-keyed')
  t.deepEqual(roundTrip(e), e)
})

// ---------------------------------------------------------------------------
// Operations

test('operations stamp the Lamport clock, never mutate their inputs, and refuse bad arguments', (t) => {
  const own = deepFreeze(emptyEdits())
  const other = deepFreeze({ ...emptyEdits(), clock: 41 })
  const m = deepFreeze(mergePlaylist(new Map([['a', own], ['b', other]])))
  t.is(m.clock, 41)
  const added = addTracks(own, m, 'a', [{ sha256: hex(7).toUpperCase(), title: 'x', duration: 200.0004 }])
  t.is(added.clock, 42)
  t.deepEqual(added.entries, [{ id: 'a.0', track: { sha256: hex(7), title: 'x', duration: 200 }, pos: 'a0', clock: 42 }])
  t.is(added.next, 1)
  t.deepEqual(own, emptyEdits())
  const shared = setShare(added, mergePlaylist(new Map([['a', added], ['b', other]])), FRIENDS[0]!, true)
  t.deepEqual(shared.shares, [{ owner: FRIENDS[0], on: true, clock: 43 }])
  const unshared = setShare(shared, mergePlaylist(new Map([['a', shared]])), FRIENDS[0]!, false)
  t.deepEqual(unshared.shares, [{ owner: FRIENDS[0], on: false, clock: 44 }])

  const m2 = mergePlaylist(new Map([['a', added]]))
  t.throws(() => moveEntry(added, m2, 'nope.1', 0), { message: /no entry "nope\.1"/ })
  t.throws(() => moveEntry(added, m2, 'a.0', 1), { message: /out of range/ })
  t.throws(() => moveEntry(added, m2, 'a.0', -1), { message: /out of range/ })
  t.throws(() => addTracks(added, m2, 'a', [track(1)], 2), { message: /out of range/ })
  t.throws(() => addTracks(added, m2, 'a', [{ sha256: 'abc' }]), { message: /sha256/ })
  t.throws(() => addTracks(added, m2, 'a b', [track(1)]), { message: /author/ })
  t.throws(() => addTracks({ ...added, next: 0 }, m2, 'a', [track(1)]), { message: /already taken/ })
  t.throws(() => removeEntries(added, m2, ['a.9']), { message: /no entry/ })
  t.throws(() => setShare(added, m2, 'zz', true), { message: /64 hex/ })
  // Removing twice is harmless.
  const gone = removeEntries(added, m2, ['a.0'])
  t.deepEqual(removeEntries(gone, mergePlaylist(new Map([['a', gone]])), ['a.0']).removed, ['a.0'])
})

test('long titles are cut to 512 bytes on a character boundary', (t) => {
  const e = addTracks(emptyEdits(), mergePlaylist(new Map()), 'a', [{ sha256: hex(1), title: 'é'.repeat(300), artist: 'x'.repeat(600) }])
  const tr = e.entries[0]!.track
  t.is(tr.title, 'é'.repeat(256))
  t.is(tr.artist, 'x'.repeat(512))
  t.deepEqual(roundTrip(e), e)
})

// ---------------------------------------------------------------------------
// The wire

const trackArb: fc.Arbitrary<TrackRef> = fc.record(
  {
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    audio: fc.stringMatching(/^[0-9a-f]{64}$/),
    title: fc.string({ unit: 'grapheme', maxLength: 40 }),
    artist: fc.string({ maxLength: 20 }),
    duration: fc.nat({ max: 3_600_000 }).map((ms) => ms / 1000),
  },
  { requiredKeys: ['sha256'] },
)
const keyArb = fc.constantFrom('a0', 'a1', 'Zz', 'a0V', 'b12', 'zzzzzzzzzzzzzzzzzzzzzzzzzzz', 'A00000000000000000000000001', 'a0' + 'z'.repeat(126))
const idArb = fc.stringMatching(/^[0-9a-zA-Z._-]{1,80}$/)
const editsArb: fc.Arbitrary<PlaylistEdits> = fc
  .record({
    clock: fc.nat({ max: 1000 }),
    next: fc.nat(),
    entries: fc.uniqueArray(fc.record({ id: idArb, track: trackArb, pos: keyArb, clock: fc.nat({ max: 1000 }) }), { selector: (x) => x.id, maxLength: 8 }),
    moves: fc.uniqueArray(fc.record({ id: idArb, pos: keyArb, clock: fc.nat({ max: 1000 }) }), { selector: (x) => x.id, maxLength: 8 }),
    removed: fc.uniqueArray(idArb, { maxLength: 8 }),
    shares: fc.uniqueArray(fc.record({ owner: fc.stringMatching(/^[0-9a-f]{64}$/), on: fc.boolean(), clock: fc.nat({ max: 1000 }) }), { selector: (x) => x.owner, maxLength: 4 }),
  })
  .map((e) => {
    const top = Math.max(e.clock, ...e.entries.map((x) => x.clock), ...e.moves.map((x) => x.clock), ...e.shares.map((x) => x.clock))
    return { ...e, clock: top }
  })

test('edit sets round-trip through editsToBody, bencode and editsFromBody unchanged', (t) => {
  fc.assert(
    fc.property(editsArb, (e) => {
      const body = editsToBody(e)
      t.notRegex(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'boolean' ? 'BOOLEAN' : typeof v === 'number' && !Number.isInteger(v) ? 'FLOAT' : v)), /BOOLEAN|FLOAT/)
      t.deepEqual(roundTrip(e), e)
      // The plain body (JS strings, before the wire) reads the same.
      t.deepEqual(editsFromBody(body), e)
    }),
    { seed: 42, numRuns: 300 },
  )
})

/** A valid edit set with every kind of record: entries (one with every track field), a move, a share, a removal. */
function valid(): PlaylistEdits {
  const view = (e: PlaylistEdits) => mergePlaylist(new Map([['dev', e]]))
  let e = addTracks(emptyEdits(), view(emptyEdits()), 'dev', [{ sha256: hex(1), audio: hex(2), title: 'T', artist: 'A', duration: 1.5 }, track(2), track(3)])
  e = moveEntry(e, view(e), 'dev.1', 0)
  e = setShare(e, view(e), FRIENDS[0]!, true)
  return removeEntries(e, view(e), ['dev.2'])
}
/** A decoded body, loosely typed so the cases below can break it anywhere. */
type Body = { [k: string]: any }
/** The decoded (wire) form of the valid body, for mutation. */
const wire = (): Body => decode(encode(editsToBody(valid()))) as Body
const enc = (s: string) => new TextEncoder().encode(s)

function refused(t: ExecutionContext, body: unknown, label: string, message?: RegExp): void {
  const err = t.throws(() => editsFromBody(body), { instanceOf: ManifestError }, label)
  t.is(err?.code, 'ERR_MALFORMED', label)
  t.false(/\n/.test(err?.message ?? ''), `${label}: one line`)
  if (message) t.regex(err?.message ?? '', message, label)
}

test('hostile bodies are refused with ERR_MALFORMED, one rule at a time', (t) => {
  t.deepEqual(editsFromBody(wire()), valid())
  const cases: [string, (b: Body) => unknown, RegExp?][] = [
    ['not a dict (list)', () => []],
    ['not a dict (bytes)', () => enc('x')],
    ['not a dict (null)', () => null],
    ['not a dict (Map)', () => new Map()],
    ['unknown top field', (b) => ({ ...b, extra: 1 }), /unknown field/],
    ['missing entries', (b) => ({ ...b, entries: undefined }), /missing "entries"/],
    ['negative clock', (b) => ({ ...b, clock: -1 }), /clock/],
    ['float clock', (b) => ({ ...b, clock: 1.5 }), /clock/],
    ['unsafe clock', (b) => ({ ...b, clock: 2 ** 53 }), /clock/],
    ['bigint clock', (b) => ({ ...b, clock: 2n ** 60n }), /clock/],
    ['text clock', (b) => ({ ...b, clock: enc('5') }), /clock/],
    ['negative next', (b) => ({ ...b, next: -1 }), /next/],
    ['stamp above the clock', (b) => { b.entries[0].clock = b.clock + 1; return b }, /above the edit set's clock/],
    ['move stamp above the clock', (b) => { b.moves[0].clock = b.clock + 1; return b }, /above/],
    ['share stamp above the clock', (b) => { b.shares[0].clock = b.clock + 1; return b }, /above/],
    ['entries not a list', (b) => ({ ...b, entries: {} }), /expected a list/],
    ['entries over the cap', (b) => ({ ...b, entries: new Array(PLAYLIST_CAPS.entries + 1).fill(b.entries[0]) }), /more than 10000/],
    ['moves over the cap', (b) => ({ ...b, moves: new Array(PLAYLIST_CAPS.moves + 1).fill(b.moves[0]) }), /more than 10000/],
    ['removed over the cap', (b) => ({ ...b, removed: new Array(PLAYLIST_CAPS.removed + 1).fill(enc('x')) }), /more than 20000/],
    ['shares over the cap', (b) => ({ ...b, shares: new Array(PLAYLIST_CAPS.shares + 1).fill(b.shares[0]) }), /more than 256/],
    ['entry not a dict', (b) => { b.entries[0] = enc('x'); return b }, /dictionary/],
    ['unknown entry field', (b) => { b.entries[0].x = 1; return b }, /unknown field/],
    ['entry id with a space', (b) => { b.entries[0].id = enc('a b'); return b }, /entry id/],
    ['empty entry id', (b) => { b.entries[0].id = enc(''); return b }, /entry id/],
    ['entry id of 81 chars', (b) => { b.entries[0].id = enc('a'.repeat(81)); return b }, /longer than 80/],
    ['non-ASCII entry id', (b) => { b.entries[0].id = 'é'; return b }, /entry id/],
    ['entry id not UTF-8', (b) => { b.entries[0].id = new Uint8Array([0xff]); return b }, /not UTF-8/],
    ['entry id an integer', (b) => { b.entries[0].id = 5; return b }, /expected text/],
    ['duplicate entry ids', (b) => { b.entries[1].id = b.entries[0].id; return b }, /duplicate entry id/],
    ['second move of one entry', (b) => ({ ...b, moves: [b.moves[0], b.moves[0]] }), /second move/],
    ['removed twice', (b) => ({ ...b, removed: [enc('x.1'), enc('x.1')] }), /twice/],
    ['bad removed id', (b) => ({ ...b, removed: [enc('x/1')] }), /entry id/],
    ['two grants for one friend', (b) => ({ ...b, shares: [b.shares[0], b.shares[0]] }), /second grant/],
    ['empty pos', (b) => { b.entries[0].pos = enc(''); return b }, /position key/],
    ['pos too short for its head', (b) => { b.entries[0].pos = enc('b0'); return b }, /position key/],
    ['pos with a trailing zero', (b) => { b.entries[0].pos = enc('a0V0'); return b }, /position key/],
    ['pos the smallest integer', (b) => { b.entries[0].pos = enc(`A${'0'.repeat(26)}`); return b }, /position key/],
    ['pos with a bad head', (b) => { b.entries[0].pos = enc('00'); return b }, /position key/],
    ['pos with a non-base-62 digit', (b) => { b.entries[0].pos = enc('a0-'); return b }, /position key/],
    ['pos over 128 chars', (b) => { b.moves[0].pos = enc(`a0${'V'.repeat(127)}`); return b }, /longer than 128/],
    ['track not a dict', (b) => { b.entries[0].track = []; return b }, /dictionary/],
    ['track without sha256', (b) => { delete b.entries[0].track.sha256; return b }, /missing "sha256"/],
    ['unknown track field', (b) => { b.entries[0].track.bpm = 120; return b }, /unknown field/],
    ['sha256 of 63 hex', (b) => { b.entries[0].track.sha256 = enc('a'.repeat(63)); return b }, /hex/],
    ['sha256 in upper case', (b) => { b.entries[0].track.sha256 = enc('A'.repeat(64)); return b }, /hex/],
    ['sha256 not hex', (b) => { b.entries[0].track.sha256 = enc('g'.repeat(64)); return b }, /hex/],
    ['sha256 as 32 raw bytes', (b) => { b.entries[0].track.sha256 = new Uint8Array(32); return b }, /hex/],
    ['audio not hex', (b) => { b.entries[0].track.audio = enc('z'.repeat(64)); return b }, /audio/],
    ['title of 513 bytes', (b) => { b.entries[0].track.title = enc('x'.repeat(513)); return b }, /longer than 512/],
    ['title of 257 two-byte chars', (b) => { b.entries[0].track.title = 'é'.repeat(257); return b }, /longer than 512/],
    ['title not UTF-8', (b) => { b.entries[0].track.title = new Uint8Array([0xc3]); return b }, /not UTF-8/],
    ['title with a lone surrogate', (b) => { b.entries[0].track.title = '\ud800'; return b }, /Unicode/],
    ['artist an integer', (b) => { b.entries[0].track.artist = 3; return b }, /artist/],
    ['negative duration', (b) => { b.entries[0].track.durationMs = -1; return b }, /durationMs/],
    ['float duration', (b) => { b.entries[0].track.durationMs = 1.5; return b }, /durationMs/],
    ['share owner not hex', (b) => { b.shares[0].owner = enc('x'.repeat(64)); return b }, /owner/],
    ['share on = 2', (b) => { b.shares[0].on = 2; return b }, /on must be 0 or 1/],
    ['share on as text', (b) => { b.shares[0].on = enc('1'); return b }, /on must be 0 or 1/],
    ['share without a clock', (b) => { delete b.shares[0].clock; return b }, /missing "clock"/],
  ]
  for (const [label, mutate, message] of cases) refused(t, mutate(wire()), label, message)
})

test('limits are inclusive: 80-char ids, 128-char keys, 512-byte titles and full caps are accepted', (t) => {
  const b = wire()
  b.entries[0].id = enc('a'.repeat(80))
  b.moves[0].pos = enc(`a0${'V'.repeat(126)}`)
  b.entries[0].track.title = 'é'.repeat(256)
  b.removed = Array.from({ length: PLAYLIST_CAPS.removed }, (_, i) => enc(`r.${i}`))
  b.shares = Array.from({ length: PLAYLIST_CAPS.shares }, (_, i) => ({ owner: enc(hex(i)), on: 1, clock: 1 }))
  const e = editsFromBody(b)
  t.is(e.entries[0]!.id.length, 80)
  t.is(e.moves[0]!.pos.length, 128)
  t.is(e.removed.length, PLAYLIST_CAPS.removed)
  t.is(e.shares.length, PLAYLIST_CAPS.shares)
  const many = { ...wire(), entries: Array.from({ length: PLAYLIST_CAPS.entries }, (_, i) => ({ id: `e.${i}`, pos: 'a0', clock: 1, track: { sha256: hex(i) } })) }
  t.is(editsFromBody(many).entries.length, PLAYLIST_CAPS.entries)
})

test('a position key is accepted exactly when fractional-indexing can build on it', (t) => {
  const chars = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-'.split('')
  const keyish = fc.oneof(
    fc.string({ unit: fc.constantFrom(...chars), maxLength: 6 }),
    fc.tuple(fc.constantFrom('a', 'b', 'z', 'Z', 'Y', 'A'), fc.string({ unit: fc.constantFrom('0', '1', 'V', 'z'), maxLength: 30 })).map(([h, r]) => h + r),
    fc.string({ unit: fc.constantFrom('0', 'z', 'A', 'a'), minLength: 120, maxLength: 135 }),
  )
  fc.assert(
    fc.property(keyish, keyish, (k1, k2) => {
      for (const k of [k1, k2]) {
        let libraryOk = /^[0-9A-Za-z]{1,128}$/.test(k)
        if (libraryOk) {
          try {
            generateKeyBetween(k, null)
          } catch {
            libraryOk = false
          }
        }
        t.is(isPositionKey(k), libraryOk, k)
      }
      if (isPositionKey(k1) && isPositionKey(k2) && k1 !== k2) {
        const [lo, hi] = k1 < k2 ? [k1, k2] : [k2, k1]
        const mid = generateKeyBetween(lo, hi)
        t.true(lo < mid && mid < hi)
        t.true(generateKeyBetween(null, lo) < lo)
      }
    }),
    { seed: 42, numRuns: 3000 },
  )
})

test('whatever a peer sends, editsFromBody returns a valid edit set or throws ManifestError', (t) => {
  const bytes = encode(editsToBody(valid()))
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything().map((v) => ({ kind: 'value' as const, v })),
        fc.record({ at: fc.nat(), len: fc.integer({ min: 0, max: 8 }), ins: fc.uint8Array({ maxLength: 8 }) }).map((m) => ({ kind: 'bytes' as const, m })),
      ),
      (input) => {
        let body: unknown
        if (input.kind === 'value') body = input.v
        else {
          const at = input.m.at % (bytes.length + 1)
          const mutated = Buffer.concat([bytes.subarray(0, at), input.m.ins, bytes.subarray(Math.min(bytes.length, at + input.m.len))])
          try {
            body = decode(mutated) as BValue
          } catch (err) {
            if (err instanceof BencodeError) return
            throw err
          }
        }
        let e: PlaylistEdits
        try {
          e = editsFromBody(body)
        } catch (err) {
          t.true(err instanceof ManifestError && err.code === 'ERR_MALFORMED', String(err))
          return
        }
        // Accepted: it survives the wire unchanged and merges, and an op can build on it.
        t.deepEqual(roundTrip(e), e)
        const m = mergePlaylist(new Map([['x', e]]))
        if (m.entries.length > 0) t.notThrows(() => moveEntry(emptyEdits(), m, m.entries[0]!.id, m.entries.length - 1))
      },
    ),
    { seed: 42, numRuns: 1500 },
  )
})
