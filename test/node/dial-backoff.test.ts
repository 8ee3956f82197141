import test from 'ava'
import { DialBackoff } from '../../src/node/dial-backoff.ts'

test('a failed dial is left alone 30 s at first, doubling per failure in a row up to an hour; a success forgets it', (t) => {
  let now = 0
  const b = new DialBackoff({ now: () => now })
  const at = 'ch@127.0.0.1:7461'
  t.true(b.allows(at))
  b.failed(at) // a device killed mid-handshake looks like this too
  t.false(b.allows(at))
  now = 29_999
  t.false(b.allows(at))
  now = 30_000
  t.true(b.allows(at), 'dialled again after 30 s, not after an hour')
  b.failed(at)
  now += 59_999
  t.false(b.allows(at))
  now += 1
  t.true(b.allows(at))
  for (let i = 0; i < 12; i++) b.failed(at)
  now += 60 * 60_000 - 1
  t.false(b.allows(at))
  now += 1
  t.true(b.allows(at), 'never more than an hour')
  b.failed(at)
  b.succeeded(at)
  t.true(b.allows(at))
  b.failed(at)
  now += 30_000
  t.true(b.allows(at), 'after a success the count starts over')
})

test('the addresses remembered are capped; the oldest failure is forgotten first', (t) => {
  const b = new DialBackoff({ now: () => 0, maxEntries: 2 })
  b.failed('a')
  b.failed('b')
  b.failed('c')
  t.true(b.allows('a'))
  t.false(b.allows('b'))
  t.false(b.allows('c'))
})
