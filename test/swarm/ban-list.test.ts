import test from 'ava'
import { BanList } from '../../src/swarm/ban-list.ts'

test('three failures within ten minutes throttle an address for ten minutes', (t) => {
  let now = 0
  const bans = new BanList({ now: () => now })
  bans.failure('10.0.0.9')
  bans.failure('10.0.0.9')
  t.false(bans.throttled('10.0.0.9'))
  now += 9 * 60_000
  bans.failure('10.0.0.9')
  t.true(bans.throttled('10.0.0.9'))
  t.false(bans.throttled('10.0.0.8'))
  now += 10 * 60_000 + 1
  t.false(bans.throttled('10.0.0.9'))
})

test('failures spread over more than ten minutes do not add up', (t) => {
  let now = 0
  const bans = new BanList({ now: () => now })
  for (let i = 0; i < 5; i++) {
    bans.failure('10.0.0.9')
    now += 6 * 60_000
  }
  t.false(bans.throttled('10.0.0.9'))
})

test('a throttled address gets a few handshakes per window, not none and not all', (t) => {
  let now = 0
  const bans = new BanList({ now: () => now, throttleHandshakes: 2, throttleWindowMs: 1000 })
  t.true(bans.admit('10.0.0.9'))
  for (let i = 0; i < 3; i++) bans.failure('10.0.0.9')
  const first = Array.from({ length: 5 }, () => bans.admit('10.0.0.9'))
  t.deepEqual(first, [true, true, false, false, false])
  t.true(bans.admit('10.0.0.8')) // another address is untouched
  now += 1000
  t.deepEqual([bans.admit('10.0.0.9'), bans.admit('10.0.0.9'), bans.admit('10.0.0.9')], [true, true, false])
  t.like(bans.stats, { throttledAddresses: 1, throttledAdmitted: 4, throttledRefused: 4 })
})

test('a device key is banned by its own failures, and its address is not', (t) => {
  const bans = new BanList({ now: () => 0 })
  bans.identityFailure('aa'.repeat(32), 'revoked')
  bans.identityFailure('aa'.repeat(32), 'revoked')
  t.false(bans.identityBanned('aa'.repeat(32)))
  bans.identityFailure('aa'.repeat(32), 'revoked')
  t.true(bans.identityBanned('aa'.repeat(32)))
  t.false(bans.identityBanned('bb'.repeat(32)))
  bans.banIdentity('cc'.repeat(32), 'sent piece 3 with a bad hash')
  t.true(bans.identityBanned('cc'.repeat(32)))
  t.like(bans.stats, { throttledAddresses: 0, bannedIdentities: 2 })
})

test('loopback is exempt from address strikes unless told otherwise', (t) => {
  const exempt = new BanList({ now: () => 0 })
  const strict = new BanList({ now: () => 0, exemptLoopback: false })
  for (let i = 0; i < 3; i++) {
    exempt.failure('127.0.0.1')
    strict.failure('127.0.0.1')
  }
  t.false(exempt.throttled('127.0.0.1'))
  t.true(strict.throttled('127.0.0.1'))
})
