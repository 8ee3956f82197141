// Cue registers in library manifest pages: they round-trip, a one-recording
// cue change rewrites one page, old pages without cues still read, hostile
// cue sections are refused with a ManifestError, and another own device's
// book hands them out by audio hash.
import test from 'ava'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { decode, encode, type BDict } from '../../src/codec/index.ts'
import {
  decodeLibraryPage, decodePage, encodeManifest, encodePages, ManifestBook, ManifestError, ManifestStore, mergeCues, packBlob, pageCountFor, pageOf,
  rootFromBody, rootPageCount, rootToBody, setCues, type BlobFetcher,
} from '../../src/manifest/index.ts'
import { encodeCertificate, revokeDevice } from '../../src/identity/index.ts'
import type { CueRegister } from '../../src/library/index.ts'
import type { Identity } from '../../src/identity/index.ts'
import { makeCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { fakeTracks } from './fake-tracks.ts'

const secret = randomBytes(32)
const cueSets = (n: number) =>
  new Map<string, CueRegister[]>(
    Array.from({ length: n }, (_, i) => [
      randomBytes(32).toString('hex'),
      [
        { id: `hot-${String(i).padStart(5, '0')}`, clock: i + 1, cue: { kind: 'hot', slot: 'A', position: i + 0.25, name: `Drop ${i} ✓`, color: '#00ff7f' } },
        { id: `mem-${String(i).padStart(5, '0')}`, clock: 1, cue: { kind: 'memory', position: 0 } },
        { id: `lop-${String(i).padStart(5, '0')}`, clock: 3, cue: { kind: 'memory', position: 2.5, length: 0.469 } },
        { id: `old-${String(i).padStart(5, '0')}`, clock: 2, cue: null },
      ],
    ]),
  )

test('cues round-trip on the page of their audio hash, sorted, tracks untouched', (t) => {
  const tracks = fakeTracks(300)
  const cues = cueSets(40)
  const pages = encodePages(tracks, cues)
  const back = new Map<string, CueRegister[]>()
  pages.forEach((p, i) => {
    const read = decodeLibraryPage(p, i, pages.length)
    for (const [audio, regs] of read.cues) {
      t.is(pageOf(audio, pages.length), i)
      back.set(audio, regs)
    }
  })
  t.is(back.size, 40)
  for (const [audio, regs] of cues) t.deepEqual(back.get(audio), [...regs].sort((a, b) => (a.id < b.id ? -1 : 1)))
  t.deepEqual(
    pages.flatMap((p, i) => decodePage(p, i, pages.length)).map((x) => x.sha256).sort(),
    tracks.map((x) => x.sha256).sort(),
  )
})

test('pages without cues are the pages they were before cues existed, and read with no cues', (t) => {
  const tracks = fakeTracks(100)
  const plain = encodePages(tracks)
  const legacy = encode({ tracks: (decode(plain[0]!) as BDict).tracks! } as never)
  t.deepEqual(Buffer.from(plain[0]!), Buffer.from(legacy))
  t.is(decodeLibraryPage(legacy, 0, plain.length).cues.size, 0)
})

test('a one-recording cue change rewrites one page: the rest are byte-identical blobs', (t) => {
  const tracks = fakeTracks(10_000)
  const cues = cueSets(500)
  const before = encodePages(tracks, cues).map((p) => packBlob(p, secret).sha256)
  const target = [...cues.keys()][123]!
  const changed = new Map(cues)
  changed.set(target, setCues('a'.repeat(64), new Map([['a'.repeat(64), cues.get(target)!]]), [{ id: 'new-cue-1', kind: 'memory', position: 3 }]))
  const after = encodePages(tracks, changed).map((p) => packBlob(p, secret).sha256)
  const differing = before.map((h, i) => (h !== after[i] ? i : -1)).filter((i) => i >= 0)
  t.deepEqual(differing, [pageOf(target, before.length)])
  // A recording no track here has (cues set on another device's track) goes on its page too.
  const elsewhere = new Map(cues).set('f'.repeat(64), [{ id: 'far-cue-1', clock: 1, cue: { kind: 'memory', position: 1 } }])
  const third = encodePages(tracks, elsewhere).map((p) => packBlob(p, secret).sha256)
  t.is(pageCountFor(10_501), before.length, 'one more recording with cues does not change the page count here')
  t.deepEqual(before.map((h, i) => (h !== third[i] ? i : -1)).filter((i) => i >= 0), [before.length - 1])
})

test('recordings with cues count toward the pages, so a device with few tracks and many cued recordings spreads them out', (t) => {
  const cues = cueSets(2000)
  const pages = encodePages(fakeTracks(10), cues)
  t.is(pages.length, rootPageCount({ count: 10, cued: 2000 }))
  t.is(pages.length, 32)
  t.true(Math.max(...pages.map((p, i) => decodeLibraryPage(p, i, pages.length).cues.size)) < 150)
  const root = { count: 10, cued: 2000, pages: pages.map(() => 'a'.repeat(64)), playlists: [] }
  t.deepEqual(rootFromBody(decode(encode(rootToBody(root)))), root)
  t.false('cued' in rootToBody({ ...root, cued: 0, pages: ['a'.repeat(64)] }), 'a root without cues is what it was before cues')
  for (const bad of [-1, 100_001]) {
    t.is(t.throws(() => rootFromBody(decode(encode({ ...rootToBody(root), cued: bad } as never))), { instanceOf: ManifestError }).code, 'ERR_MALFORMED')
  }
  const short = { ...rootToBody(root), pages: rootToBody(root).pages.slice(0, 16) }
  t.regex(t.throws(() => rootFromBody(decode(encode(short as never))), { instanceOf: ManifestError }).message, /go on 32 pages/)
})

test('hostile cue sections are refused with ERR_MALFORMED or ERR_TOO_LARGE', (t) => {
  const audio = Buffer.alloc(32) // page 0 of 1
  const reg = { c: 1, id: 'cue-00001', kind: 'memory', ms: 1000 }
  const page = (cues: unknown) => encode({ cues, tracks: [] } as never)
  const entry = (regs: unknown[], a: Uint8Array = audio) => ({ audio: a, regs })
  const cases: Array<[string, unknown]> = [
    ['not a list', { a: 1 }],
    ['short audio hash', [entry([reg], Buffer.alloc(31))]],
    ['no registers', [entry([])]],
    ['bad id', [entry([{ ...reg, id: 'x' }])]],
    ['id with a slash', [entry([{ ...reg, id: 'cue/00001' }])]],
    ['clock 0', [entry([{ ...reg, c: 0 }])]],
    ['negative position', [entry([{ ...reg, ms: -1 }])]],
    ['position past 24 h', [entry([{ ...reg, ms: 86_400_001 }])]],
    ['unknown kind', [entry([{ ...reg, kind: 'loop' }])]],
    ['hot without slot', [entry([{ ...reg, kind: 'hot' }])]],
    ['hot slot I', [entry([{ ...reg, kind: 'hot', slot: 'I' }])]],
    ['memory with slot', [entry([{ ...reg, slot: 'A' }])]],
    ['name too long', [entry([{ ...reg, name: 'x'.repeat(65) }])]],
    ['name with a control character', [entry([{ ...reg, name: 'a\u0007' }])]],
    ['name not UTF-8', [entry([{ ...reg, name: Buffer.from([0xff, 0xfe]) }])]],
    ['empty name', [entry([{ ...reg, name: '' }])]],
    ['uppercase color', [entry([{ ...reg, color: '#FF0000' }])]],
    ['loop length 0', [entry([{ ...reg, len: 0 }])]],
    ['loop length past 24 h', [entry([{ ...reg, len: 86_400_001 }])]],
    ['loop length not a number', [entry([{ ...reg, len: 'x' }])]],
    ['deletion with a cue', [entry([{ c: 1, id: 'cue-00001', del: 1, kind: 'memory' }])]],
    ['del 2', [entry([{ c: 1, id: 'cue-00001', del: 2 }])]],
    ['registers unsorted', [entry([{ ...reg, id: 'cue-00002' }, reg])]],
    ['register repeated', [entry([reg, reg])]],
    ['entries repeated', [entry([reg]), entry([reg])]],
    ['too many registers', [entry(Array.from({ length: 129 }, (_, i) => ({ ...reg, id: `cue-${String(i).padStart(5, '0')}` })))]],
  ]
  for (const [why, cues] of cases) {
    const err = t.throws(() => decodeLibraryPage(page(cues), 0, 1), { instanceOf: ManifestError }, why)
    t.true(err.code === 'ERR_MALFORMED' || err.code === 'ERR_TOO_LARGE', why)
    t.notRegex(err.message, /\n/)
  }
  // On the wrong page: audio hash ff.. belongs on the last of two pages.
  const wrong = t.throws(() => decodeLibraryPage(page([entry([reg], Buffer.alloc(32, 0xff))]), 0, 2), { instanceOf: ManifestError })
  t.regex(wrong.message, /wrong page/)
  t.is(decodeLibraryPage(page([entry([reg])]), 0, 1).cues.size, 1, 'the valid base case reads')
})

test('a later version\'s additions leave that recording\'s cues out, counted, and the rest of the page reads', (t) => {
  const a = Buffer.alloc(32) // page 0 of 1
  const b = Buffer.alloc(32, 1)
  const reg = { c: 1, id: 'cue-00001', kind: 'memory', ms: 1000 }
  const page = (cues: unknown, extra: Record<string, unknown> = {}) => encode({ cues, tracks: [], ...extra } as never)
  for (const [why, first] of [
    ['register with an unknown key', { audio: a, regs: [{ ...reg, beat: 3 }, { ...reg, id: 'cue-00002' }] }],
    ['deletion with an unknown key', { audio: a, regs: [{ c: 1, id: 'cue-00001', del: 1, why: 'x' }] }],
    ['entry with an unknown key', { audio: a, regs: [reg], stems: 1 }],
  ] as Array<[string, unknown]>) {
    const read = decodeLibraryPage(page([first, { audio: b, regs: [reg] }]), 0, 1).cues
    t.deepEqual(read.get(a.toString('hex')), [], why)
    t.is(read.size, 2, `${why}: still counted against the root`)
    t.deepEqual(read.get(b.toString('hex')), [{ id: 'cue-00001', clock: 1, cue: { kind: 'memory', position: 1 } }], why)
  }
  // A page section this version does not know: passed over whole.
  const withSection = decodeLibraryPage(page([{ audio: b, regs: [reg] }], { stems: [1, 2, 3] }), 0, 1)
  t.is(withSection.cues.size, 1)
})

test('arbitrary and mutated cue pages give cues or a ManifestError, never a crash (fuzz)', (t) => {
  const valid = encodePages([], cueSets(3))[0]!
  const mutated = fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }).map((ms) => {
    const b = Buffer.from(valid)
    for (const [at, v] of ms) b[at % b.length] = v
    return new Uint8Array(b)
  })
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 512 })), (bytes) => {
      try {
        decodeLibraryPage(bytes, 0, 1)
        return true
      } catch (err) {
        return err instanceof ManifestError && !(err instanceof TypeError) && !/\n/.test(err.message)
      }
    }),
    { seed: 5, numRuns: 1500 },
  )
  t.is(decodeLibraryPage(valid, 0, 1).cues.size, 3)
})

