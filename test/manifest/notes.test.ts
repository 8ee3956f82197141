// Track notes (user grid, rating, colour, comment, plays): per-field
// last-writer-wins registers merged the same whatever order devices' edits
// arrive in; a change touches only the fields it gives; notes travel on the
// library page of their audio hash and come back exactly (grids to the ns
// and the millionth of a BPM); hostile note sections are refused; a later
// version's fields are passed over, never misread.
import test from 'ava'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { decode, encode } from '../../src/codec/index.ts'
import {
  checkNotes, decodeLibraryPage, encodePages, gridFromBytes, gridToBytes, ManifestError, mergeNotes, rootFromBody, rootPageCount, rootToBody, setNotes,
} from '../../src/manifest/index.ts'
import type { NoteRegister } from '../../src/library/index.ts'
import { fakeTracks } from './fake-tracks.ts'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)

test('per field the latest write wins (clock, then device); fields set on different devices all stay; any arrival order gives one result', (t) => {
  const sets = new Map<string, NoteRegister[]>([
    [A, [{ field: 'rating', clock: 3, value: 4 }, { field: 'comment', clock: 1, value: 'warm-up' }]],
    [B, [{ field: 'rating', clock: 2, value: 1 }, { field: 'color', clock: 5, value: '#ff0000' }, { field: 'comment', clock: 2, value: null }]],
  ])
  const { notes, clock } = mergeNotes(sets)
  t.deepEqual(notes, { rating: 4, color: '#ff0000' }, 'B cleared the comment after A set it')
  t.is(clock, 5)
  t.deepEqual(mergeNotes(new Map([...sets].reverse())).notes, notes)
  // A tie of clocks: the higher device key.
  t.deepEqual(mergeNotes(new Map([[A, [{ field: 'plays', clock: 1, value: 3 }]], [B, [{ field: 'plays', clock: 1, value: 9 }]]])).notes, { plays: 9 })
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(A, B, 'c'.repeat(64)), fc.constantFrom('rating', 'plays') as fc.Arbitrary<'rating' | 'plays'>, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 })), { maxLength: 12 }), (writes) => {
      const build = (order: typeof writes) => {
        const m = new Map<string, NoteRegister[]>()
        for (const [dev, field, clock, value] of order) {
          const regs = (m.get(dev) ?? []).filter((r) => r.field !== field)
          m.set(dev, [...regs, { field, clock, value }])
        }
        return m
      }
      // Each device keeps its last write per field; the merged result does not depend on the order of devices.
      const m = build(writes)
      return JSON.stringify(mergeNotes(m).notes) === JSON.stringify(mergeNotes(new Map([...m].reverse())).notes)
    }),
    { seed: 16, numRuns: 200 },
  )
})

test('a change writes only the fields it gives, at a clock above everything seen; the same change again writes nothing', (t) => {
  const sets = new Map<string, NoteRegister[]>([[B, [{ field: 'rating', clock: 7, value: 2 }]]])
  const mine = setNotes(A, sets, checkNotes({ rating: 5, comment: 'peak time', grid: [{ position: 0.025, bpm: 128, beat: 1 }] }))
  t.deepEqual(mine, [
    { field: 'grid', clock: 8, value: [{ position: 0.025, bpm: 128, beat: 1 }] },
    { field: 'rating', clock: 8, value: 5 },
    { field: 'comment', clock: 8, value: 'peak time' },
  ])
  const after = new Map([...sets, [A, mine]])
  t.deepEqual(setNotes(A, after, checkNotes({ rating: 5, comment: 'peak time' })), mine, 'nothing changes')
  const cleared = setNotes(A, after, checkNotes({ comment: null }))
  t.deepEqual(mergeNotes(new Map([...sets, [A, cleared]])).notes, { grid: [{ position: 0.025, bpm: 128, beat: 1 }], rating: 5 })
})

