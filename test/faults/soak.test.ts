// The fault soak's two-minute variant (the full one is `npm run bench:faults`,
// bench/README.md): a real circle of three own devices and a friend under
// streams, pulls, rescans, playlist edits, backup pushes and cache evictions
// while a device is killed (-9) or stopped (SIGTERM) and restarted every few
// seconds. Nothing may be lost, and every end check must have run.
import test from 'ava'
import { tmpdir } from 'node:os'
import { runSoak } from '../../bench/faults/soak.ts'
import { formatResults } from '../../bench/faults/main.ts'

test('two minutes of kills and restarts under load lose nothing, and every end check runs', async (t) => {
  // Set-up ~20 s, chaos 2 min, settling and the end checks ~1-2 min: generous on a loaded 2-core machine.
  t.timeout(12 * 60_000)
  const r = await runSoak({ durationMs: 2 * 60_000, seed: 11, killEveryMs: 4_000, tmp: tmpdir(), log: (line) => t.log(line) })
  t.log(formatResults(r))
  t.deepEqual(r.losses, [], 'losses')
  t.true(r.kills > 0, 'some kill -9')
  t.true(r.termStops + r.checks['final SIGTERM stops']! > 0, 'some SIGTERM stops')
  t.true(r.restarts >= r.kills + r.termStops, 'every stopped device came back')
  for (const kind of ['stream', 'pull', 'scan', 'playlist', 'backup', 'evict']) t.true((r.operations[kind]?.ok ?? 0) > 0, `${kind} succeeded at least once`)
  for (const check of [
    'own devices linked again after the chaos',
    'final rescans',
    'caches with no fetch left running',
    'final pulls gig-ready',
    'playlists equal on every own device',
    'playlist entries kept (every seen entry not removed)',
    'friend holds the latest backup',
    'final SIGTERM stops',
    'library stores opened',
    'manifest stores opened',
    'library files verified by SHA-256',
    'cached files verified by SHA-256',
    'backup copies verified (SHA-256 and signature)',
  ]) t.true((r.checks[check] ?? 0) > 0, `check ran: ${check}`)
  t.is(r.checks['final pulls gig-ready'], 6, 'both playlists gig-ready on all three own devices')
  t.is(r.checks['library stores opened'], 4, 'all four homes')
})
