// The unit changes, key notations and location forms lose nothing, and any
// library the model can hold comes back from a write as what it was (the
// format's own fields exactly; after one write, anything at all).
import test from 'ava'
import fc from 'fast-check'
import { camelotOf, keyName, openKeyOf } from '../../src/analysis/index.ts'
import { msSumToSecondsText, msToSecondsText, secondsTextSpanMs, secondsTextToMs } from '../../src/djformats/decimal.ts'
import {
  keyFromText,
  keyFromTraktorValue,
  pathFromRekordboxLocation,
  pathFromTraktorKey,
  readRekordbox,
  readTraktor,
  rekordboxLocationOf,
  rekordboxTonality,
  rekordboxXml,
  traktorKey,
  traktorKeyValue,
  traktorLocationOf,
  traktorNml,
  type DjCue,
  type DjLibrary,
  type DjPlay,
  type DjPlaylistNode,
  type DjTrack,
} from '../../src/djformats/index.ts'
import { sortCues, sortGrid } from '../../src/djformats/order.ts'
import { kept, text } from './helpers.ts'

const RUNS = { seed: 16, numRuns: 150 }
const KEYS = [...Array(12).keys()].flatMap((pc) => [keyName(pc, 'major'), keyName(pc, 'minor')])
const ms = fc.double({ min: -5_000, max: 50_000_000, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x))

test('milliseconds <-> rekordbox seconds text is exact both ways, loops included', (t) => {
  fc.assert(
    fc.property(ms, fc.double({ min: 0, max: 10_000_000, noNaN: true }), (start, length) => {
      const startText = msToSecondsText(start)
      return secondsTextToMs(startText) === start && secondsTextSpanMs(startText, msSumToSecondsText(start, length)) === length
    }),
    RUNS,
  )
  fc.assert(
    fc.property(fc.stringMatching(/^-?\d{1,5}\.\d{1,9}$/), (secondsText) => {
      const once = secondsTextToMs(secondsText)!
      return secondsTextToMs(msToSecondsText(once)) === once
    }),
    RUNS,
  )
  t.is(msToSecondsText(25), '0.025')
  t.is(msToSecondsText(96400), '96.400')
  t.is(msToSecondsText(128.945395), '0.128945395')
  t.is(secondsTextToMs('0.1'), 100)
  t.is(secondsTextSpanMs('96.4', '98.275'), 1875)
  t.is(0.1 * 3 * 1000, 300.00000000000006, 'why plain arithmetic would not do')
})

test('every key crosses every notation and back', (t) => {
  for (const key of KEYS) {
    t.is(keyFromText(rekordboxTonality(key)), key)
    t.is(keyFromText(camelotOf(key)), key)
    t.is(keyFromText(openKeyOf(key)), key)
    t.is(keyFromTraktorValue(traktorKeyValue(key)), key)
  }
  t.deepEqual([0, 1, 11, 12, 13, 21, 23].map(keyFromTraktorValue), ['C major', 'Db major', 'B major', 'C minor', 'C# minor', 'A minor', 'B minor'])
  t.deepEqual(['Fm', 'F#m', 'Abm', 'Db', '8A', '8B', '1m', '1d', '4a', 'A minor', ''].map(keyFromText), ['F minor', 'F# minor', 'Ab minor', 'Db major', 'A minor', 'C major', 'A minor', 'C major', 'F minor', 'A minor', null])
  t.is(keyFromTraktorValue(24), null)
})

