// The cue merge: deterministic whatever order the devices' edits come in,
// nothing made apart lost, deletions and slot conflicts settled the same way
// on every device, and a write shows exactly what was asked for.
import test from 'ava'
import fc from 'fast-check'
import { checkCues, mergeCues, setCues } from '../../src/manifest/index.ts'
import { CUE_CAPS, type Cue, type CueRegister } from '../../src/library/index.ts'

const A = 'a'.repeat(64) // device keys, hex: B > A
const B = 'b'.repeat(64)
const hot = (id: string, slot: Cue['slot'], position: number, extra: Partial<Cue> = {}): Cue => ({ id, kind: 'hot', slot, position, ...extra })
const memory = (id: string, position: number, extra: Partial<Cue> = {}): Cue => ({ id, kind: 'memory', position, ...extra })
const sets = (entries: Array<[string, CueRegister[]]>) => new Map(entries)

/** One device sets cues starting from what it has seen; returns its new registers. */
function edit(self: string, seen: Map<string, CueRegister[]>, wanted: Cue[]): CueRegister[] {
  const regs = setCues(self, seen, wanted)
  seen.set(self, regs)
  return regs
}

test('a write shows exactly the cues asked for, and an unchanged write adds no edit', (t) => {
  const seen = sets([])
  const wanted = [memory('intro-001', 1.5), hot('drop-0001', 'A', 64.25, { name: 'Drop', color: '#ff0000' })]
  const regs = edit(A, seen, wanted)
  t.deepEqual(mergeCues(seen).cues, wanted)
  t.true(regs.every((r) => r.clock === 1))
  t.deepEqual(edit(A, seen, wanted), regs, 'nothing changed, no new clock')
})

test('edits made apart are kept: different cues from two devices both show', (t) => {
  const base = sets([])
  edit(A, base, [hot('shared-01', 'A', 10)])
  const onA = new Map(base)
  const onB = new Map(base)
  edit(A, onA, [hot('shared-01', 'A', 10), memory('from-a-01', 20)])
  edit(B, onB, [hot('shared-01', 'A', 10), hot('from-b-01', 'B', 30)])
  const met = sets([[A, onA.get(A)!], [B, onB.get(B)!]])
  t.deepEqual(mergeCues(met).cues.map((c) => c.id), ['shared-01', 'from-a-01', 'from-b-01'])
})

test('the same cue changed on two devices: the later edit wins, then the higher device key', (t) => {
  const base = sets([])
  edit(A, base, [hot('cue-00001', 'A', 10)])
  const onA = new Map(base)
  const onB = new Map(base)
  edit(A, onA, [hot('cue-00001', 'A', 11, { name: 'from A' })])
  edit(A, onA, [hot('cue-00001', 'A', 12, { name: 'from A again' })]) // clock 3
  edit(B, onB, [hot('cue-00001', 'A', 99, { name: 'from B' })]) // clock 2
  t.is(mergeCues(sets([[A, onA.get(A)!], [B, onB.get(B)!]])).cues[0]!.name, 'from A again')
  // Equal clocks: the higher device key (B) wins.
  const tieA = new Map(base)
  const tieB = new Map(base)
  edit(A, tieA, [hot('cue-00001', 'A', 11, { name: 'from A' })])
  edit(B, tieB, [hot('cue-00001', 'A', 99, { name: 'from B' })])
  t.is(mergeCues(sets([[A, tieA.get(A)!], [B, tieB.get(B)!]])).cues[0]!.name, 'from B')
})

test('a deletion is final against older edits, and loses to a later change', (t) => {
  const base = sets([])
  edit(A, base, [hot('cue-00001', 'A', 10), memory('cue-00002', 20)])
  const onA = new Map(base)
  const onB = new Map(base)
  edit(A, onA, []) // deletes both at clock 2
  edit(B, onB, [hot('cue-00001', 'A', 10), memory('cue-00002', 20), memory('cue-00003', 30)]) // adds one, keeps the others untouched
  const met = sets([[A, onA.get(A)!], [B, onB.get(B)!]])
  t.deepEqual(mergeCues(met).cues.map((c) => c.id), ['cue-00003'], 'deleted cues stay deleted; a cue added apart stays')
  // B, having seen the deletion, brings cue-00001 back: a later write.
  edit(B, met, [memory('cue-00003', 30), hot('cue-00001', 'C', 5)])
  t.deepEqual(mergeCues(met).cues, [hot('cue-00001', 'C', 5), memory('cue-00003', 30)])
})

test('a hot slot taken by two cues: the later edit keeps it, the other shows as a memory cue; writing the shown set settles it', (t) => {
  const onA = sets([])
  const onB = sets([])
  edit(A, onA, [hot('a-cue-001', 'C', 10, { name: 'A' })]) // clock 1
  edit(B, onB, [memory('b-warmup1', 1)]) // clock 1
  edit(B, onB, [memory('b-warmup1', 1), hot('b-cue-001', 'C', 40, { name: 'B' })]) // clock 2
  const met = sets([[A, onA.get(A)!], [B, onB.get(B)!]])
  const shown = mergeCues(met).cues
  t.deepEqual(shown, [memory('b-warmup1', 1), memory('a-cue-001', 10, { name: 'A' }), hot('b-cue-001', 'C', 40, { name: 'B' })])
  // A writes what it sees: the demoted cue is now a memory cue for good, even once B's cue leaves the slot.
  edit(A, met, shown)
  edit(A, met, [memory('b-warmup1', 1), memory('a-cue-001', 10, { name: 'A' })])
  t.deepEqual(mergeCues(met).cues, [memory('b-warmup1', 1), memory('a-cue-001', 10, { name: 'A' })])
})

