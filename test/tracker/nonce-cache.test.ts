// The replay cache: bounded, and forgetting never opens a replay.
import test from 'ava'
import { NonceCache, REPLAY_WINDOW } from '../../tracker/index.ts'

test('a nonce is refused while remembered and forgotten after the window', (t) => {
  const c = new NonceCache(10)
  const now = 1_000_000
  t.true(c.admit('a', now, now))
  t.false(c.admit('a', now, now + 1))
  t.false(c.admit('a', now, now + REPLAY_WINDOW - 1))
  t.true(c.admit('b', now + REPLAY_WINDOW, now + REPLAY_WINDOW))
  t.is(c.size, 1, 'a left the window')
})

test('at the cap the oldest nonce is forgotten, and announces not newer than it are refused', (t) => {
  const c = new NonceCache(3)
  t.true(c.admit('n1', 100, 1000))
  t.true(c.admit('n2', 200, 1001))
  t.true(c.admit('n3', 300, 1002))
  t.true(c.admit('n4', 400, 1003)) // forgets n1 (ts 100)
  t.is(c.size, 3)
  t.false(c.admit('n1', 100, 1004), 'a replay of the forgotten nonce')
  t.false(c.admit('n5', 90, 1005), 'any announce as old as the forgotten one')
  t.true(c.admit('n6', 500, 1006))
  t.throws(() => new NonceCache(0), { instanceOf: RangeError })
})