test('another own device takes the cues in with the library and hands them out by audio hash; a newer version replaces them', async (t) => {
  const c = makeCircle(['laptop', 'phone'])
  const books: ManifestBook[] = []
  const ids: Identity[] = []
  for (let i = 0; i < 2; i++) {
    const home = await tempDir(t)
    const d = c.devices[i]!
    const id: Identity = { home, device: d.key, certificate: d.certificate, circleSecret: c.circleSecret, roster: c.roster, ...(i === 0 ? { owner: c.owner } : {}) }
    ids.push(id)
    books.push(await ManifestBook.open({ store: await ManifestStore.open(home, c.circleSecret), identity: () => id }))
  }
  const [a, b] = books as [ManifestBook, ManifestBook]
  const fromA: BlobFetcher = async (id) => (await a.store.getBlob(id)) ?? null
  const tracks = fakeTracks(200)
  const audio = tracks[5]!.audioHash
  const v1 = setCues(a.selfId, new Map(), [{ id: 'drop-0001', kind: 'hot', slot: 'A', position: 32 }])
  t.true(await b.applyLibrary((await a.publishLibrary(tracks, new Map([[audio, v1]])))!.blob.data, fromA, 'laptop'))
  t.deepEqual(mergeCues(b.cueEdits(audio)).cues, [{ id: 'drop-0001', kind: 'hot', slot: 'A', position: 32 }])
  t.is(b.cueEdits(tracks[6]!.audioHash).size, 0)
  t.is(await a.publishLibrary(tracks, new Map([[audio, v1]])), null, 'same cues: no new version')
  const v2 = setCues(a.selfId, new Map([[a.selfId, v1]]), [])
  t.true(await b.applyLibrary((await a.publishLibrary(tracks, new Map([[audio, v2]])))!.blob.data, fromA, 'laptop'))
  t.deepEqual(mergeCues(b.cueEdits(audio)).cues, [])
  t.deepEqual(b.cueEdits(audio).get(a.selfId), v2, 'the deletion travels')
  // A revoked device's cue edits count no more.
  ids[1]!.roster = revokeDevice(c.roster, c.devices[0]!.key.publicKey)
  t.is(b.cueEdits(audio).size, 0)
})