test('checkNotes refuses what is not a note, rounds grids to the ns and sorts them', (t) => {
  t.deepEqual(checkNotes({ grid: [{ position: 10.0000000004, bpm: 139.999924, beat: 1 }, { position: -0.0125, bpm: 128, beat: 4 }] }).grid, [
    { position: -0.0125, bpm: 128, beat: 4 },
    { position: 10, bpm: 139.999924, beat: 1 },
  ])
  for (const bad of [
    null, [], { rating: 6 }, { rating: 2.5 }, { color: 'red' }, { comment: 'a\u0007' }, { comment: 'x'.repeat(1025) }, { plays: -1 }, { grid: [] },
    { grid: [{ position: 0, bpm: 0, beat: 1 }] }, { grid: [{ position: 0, bpm: 120, beat: 5 }] }, { grid: [{ position: 0, bpm: 120 }, { position: 0, bpm: 121 }] },
    { grid: [{ position: 0, bpm: 120, extra: 1 }] }, { tempo: 120 },
  ]) t.throws(() => checkNotes(bad), { instanceOf: RangeError }, JSON.stringify(bad))
  t.deepEqual(checkNotes({ comment: '' }), { comment: null }, 'an empty comment clears it')
  t.deepEqual(checkNotes({ key: 'Db major' }), { key: 'Db major' })
  for (const key of ['Fm', 'a minor', 'H major', '']) t.throws(() => checkNotes({ key }), { instanceOf: RangeError }, key)
})

test('grids pack to 11 bytes a row and come back exactly', (t) => {
  t.deepEqual(gridFromBytes(gridToBytes([{ position: -0.0125, bpm: 139.999924, beat: 4 }])), [{ position: -0.0125, bpm: 139.999924, beat: 4 }])
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: -86_400_000_000_000, max: 86_400_000_000_000 }), { minLength: 1, maxLength: 50 }),
      fc.integer({ min: 1_000_000, max: 1_000_000_000 }),
      fc.integer({ min: 1, max: 4 }),
      (us, micro, beat) => {
        const rows = us.sort((a, b) => a - b).map((u) => ({ position: u / 1e9, bpm: micro / 1e6, beat }))
        const bytes = gridToBytes(rows)
        return bytes.length === rows.length * 11 && JSON.stringify(gridFromBytes(bytes)) === JSON.stringify(rows)
      },
    ),
    { seed: 16, numRuns: 300 },
  )
})

const noteSets = (n: number) =>
  new Map<string, NoteRegister[]>(
    Array.from({ length: n }, (_, i) => [
      randomBytes(32).toString('hex'),
      [
        { field: 'grid', clock: 2, value: [{ position: 0.025, bpm: 139.999924, beat: 1 }, { position: 60.5, bpm: 127.98, beat: 3 }] },
        { field: 'key', clock: 2, value: 'F# minor' },
        { field: 'rating', clock: 1, value: i % 6 },
        { field: 'color', clock: 1, value: '#ff007f' },
        { field: 'comment', clock: 3, value: `Set ${i} ✓\nline two` },
        { field: 'plays', clock: 1, value: null },
      ] as NoteRegister[],
    ]),
  )

test('notes round-trip on the page of their audio hash; the root counts them and sizes pages with them', (t) => {
  const tracks = fakeTracks(50)
  const notes = noteSets(200)
  const pages = encodePages(tracks, new Map(), notes)
  t.is(pages.length, rootPageCount({ count: 50, noted: 200 }))
  t.true(pages.length > rootPageCount({ count: 50 }), 'notes count toward the page count')
  const back = new Map<string, NoteRegister[]>()
  pages.forEach((p, i) => {
    for (const [a, regs] of decodeLibraryPage(p, i, pages.length).notes) back.set(a, regs)
  })
  t.is(back.size, 200)
  for (const [a, regs] of notes) t.deepEqual(back.get(a), [...regs].sort((x, y) => (x.field < y.field ? -1 : 1)), a)
  const root = rootToBody({ count: 50, noted: 200, pages: pages.map(() => randomBytes(32).toString('hex')), playlists: [] })
  t.is(rootFromBody(decode(encode(root))).noted, 200)
  // Pages and roots without notes are what they were.
  t.false('notes' in (decode(encodePages(tracks)[0]!) as object))
  t.false('noted' in rootToBody({ count: 1, pages: [randomBytes(32).toString('hex')], playlists: [] }))
})