const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).filter((s) => !/[\\/\u0000]/.test(s) && s !== '.' && s !== '..')
const windowsPath = fc.tuple(fc.constantFrom('C', 'D', 'z'), fc.array(segment, { minLength: 1, maxLength: 4 })).map(([d, s]) => `${d}:\\${s.join('\\')}`)
const posixPath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`)
const volumePath = fc.tuple(segment.filter((s) => !s.includes(':')), fc.array(segment, { minLength: 1, maxLength: 4 })).map(([v, s]) => `/Volumes/${v}/${s.join('/')}`)

test('paths <-> rekordbox Locations and Traktor locations, whatever the names hold', (t) => {
  fc.assert(fc.property(fc.oneof(windowsPath, posixPath), (p) => pathFromRekordboxLocation(rekordboxLocationOf(p)) === p), RUNS)
  fc.assert(
    fc.property(fc.oneof(windowsPath, volumePath), (p) => {
      const nfc = p.normalize('NFC')
      return pathFromTraktorKey(traktorKey(traktorLocationOf(p, 'Macintosh HD'))) === nfc
    }),
    RUNS,
  )
  t.is(rekordboxLocationOf('C:\\Music\\a b#1 100%.mp3'), 'file://localhost/C:/Music/a%20b%231%20100%25.mp3')
  t.is(pathFromRekordboxLocation('file://localhost/C:/a%2'), 'C:\\a%2', 'a broken escape is kept as written')
  t.is(pathFromRekordboxLocation('file:///Users/dj/a.mp3'), '/Users/dj/a.mp3')
  t.is(pathFromRekordboxLocation('https://stream.example/t/1'), null)
})

// ---- whole libraries ----

const color = fc.integer({ min: 0, max: 0xffffff }).map((n) => `#${n.toString(16).padStart(6, '0')}`)
const anyText = fc.string({ unit: 'binary', maxLength: 12 })
/** What XML 1.0 can carry (the writers turn anything else into U+FFFD). */
const xmlText = anyText.filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s))
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })

const cueOf = (anyText: fc.Arbitrary<string>): fc.Arbitrary<DjCue> =>
  fc
  .record({
    type: fc.constantFrom('cue', 'loop', 'fade-in', 'fade-out', 'load', 'grid' as const),
    slot: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null }),
    positionMs: ms,
    lengthMs: fc.double({ min: 0, max: 600_000, noNaN: true }),
    name: optional(anyText.filter((s) => s !== '')),
    color: optional(color),
  })
  .map(({ lengthMs, name, color: c, ...rest }) => ({
    ...rest,
    ...(rest.type === 'loop' ? { lengthMs } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(c !== undefined ? { color: c } : {}),
  }))

const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

function library(paths: fc.Arbitrary<string>, anyText: fc.Arbitrary<string>): fc.Arbitrary<DjLibrary> {
  const cue = cueOf(anyText)
  const track = (id: string) =>
    fc
      .record({
        location: paths,
        size: optional(fc.integer({ min: 0, max: 2 ** 40 })),
        durationS: optional(fc.integer({ min: 0, max: 7200 })),
        title: optional(anyText.filter((s) => s !== '')),
        artist: optional(anyText.filter((s) => s !== '')),
        album: optional(anyText.filter((s) => s !== '')),
        genre: optional(anyText.filter((s) => s !== '')),
        comment: optional(anyText.filter((s) => s !== '')),
        bpm: optional(fc.double({ min: 1, max: 400, noNaN: true })),
        key: optional(fc.constantFrom(...KEYS)),
        rating: optional(fc.integer({ min: 0, max: 5 })),
        color: optional(color),
        playCount: optional(fc.nat()),
        cues: fc.array(cue, { maxLength: 10 }),
        grid: fc.array(fc.record({ positionMs: ms, bpm: fc.double({ min: 20, max: 300, noNaN: true }), beatOfBar: fc.integer({ min: 1, max: 4 }) }), { maxLength: 4 }),
      })
      .map((r): DjTrack => strip({ id, ...r }))
  return fc
    .uniqueArray(paths, { maxLength: 6 })
    .chain((_) => fc.integer({ min: 0, max: 6 }))
    .chain((n) => fc.tuple(...[...Array(n).keys()].map((i) => track(String(i + 1)))))
    .chain((tracks) => {
      const ref = tracks.length ? fc.oneof(fc.constantFrom(...tracks.map((x) => ({ trackId: x.id }))), paths.map((p) => ({ location: p }))) : paths.map((p) => ({ location: p }))
      const node: fc.Memo<DjPlaylistNode> = fc.memo((depth) =>
        depth <= 1
          ? fc.record({ type: fc.constant('playlist' as const), name: anyText, entries: fc.array(ref, { maxLength: 5 }) })
          : fc.oneof(
              fc.record({ type: fc.constant('playlist' as const), name: anyText, entries: fc.array(ref, { maxLength: 5 }) }),
              fc.record({ type: fc.constant('folder' as const), name: anyText, children: fc.array(node(depth - 1), { maxLength: 3 }) }),
            ),
      )
      const playedAt = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19))
      const play: fc.Arbitrary<DjPlay> = fc
        .record({ ref, session: fc.array(anyText, { minLength: 1, maxLength: 3 }), playedAt: optional(playedAt), deck: optional(fc.integer({ min: 0, max: 3 })), durationS: optional(fc.double({ min: 0, max: 3600, noNaN: true })), public: optional(fc.boolean()) })
        .map(strip)
      return fc.record({
        format: fc.constant('rekordbox' as const),
        tracks: fc.constant(tracks),
        playlists: fc.array(node(3), { maxLength: 4 }),
        history: fc.array(play, { maxLength: 5 }),
        warnings: fc.constant([]),
        warningsDropped: fc.constant(0),
      })
    })
}

