// Collaborative playlists: which edit sets count, and that every device of
// both circles merges to the same playlist whatever it learnt in what order.
import test from 'ava'
import fc from 'fast-check'
import { decode, encode } from '../../src/codec/index.ts'
import {
  foreignClaims, mergeCollaborative, ownerScope, setCollaborator, setPulls, checkGuestEdits, type CollabPlaylist, type GuestEdits,
} from '../../src/manifest/collab-doc.ts'
import {
  addTracks, editsFromBody, editsToBody, emptyEdits, moveEntry, removeEntries, setShare, type PlaylistEdits, type TrackRef,
} from '../../src/manifest/playlist-doc.ts'

const hex = (n: number) => n.toString(16).padStart(64, '0')
const track = (n: number): TrackRef => ({ sha256: hex(n), title: `Track ${n}` })
const A = hex(0xa0) // the playlist's owner
const B = hex(0xb0) // the collaborator
const C = hex(0xc0) // a friend who is not a collaborator
// Device keys (hex strings, as the node uses them); sorted differently from their circles on purpose.
const A1 = 'a1'.repeat(32)
const A2 = '0a'.repeat(32)
const B1 = 'b1'.repeat(32)
const B2 = 'fb'.repeat(32)
const C1 = 'c1'.repeat(32)
const OWNER_OF: Record<string, string> = { [A1]: A, [A2]: A, [B1]: B, [B2]: B, [C1]: C }

/** What one device knows: the newest edit set of each device (with a version). */
type Known = Map<string, { v: number; edits: PlaylistEdits }>

function view(known: Known): CollabPlaylist {
  const own = new Map<string, PlaylistEdits>()
  const guests = new Map<string, GuestEdits>()
  for (const [d, k] of known) {
    if (OWNER_OF[d] === A) own.set(d, k.edits)
    else guests.set(d, { owner: OWNER_OF[d]!, edits: k.edits })
  }
  const m = mergeCollaborative(own, guests)
  const reversed = mergeCollaborative(new Map([...own].reverse()), new Map([...guests].reverse()))
  if (shown(m) !== shown(reversed)) throw new Error('the merge depends on the Maps\' order')
  return m
}
/** The merge as it shows (the `accepted` Map aside). */
const shown = (m: CollabPlaylist) => JSON.stringify({ ...m, accepted: [...m.accepted].sort(([a], [b]) => (a < b ? -1 : 1)) })

/** A device edits its own set against its current view. */
function edit(known: Known, device: string, f: (own: PlaylistEdits, m: CollabPlaylist) => PlaylistEdits): void {
  const cur = known.get(device) ?? { v: 0, edits: emptyEdits() }
  known.set(device, { v: cur.v + 1, edits: f(cur.edits, view(known)) })
}

function learn(to: Known, from: Known): void {
  for (const [d, k] of from) if ((to.get(d)?.v ?? 0) < k.v) to.set(d, k)
}

test('a collaborator\'s edits merge with the owner\'s; a friend who is not one is refused', (t) => {
  const a1: Known = new Map()
  edit(a1, A1, (o, m) => addTracks(o, m, A1, [track(1), track(2)]))
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  const b1: Known = new Map(a1)
  edit(b1, B1, (o, m) => addTracks(o, m, B1, [track(11)], 1))
  edit(b1, B1, (o, m) => moveEntry(o, m, m.entries[0]!.id, 2))
  const c1: Known = new Map(a1)
  edit(c1, C1, (o, m) => addTracks(o, m, C1, [track(21)], 0))
  edit(c1, C1, (o, m) => removeEntries(o, m, [m.entries[1]!.id]))
  learn(a1, b1)
  learn(a1, c1)
  const m = view(a1)
  t.deepEqual(m.entries.map((e) => e.track.sha256), [hex(11), hex(2), hex(1)])
  t.deepEqual(m.collaborators, [B])
  t.is(m.authors[m.entries[0]!.id], B1)
  t.deepEqual(m.guests.map((g) => [g.device, g.taken]), [[B1, 'live'], [C1, 'refused']])
  t.like(m.guests[1], { reason: 'not-a-collaborator' })
})

