// Camelot codes and neighbours, and how times and rates read.
import test from 'ava'
import { camelotRank, compatibleKeys, formatBpm, formatBytes, formatRate, formatTime, parseCamelot, toCamelot } from '../../src/ui/logic/index.ts'

test('the Camelot neighbours: same number other letter, one step each way with the same letter', (t) => {
  t.deepEqual([...compatibleKeys('8A')].sort(), ['7A', '8A', '8B', '9A'])
  t.deepEqual([...compatibleKeys('12B')].sort(), ['11B', '12A', '12B', '1B'])
  t.deepEqual([...compatibleKeys('1A')].sort(), ['12A', '1A', '1B', '2A'])
  t.deepEqual([...compatibleKeys('08a')].sort(), ['7A', '8A', '8B', '9A'])
  t.is(compatibleKeys('13A').size, 0)
  t.is(compatibleKeys('').size, 0)
  t.is(compatibleKeys(undefined).size, 0)
})

test('key names to Camelot codes', (t) => {
  t.is(toCamelot('A minor'), '8A')
  t.is(toCamelot('C major'), '8B')
  t.is(toCamelot('Am'), '8A')
  t.is(toCamelot('F#m'), '11A')
  t.is(toCamelot('Gbm'), '11A')
  t.is(toCamelot('Eb minor'), '2A')
  t.is(toCamelot('Db'), '3B')
  t.is(toCamelot('B major'), '1B')
  t.is(toCamelot('Ab minor'), '1A')
  t.is(toCamelot('5a'), '5A')
  t.is(toCamelot('H minor'), undefined)
  t.is(toCamelot('1m'), undefined)
  t.deepEqual(parseCamelot('10B'), { n: 10, l: 'B' })
  t.true(camelotRank('1A') < camelotRank('1B') && camelotRank('1B') < camelotRank('2A') && camelotRank('11B') < camelotRank('12A'))
  t.true(Number.isNaN(camelotRank('x')))
})

test('every key name maps round the wheel once', (t) => {
  const notes = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']
  const codes = new Set(notes.flatMap((n) => [toCamelot(`${n} major`), toCamelot(`${n} minor`)]))
  t.is(codes.size, 24)
  t.false(codes.has(undefined))
  // Relative keys share a number: C major and A minor are 8B and 8A.
  for (const [maj, min] of [['C', 'A'], ['G', 'E'], ['F', 'D'], ['E', 'C#']] as const) t.is(toCamelot(`${maj} major`)!.slice(0, -1), toCamelot(`${min} minor`)!.slice(0, -1))
})

test('times, rates and tempos', (t) => {
  t.is(formatTime(0), '0:00')
  t.is(formatTime(75.9), '1:15')
  t.is(formatTime(3725), '1:02:05')
  t.is(formatTime(Number.NaN), '--:--')
  t.is(formatTime(Infinity), '--:--')
  t.is(formatTime(-1), '--:--')
  t.is(formatRate(512), '512 B/s')
  t.is(formatRate(1_500_000), '1.5 MB/s')
  t.is(formatBytes(25_000), '25 kB')
  t.is(formatBpm(Number.NaN), '')
})

test('a tempo always reads with one decimal, whole or not, tag or analysis', (t) => {
  t.is(formatBpm(128), '128.0')
  t.is(formatBpm(126), '126.0')
  t.is(formatBpm(135.04), '135.0')
  t.is(formatBpm(128.46), '128.5')
  t.is(formatBpm(127.95), '128.0')
  t.is(formatBpm(128.25), '128.3')
  t.is(formatBpm(87.5), '87.5')
  t.is(formatBpm(174), '174.0')
  t.is(formatBpm(Infinity), '')
  // One rule, so every value in a column has the same shape.
  const shapes = new Set([120, 120.5, 126, 135.04, 99.99, 174.2].map((b) => formatBpm(b).replace(/\d+/g, 'n')))
  t.deepEqual([...shapes], ['n.n'])
})