test('any library: after one write and read, every further write and read is the identity (both formats)', async (t) => {
  await fc.assert(
    fc.asyncProperty(library(fc.oneof(windowsPath, posixPath, volumePath), anyText), async (lib) => {
      const rb1 = await readRekordbox(text(rekordboxXml(lib)))
      const rb2 = await readRekordbox(text(rekordboxXml(rb1)))
      t.deepEqual(kept(rb2), kept(rb1))
      const tk1 = await readTraktor(text(traktorNml(lib)))
      const tk2 = await readTraktor(text(traktorNml(tk1)))
      t.deepEqual(kept(tk2), kept(tk1))
    }),
    { ...RUNS, numRuns: 60 },
  )
})

test('any library written as rekordbox XML comes back with the same cues, loops, grids, keys and playlists', async (t) => {
  // Locations only in the collection's own form, refs to tracks it lists or to files under /gone/ it does not.
  const paths = fc.oneof(windowsPath, posixPath.filter((p) => !p.startsWith('/gone/')))
  await fc.assert(
    fc.asyncProperty(library(paths, xmlText), fc.array(segment, { minLength: 1, maxLength: 2 }), async (lib, gone) => {
      const locations = new Set(lib.tracks.map((x) => x.location))
      const fix = (nodes: DjPlaylistNode[]): DjPlaylistNode[] =>
        nodes.map((n) =>
          n.type === 'folder'
            ? { ...n, children: fix(n.children) }
            : { ...n, entries: n.entries.map((r) => ('location' in r && locations.has(r.location) ? { location: `/gone/${gone.join('/')}` } : r)) },
        )
      const input = { ...lib, tracks: lib.tracks.filter((x, i) => lib.tracks.findIndex((y) => y.location === x.location) === i), playlists: fix(lib.playlists) }
      const ids = new Set(input.tracks.map((x) => x.id))
      const onlyListed = (nodes: DjPlaylistNode[]): DjPlaylistNode[] =>
        nodes.map((n) => (n.type === 'folder' ? { ...n, children: onlyListed(n.children) } : { ...n, entries: n.entries.filter((r) => !('trackId' in r) || ids.has(r.trackId)) }))
      input.playlists = onlyListed(input.playlists)
      const back = await readRekordbox(text(rekordboxXml(input)))
      t.deepEqual(
        back.tracks.map((x) => strip({ cues: x.cues, grid: x.grid, key: x.key })),
        input.tracks.map((x) => strip({ cues: sortCues(x.cues.map((c) => (c.type === 'grid' ? { ...c, type: 'cue' as const } : c))), grid: sortGrid([...x.grid]), key: x.key })),
      )
      t.deepEqual(back.playlists, input.playlists)
    }),
    { ...RUNS, numRuns: 60 },
  )
})
