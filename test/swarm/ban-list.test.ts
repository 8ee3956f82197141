import test from 'ava'
import { BanList } from '../../src/swarm/ban-list.ts'

test('three failures within ten minutes ban an address for ten minutes', (t) => {
  let now = 0
  const bans = new BanList(() => now)
  bans.failure('10.0.0.9')
  bans.failure('10.0.0.9')
  t.false(bans.banned('10.0.0.9'))
  now += 9 * 60_000
  bans.failure('10.0.0.9')
  t.true(bans.banned('10.0.0.9'))
  t.false(bans.banned('10.0.0.8'))
  now += 10 * 60_000 + 1
  t.false(bans.banned('10.0.0.9'))
})

test('failures spread over more than ten minutes do not add up', (t) => {
  let now = 0
  const bans = new BanList(() => now)
  for (let i = 0; i < 5; i++) {
    bans.failure('10.0.0.9')
    now += 6 * 60_000
  }
  t.false(bans.banned('10.0.0.9'))
})