test('removing a collaborator keeps what merged before and refuses every later edit, back-dated or not', (t) => {
  const a1: Known = new Map()
  edit(a1, A1, (o, m) => addTracks(o, m, A1, [track(1), track(2), track(3)]))
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  const b1: Known = new Map(a1)
  edit(b1, B1, (o, m) => addTracks(o, m, B1, [track(11)]))
  learn(a1, b1)
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, false))
  const before = view(a1).entries.map((e) => e.track.sha256)
  t.deepEqual(before, [hex(1), hex(2), hex(3), hex(11)])
  // After the withdrawal B's device adds, removes, moves; and rewrites its set with clocks from before the withdrawal.
  edit(b1, B1, (o, m) => addTracks(o, m, B1, [track(12)], 0))
  edit(b1, B1, (o, m) => removeEntries(o, m, [m.entries.find((e) => e.track.sha256 === hex(2))!.id]))
  edit(b1, B1, (o, m) => moveEntry(o, m, m.entries.find((e) => e.track.sha256 === hex(3))!.id, 0))
  const cur = b1.get(B1)!
  const backdated: PlaylistEdits = { ...cur.edits, entries: cur.edits.entries.map((x) => ({ ...x, clock: 1 })), moves: cur.edits.moves.map((x) => ({ ...x, clock: 1 })) }
  for (const set of [cur.edits, backdated]) {
    const a = new Map(a1)
    a.set(B1, { v: 99, edits: set })
    const m = view(a)
    t.deepEqual(m.entries.map((e) => e.track.sha256), before)
    t.deepEqual(m.guests.map((g) => [g.device, g.taken]), [[B1, 'frozen']])
  }
  // A second device of B's that never edited before the withdrawal counts for nothing.
  const b2: Known = new Map(b1)
  edit(b2, B2, (o, m) => addTracks(o, m, B2, [track(13)]))
  learn(a1, b2)
  t.false(view(a1).entries.some((e) => e.track.sha256 === hex(13)))
  t.like(view(a1).guests.find((g) => g.device === B2), { taken: 'refused', reason: 'removed' })
  // Granted again: B's devices' sets as they stand now count.
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  t.true(view(a1).entries.some((e) => e.track.sha256 === hex(13)))
})

test('a guest writes nothing only the owner may: shares, grants, the pull rule, entries in another device\'s name', (t) => {
  const a1: Known = new Map()
  edit(a1, A1, (o, m) => addTracks(o, m, A1, [track(1)]))
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  const base = view(a1)
  let b = addTracks(emptyEdits(), base, B1, [track(11)])
  t.is(checkGuestEdits(B1, b), null)
  const bad: PlaylistEdits[] = [
    setShare(b, base, C, true),
    setCollaborator(b, base, C, true),
    setPulls(b, base, true),
    { ...b, entries: [...b.entries, { ...b.entries[0]!, id: `${A1}.7` }] },
  ]
  for (const e of bad) t.truthy(checkGuestEdits(B1, e))
  // Even if such a set reached the merge, it changes nothing the owner decides.
  b = bad.reduce((x, e) => ({ ...x, shares: [...x.shares, ...e.shares], collabs: [...(x.collabs ?? []), ...(e.collabs ?? [])], pulls: e.pulls ?? x.pulls, entries: e.entries }), b)
  a1.set(B1, { v: 1, edits: b })
  const m = view(a1)
  t.deepEqual(m.shared, [])
  t.deepEqual(m.collaborators, [B])
  t.false(m.pulls)
  t.deepEqual(m.entries.map((e) => e.id).sort(), [`${A1}.0`, `${B1}.0`].sort())
})

test('an entry of a guest naming an owner\'s track the owner did not put in is found, and never in the owner\'s scope', (t) => {
  const a1: Known = new Map()
  edit(a1, A1, (o, m) => addTracks(o, m, A1, [track(1)]))
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  const b1: Known = new Map(a1)
  // Track 5 is in A's library, not in the playlist; track 1 is; track 11 is B's own.
  edit(b1, B1, (o, m) => addTracks(o, m, B1, [track(5), track(1), track(11)]))
  learn(a1, b1)
  const isA = (d: string) => OWNER_OF[d] === A
  const holds = (sha: string) => sha === hex(1) || sha === hex(5)
  let m = view(a1)
  const claims = foreignClaims(m, isA, holds)
  t.deepEqual(claims.map((id) => m.entries.find((e) => e.id === id)!.track.sha256), [hex(5)])
  t.deepEqual([...ownerScope(m, isA)], [hex(1)])
  // The owner's device removes it; every participant converges on that.
  edit(a1, A1, (o, mm) => removeEntries(o, mm, claims))
  learn(b1, a1)
  m = view(b1)
  t.deepEqual(m.entries.map((e) => e.track.sha256), [hex(1), hex(1), hex(11)])
  t.deepEqual(foreignClaims(view(a1), isA, holds), [])
})

