// Command line of the fault soak: runs it, prints the counts (or the JSON)
// and writes them. Exit code 0 when nothing was lost, 1 on any loss or when
// the soak itself could not run, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { runSoak, type SoakResults } from './soak.ts'

const USAGE = `Usage: npm run bench:faults -- [options]

A bounded soak of a real circle (home-pc, laptop, phone and a friend's device) under
streaming, gig pulls, rescans, playlist edits, backup pushes and cache evictions, while a
random device is killed (-9) or stopped (SIGTERM) and restarted every few seconds; then
the end checks. Exits 1 on any loss.

  --minutes N      how long the chaos runs (default 10)
  --seed N         seed of the random choices (default 1)
  --kill-every S   mean seconds between stops (default 6)
  --json           print the results as JSON instead of the table
  --quick          a smoke run: 2 minutes, a stop every 4 s; results not written unless --out is given
  --out FILE       where to write the JSON results (default bench/results/faults.json)
  --tmp DIR        where the homes and tracks go (default: the OS temp dir, $TMPDIR)
`

export function formatResults(r: SoakResults): string {
  const lines = [
    `fault soak, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}`,
    `${r.options.minutes} min of chaos (seed ${r.options.seed}, a stop every ~${r.options.killEverySeconds} s, ${Math.round(r.options.termShare * 100)}% by SIGTERM); ${r.totalSeconds} s in all`,
    '',
    `stops: ${r.kills} kill -9, ${r.termStops} SIGTERM; ${r.restarts} restarts; SIGTERM to exit: max ${r.termExitMs.max} ms, mean ${r.termExitMs.mean} ms over ${r.termExitMs.count}`,
    '',
    'operation   ok   failed (device down)   failed (all up)',
  ]
  for (const [kind, c] of Object.entries(r.operations)) lines.push(`${kind.padEnd(10)} ${String(c.ok).padStart(4)}   ${String(c.expected).padStart(20)}   ${String(c.unexpected).padStart(15)}`)
  lines.push('', 'failures by kind:')
  for (const [k, n] of Object.entries(r.failures).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(4)}  ${k}`)
  lines.push('', 'checks:')
  for (const [k, n] of Object.entries(r.checks)) lines.push(`  ${String(n).padStart(4)}  ${k}`)
  lines.push('', `tracks written ${r.tracksWritten}, playlist entries seen ${r.playlistEntriesSeen}, latest backup seq ${r.latestBackup}`)
  lines.push('', `losses: ${r.losses.length}`)
  for (const l of r.losses) lines.push(`  ${l.kind}: ${l.detail}`)
  return lines.join('\n')
}

export function faultsMain(argv: string[]): Promise<number> {
  let json = false
  return benchMain({
    name: 'faults',
    argv,
    usage: USAGE,
    flags: { minutes: { type: 'string' }, seed: { type: 'string' }, 'kill-every': { type: 'string' }, json: { type: 'boolean' } },
    options: (values, quick) => {
      json = values.json === true
      const minutes = Number(values.minutes ?? (quick ? 2 : 10))
      if (!(minutes > 0 && minutes <= 24 * 60)) throw new TypeError(`--minutes must be above 0 and at most a day: ${values.minutes}`)
      const killEvery = Number(values['kill-every'] ?? (quick ? 4 : 6))
      if (!(killEvery >= 1 && killEvery <= 3600)) throw new TypeError(`--kill-every must be 1-3600 seconds: ${values['kill-every']}`)
      return { durationMs: minutes * 60_000, seed: positiveCount(values.seed as string | undefined, 1), killEveryMs: killEvery * 1000 }
    },
    run: runSoak,
    format: (r) => (json ? JSON.stringify(r, null, 2) : formatResults(r)),
    verdict: (r) => (r.losses.length ? 1 : 0),
  })
}