test('the merge does not depend on the order the devices come in (property)', (t) => {
  const ids = ['cue-aaaa1', 'cue-bbbb2', 'cue-cccc3', 'cue-dddd4']
  const reg = fc.record({
    id: fc.constantFrom(...ids),
    clock: fc.integer({ min: 1, max: 6 }),
    cue: fc.option(
      fc.record({ kind: fc.constantFrom('hot' as const, 'memory' as const), slot: fc.constantFrom('A' as const, 'B' as const), position: fc.integer({ min: 0, max: 9 }) }).map(
        (c) => (c.kind === 'hot' ? c : { kind: c.kind, position: c.position }),
      ),
      { nil: null },
    ),
  })
  const device = fc.uniqueArray(reg, { selector: (r) => r.id, maxLength: 4 })
  const authors = ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)]
  fc.assert(
    fc.property(fc.tuple(device, device, device), fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 2, 0]), (devs, order) => {
      const one = mergeCues(new Map(authors.map((a, i) => [a, devs[i]!])))
      const two = mergeCues(new Map(order.map((i) => [authors[i]!, [...devs[i]!].reverse()])))
      const slots = one.cues.filter((c) => c.kind === 'hot').map((c) => c.slot)
      return JSON.stringify(one) === JSON.stringify(two) && new Set(slots).size === slots.length
    }),
    { seed: 11, numRuns: 500 },
  )
  t.is(mergeCues(new Map()).cues.length, 0)
})

test('registers are capped: a device that adds and deletes forever keeps at most 128', (t) => {
  const seen = sets([])
  for (let i = 0; i < 200; i++) edit(A, seen, [memory(`cue-${String(i).padStart(5, '0')}`, i)])
  const regs = seen.get(A)!
  t.is(regs.length, CUE_CAPS.registers)
  t.deepEqual(mergeCues(seen).cues.map((c) => c.id), ['cue-00199'])
  t.true(regs.some((r) => r.id === 'cue-00198' && r.cue === null), 'the newest deletions are kept')
})

test('checkCues refuses what the API must refuse, with a message saying what', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['nope', /list/],
    [[{ id: 'short', kind: 'hot', slot: 'A', position: 1 }], /id is 8-32/],
    [[{ id: 'has space1', kind: 'memory', position: 1 }], /id is 8-32/],
    [[{ id: 'cue-00001', kind: 'loop', position: 1 }], /kind/],
    [[{ id: 'cue-00001', kind: 'hot', position: 1 }], /slot A-H/],
    [[{ id: 'cue-00001', kind: 'hot', slot: 'I', position: 1 }], /slot A-H/],
    [[{ id: 'cue-00001', kind: 'memory', slot: 'A', position: 1 }], /only hot cues/],
    [[{ id: 'cue-00001', kind: 'memory', position: -1 }], /position/],
    [[{ id: 'cue-00001', kind: 'memory', position: '1' }], /position/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, name: 'x'.repeat(65) }], /name/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, name: 'a\nb' }], /name/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, color: 'red' }], /color/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, extra: 1 }], /unknown field/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, length: 0 }], /length/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, length: -2 }], /length/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1, length: '4' }], /length/],
    [[{ id: 'cue-00001', kind: 'hot', slot: 'A', position: 1 }, { id: 'cue-00002', kind: 'hot', slot: 'A', position: 2 }], /slot A is taken/],
    [[{ id: 'cue-00001', kind: 'memory', position: 1 }, { id: 'cue-00001', kind: 'memory', position: 2 }], /used twice/],
    [Array.from({ length: 65 }, (_, i) => ({ id: `cue-${String(i).padStart(5, '0')}`, kind: 'memory', position: i })), /at most 64/],
  ]
  for (const [input, message] of bad) t.throws(() => checkCues(input), { instanceOf: RangeError, message }, JSON.stringify(input).slice(0, 80))
  t.deepEqual(checkCues([{ id: 'cue-00001', kind: 'hot', slot: 'H', position: 1.23456, name: 'Ünïcödé ✓', color: '#A0B0C0' }]), [
    { id: 'cue-00001', kind: 'hot', slot: 'H', position: 1.235, name: 'Ünïcödé ✓', color: '#a0b0c0' },
  ])
})

test('a loop keeps its length: checked to the ms, merged, and a changed length is an edit', (t) => {
  t.deepEqual(checkCues([{ id: 'loop-0001', kind: 'hot', slot: 'B', position: 10, length: 1.8754 }]), [
    { id: 'loop-0001', kind: 'hot', slot: 'B', position: 10, length: 1.875 },
  ])
  const seen = sets([])
  const loop = hot('loop-0001', 'B', 10, { length: 1.875, color: '#00ff00' })
  edit(A, seen, [loop])
  t.deepEqual(mergeCues(seen).cues, [loop])
  const regs = edit(A, seen, [{ ...loop, length: 3.75 }])
  t.is(regs[0]!.clock, 2, 'a new length is a new edit')
  t.deepEqual(mergeCues(seen).cues, [{ ...loop, length: 3.75 }])
})
