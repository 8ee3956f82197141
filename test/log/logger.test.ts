// The logger frame: djcloud:<namespace>, an instance prefix of 8 hex digits,
// nothing written (and no argument formatted) while the namespace is off.
import test from 'ava'
import { logger, shortId } from '../../src/log/index.ts'
import { debugLines } from '../helpers/debug-lines.ts'

test.serial('off by default: nothing is written and nothing is formatted', (t) => {
  const lines = debugLines(t, '')
  const log = logger('swarm:torrent')
  t.false(log.enabled)
  let formatted = false
  log('piece %d from %O', 1, { toJSON: () => (formatted = true) })
  log.instance('ab'.repeat(20))('peer %s', 'home')
  t.deepEqual(lines, [])
  t.false(formatted)
})

test.serial('a namespace switched on writes its lines, each instance with its short id', (t) => {
  const lines = debugLines(t, 'djcloud:swarm:*')
  const log = logger('swarm:torrent')
  t.true(log.enabled)
  t.is(log.namespace, 'djcloud:swarm:torrent')
  log.instance(Buffer.from('0123456789abcdef0123', 'hex'))('piece %d verified (from %s)', 7, 'home')
  logger('tracker:admission')('not on: %s', 'tracker')
  t.is(lines.length, 1)
  t.regex(lines[0]!, /djcloud:swarm:torrent.*\[01234567\] piece 7 verified \(from home\)/)
})

test('shortId: the first 8 hex digits of bytes or of a hex string', (t) => {
  t.is(shortId(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2])), 'deadbeef')
  t.is(shortId('0123456789abcdef'), '01234567')
  t.is(shortId(Buffer.from([1, 2]).subarray(1)), '02')
})