test('hostile note sections are refused with ERR_MALFORMED or ERR_TOO_LARGE; a later version\'s fields are passed over', (t) => {
  const audio = Buffer.alloc(32)
  const page = (notes: unknown) => encode({ notes, tracks: [] } as never)
  const entry = (regs: unknown[], a: Uint8Array = audio) => ({ audio: a, regs })
  const reg = { c: 1, f: 'rating', v: 3 }
  const row = (us: number, micro: number, beat: number) => {
    const b = Buffer.alloc(11)
    b.writeIntBE(us, 0, 6)
    b.writeUInt32BE(micro, 6)
    b.writeUInt8(beat, 10)
    return b
  }
  for (const [why, notes] of [
    ['not a list', { a: 1 }],
    ['no registers', [entry([])]],
    ['clock 0', [entry([{ ...reg, c: 0 }])]],
    ['rating 6', [entry([{ ...reg, v: 6 }])]],
    ['plays negative', [entry([{ c: 1, f: 'plays', v: -1 }])]],
    ['uppercase colour', [entry([{ c: 1, f: 'color', v: '#FF0000' }])]],
    ['key not a key name', [entry([{ c: 1, f: 'key', v: 'Fm' }])]],
    ['comment with a control character', [entry([{ c: 1, f: 'comment', v: 'a\u0001' }])]],
    ['comment too long', [entry([{ c: 1, f: 'comment', v: 'x'.repeat(1025) }])]],
    ['grid of 10 bytes', [entry([{ c: 1, f: 'grid', v: Buffer.alloc(10) }])]],
    ['grid at 0 BPM', [entry([{ c: 1, f: 'grid', v: row(0, 0, 1) }])]],
    ['grid beat 5', [entry([{ c: 1, f: 'grid', v: row(0, 128_000_000, 5) }])]],
    ['grid rows out of order', [entry([{ c: 1, f: 'grid', v: Buffer.concat([row(5, 128_000_000, 1), row(4, 128_000_000, 1)]) }])]],
    ['registers unsorted', [entry([reg, { c: 1, f: 'color', v: '#000000' }])]],
    ['register repeated', [entry([reg, reg])]],
    ['entries repeated', [entry([reg]), entry([reg])]],
  ] as Array<[string, unknown]>) {
    const err = t.throws(() => decodeLibraryPage(page(notes), 0, 1), { instanceOf: ManifestError }, why)
    t.true(err.code === 'ERR_MALFORMED' || err.code === 'ERR_TOO_LARGE', why)
  }
  t.regex(t.throws(() => decodeLibraryPage(page([entry([reg], Buffer.alloc(32, 0xff))]), 0, 2), { instanceOf: ManifestError }).message, /wrong page/)
  // A field this version does not know, or a key in a register: that register is passed over, the others read.
  const read = decodeLibraryPage(page([entry([{ c: 1, f: 'energy', v: 7 }, { c: 2, f: 'rating', v: 3, why: 'x' }, { c: 1, f: 'tags', v: 'a' }])]), 0, 1).notes
  t.deepEqual(read.get(audio.toString('hex')), [], 'counted, nothing shown')
  const some = decodeLibraryPage(page([entry([{ c: 1, f: 'color', v: '#00ff00' }, { c: 1, f: 'energy', v: 7 }])]), 0, 1).notes
  t.deepEqual(some.get(audio.toString('hex')), [{ field: 'color', clock: 1, value: '#00ff00' }])
})