test('grants, withdrawals and the pull rule survive the body, and a body without them is as before', (t) => {
  const a1: Known = new Map()
  edit(a1, A1, (o, m) => addTracks(o, m, A1, [track(1)]))
  const plain = a1.get(A1)!.edits
  t.false('collabs' in editsToBody(plain))
  t.false('pulls' in editsToBody(plain))
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, true))
  const b1: Known = new Map(a1)
  edit(b1, B1, (o, m) => addTracks(o, m, B1, [track(11)]))
  learn(a1, b1)
  edit(a1, A1, (o, m) => setCollaborator(o, m, B, false))
  edit(a1, A1, (o, m) => setPulls(o, m, true))
  const e = a1.get(A1)!.edits
  t.deepEqual(editsFromBody(decode(encode(editsToBody(e)))), e)
  t.true(view(a1).pulls)
  t.false(mergeCollaborative(new Map([[A1, plain]]), new Map()).pulls, 'streaming only by default')
  // A frozen set is one level deep, and no newer than its withdrawal.
  const body = editsToBody(e) as { collabs: { frozen: { edits: { collabs?: unknown; clock: number } }[] }[] }
  const nested = structuredClone(body)
  nested.collabs[0]!.frozen[0]!.edits.collabs = []
  t.throws(() => editsFromBody(decode(encode(nested as never))), { message: /unknown field "collabs"/ })
  const newer = structuredClone(body)
  newer.collabs[0]!.frozen[0]!.edits.clock = 10 ** 6
  t.throws(() => editsFromBody(decode(encode(newer as never))), { message: /newer than the withdrawal/ })
})

// ---------------------------------------------------------------------------
// Property: two circles, four devices (and a friend who is not a collaborator)
// editing concurrently and apart, learning each other's sets in any order.

const DEVICES = [A1, A2, B1, B2, C1]
type Op =
  | { kind: 'add'; d: number; at: number }
  | { kind: 'remove'; d: number; pick: number }
  | { kind: 'move'; d: number; pick: number; to: number }
  | { kind: 'grant'; d: number; who: number; on: boolean }
  | { kind: 'pulls'; d: number; on: boolean }
  | { kind: 'sync'; from: number; to: number }

const dev = fc.integer({ min: 0, max: DEVICES.length - 1 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), d: dev, at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), d: dev, pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), d: dev, pick: fc.nat(), to: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('grant' as const), d: fc.integer({ min: 0, max: 1 }), who: fc.integer({ min: 0, max: 1 }), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pulls' as const), d: fc.integer({ min: 0, max: 1 }), on: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: dev, to: dev }) },
)

test('every device of both circles converges to the same playlist, whatever the interleaving', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 60 }), fc.array(dev, { minLength: 12, maxLength: 12 }), (ops, order) => {
      const known: Known[] = DEVICES.map(() => new Map())
      let n = 0
      const removedEver = new Set<string>()
      for (const op of ops) {
        if (op.kind === 'sync') {
          learn(known[op.to]!, known[op.from]!)
          continue
        }
        const k = known[op.d]!
        const d = DEVICES[op.d]!
        const m = view(k)
        if (op.kind === 'add') edit(k, d, (o, mm) => addTracks(o, mm, d, [track(++n)], op.at % (mm.entries.length + 1)))
        else if (op.kind === 'grant') edit(k, d, (o, mm) => setCollaborator(o, mm, [B, C][op.who]!, op.on))
        else if (op.kind === 'pulls') edit(k, d, (o, mm) => setPulls(o, mm, op.on))
        else if (m.entries.length) {
          const id = m.entries[op.pick % m.entries.length]!.id
          if (op.kind === 'remove') {
            removedEver.add(id)
            edit(k, d, (o, mm) => removeEntries(o, mm, [id]))
          } else edit(k, d, (o, mm) => moveEntry(o, mm, id, op.to % mm.entries.length))
        }
      }
      // Everyone meets everyone, in a random order, until all know all.
      for (const i of order) for (const k of known) learn(k, known[i]!)
      for (const k of known) for (const j of known) learn(k, j)
      const results = known.map((k) => shown(view(k)))
      t.true(results.every((r) => r === results[0]), 'the same playlist everywhere')
      const m = view(known[0]!)
      const grantOf = (owner: string) => {
        let best: { on: boolean; clock: number; author: string; frozen?: { device: string; edits: PlaylistEdits }[] } | undefined
        for (const a of [A1, A2].sort()) for (const c of known[0]!.get(a)?.edits.collabs ?? []) {
          if (c.owner !== owner) continue
          if (!best || c.clock > best.clock || (c.clock === best.clock && (a > best.author || (a === best.author && !c.on)))) best = { ...c, author: a }
        }
        return best
      }
      for (const e of m.entries) {
        const author = m.authors[e.id]!
        const owner = OWNER_OF[author]!
        if (owner === A) continue
        // A guest's entry is there only under a grant: live while on, in the withdrawal's frozen copy once off.
        const g = grantOf(owner)
        t.truthy(g, `an entry of ${owner === C ? 'a non-collaborator' : 'a guest never granted'}`)
        if (!g!.on) t.true(g!.frozen?.some((f) => f.device === author && f.edits.entries.some((x) => x.id === e.id)) ?? false)
      }
      // No owner entry that no device ever removed is lost.
      for (const a of [A1, A2]) for (const x of known[0]!.get(a)?.edits.entries ?? []) {
        if (!removedEver.has(x.id)) t.true(m.entries.some((e) => e.id === x.id))
      }
    }),
    { seed: 0x18c011ab, numRuns: 150 },
  )
})