test('a root that miscounts the recordings with cues its pages hold is refused, and nothing is taken in', async (t) => {
  const c = makeCircle(['laptop', 'phone'])
  const home = await tempDir(t)
  const d = c.devices[1]!
  const id: Identity = { home, device: d.key, certificate: d.certificate, circleSecret: c.circleSecret, roster: c.roster }
  const b = await ManifestBook.open({ store: await ManifestStore.open(home, c.circleSecret), identity: () => id })
  const laptop = c.devices[0]!
  const tracks = fakeTracks(5)
  const pages = encodePages(tracks, cueSets(1)).map((p) => packBlob(p, c.circleSecret))
  const body = rootToBody({ count: 5, pages: pages.map((p) => p.sha256), playlists: [] }) // says: no cues
  const root = packBlob(
    encodeManifest({ kind: 'library', seq: 1, created: Date.now(), body }, { deviceSeed: laptop.key.seed, certificate: encodeCertificate(laptop.certificate) }),
    c.circleSecret,
  )
  const fetch: BlobFetcher = async (sha) => Buffer.from(pages.find((p) => p.sha256 === sha)?.data ?? [])
  t.false(await b.applyLibrary(Buffer.from(root.data), fetch, 'laptop'))
  t.is(b.refusals.at(-1)!.code, 'ERR_MISMATCH')
  t.regex(b.refusals.at(-1)!.reason, /cues of 0 recordings, its pages hold 1/)
  t.deepEqual(b.remoteLibraries(), [])
})
