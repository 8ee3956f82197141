import test from 'ava'
import { contentRange, parseRange } from '../../src/player/index.ts'

test('no header', (t) => {
  t.deepEqual(parseRange(undefined, 100), { type: 'none' })
})

test('single ranges: closed, open-ended, suffix, clamped', (t) => {
  t.deepEqual(parseRange('bytes=0-0', 100), { type: 'single', start: 0, end: 0 })
  t.deepEqual(parseRange('bytes=10-19', 100), { type: 'single', start: 10, end: 19 })
  t.deepEqual(parseRange('bytes=90-', 100), { type: 'single', start: 90, end: 99 })
  t.deepEqual(parseRange('bytes=99-99', 100), { type: 'single', start: 99, end: 99 })
  t.deepEqual(parseRange('bytes=50-1000', 100), { type: 'single', start: 50, end: 99 })
  t.deepEqual(parseRange('bytes=-1', 100), { type: 'single', start: 99, end: 99 })
  t.deepEqual(parseRange('bytes=-100', 100), { type: 'single', start: 0, end: 99 })
  t.deepEqual(parseRange('bytes=-5000', 100), { type: 'single', start: 0, end: 99 })
  t.deepEqual(parseRange('Bytes = 1-2 ', 100), { type: 'single', start: 1, end: 2 })
  t.deepEqual(parseRange('bytes=1-2,', 100), { type: 'single', start: 1, end: 2 }, 'empty list elements are allowed')
  t.deepEqual(parseRange('bytes=0-99999999999999999999', 100), { type: 'single', start: 0, end: 99 }, 'a huge end is clamped')
  t.deepEqual(parseRange('bytes=-99999999999999999999', 100), { type: 'single', start: 0, end: 99 })
})

test('unsatisfiable: start at or past the end, empty suffix, empty representation', (t) => {
  t.deepEqual(parseRange('bytes=100-', 100), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=100-200', 100), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=99999999999999999999-', 100), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=-0', 100), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=0-', 0), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=-10', 0), { type: 'unsatisfiable' })
  t.deepEqual(parseRange('bytes=200-, 300-400', 100), { type: 'unsatisfiable' }, 'none of several')
})

test('ignored: other units, bad syntax, several ranges', (t) => {
  t.deepEqual(parseRange('items=0-1', 100), { type: 'ignored', reason: 'unit' })
  for (const h of ['bytes', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=5-4', 'bytes=1-2-3', 'bytes=0x10-', 'bytes=1 -2', 'bytes=+1-2', 'bytes=1.5-2', 'bytes=,', '=0-1']) {
    t.is(parseRange(h, 100).type, 'ignored', h)
  }
  t.deepEqual(parseRange('bytes=abc', 100), { type: 'ignored', reason: 'malformed' })
  t.deepEqual(parseRange('bytes=0-1,5-6', 100), { type: 'ignored', reason: 'multiple' })
  t.deepEqual(parseRange('bytes=0-1, 500-', 100), { type: 'ignored', reason: 'multiple' }, 'one satisfiable of several is still several')
  t.deepEqual(parseRange('bytes=0-1,x', 100), { type: 'ignored', reason: 'malformed' }, 'one bad element spoils the header')
})

test('Content-Range values', (t) => {
  t.is(contentRange(100, { start: 0, end: 9 }), 'bytes 0-9/100')
  t.is(contentRange(100), 'bytes */100')
})
