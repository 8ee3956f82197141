// The web UI's side of the play history: what the player counts as listened
// (seeks and pauses are not listening; prefetched bytes never reach it), when
// it reports a play, and the library's play-count and last-played columns.
import test from 'ava'
import { fromCompact, heard, playCounts, sortOrder, startListening, withPlays, type CompactLibrary } from '../../src/ui/logic/index.ts'

const sha = (i: number) => i.toString(16).padStart(64, '0')

test('listening time is the sum of small forward steps: a seek adds nothing', (t) => {
  let l = startListening(0)
  for (let s = 0.25; s <= 10; s += 0.25) l = heard(l, s)
  t.is(l.seconds, 10)
  l = heard(l, 150) // a seek forward
  t.is(l.seconds, 10)
  l = heard(l, 20) // and back
  t.is(l.seconds, 10)
  l = heard(l, 21)
  t.is(l.seconds, 11)
})

test('a play counts at half the track or four minutes, once', (t) => {
  const at = (seconds: number) => ({ ...startListening(), seconds })
  t.false(playCounts(at(99), 200))
  t.true(playCounts(at(100), 200))
  t.false(playCounts(at(239), 3600))
  t.true(playCounts(at(240), 3600))
  t.true(playCounts(at(240), NaN)) // unknown length: four minutes
  t.false(playCounts(at(200), NaN))
  t.false(playCounts({ ...at(300), reported: true }, 400))
  t.false(playCounts(at(0), 0))
})

test('the library sorts by plays and by last played; never played goes last both ways', (t) => {
  const c: CompactLibrary = { fields: ['sha256', 'title'], rows: [[sha(0), 'never'], [sha(1), 'twice'], [sha(2), 'once']] }
  const lib = withPlays(fromCompact(c), [{ sha256: sha(1), count: 2, last: 1_000 }, { sha256: sha(2), count: 1, last: 5_000 }, { sha256: sha(9), count: 4, last: 9 }])
  t.deepEqual([...lib.plays], [0, 2, 1])
  t.true(Number.isNaN(lib.lastPlayed[0]))
  const titles = (o: Int32Array) => [...o].map((r) => lib.title[r])
  t.deepEqual(titles(sortOrder(lib, 'plays', true)), ['twice', 'once', 'never'])
  t.deepEqual(titles(sortOrder(lib, 'lastPlayed', true)), ['once', 'twice', 'never'])
  t.deepEqual(titles(sortOrder(lib, 'lastPlayed')), ['twice', 'once', 'never'])
})
