// Command line of the UI benchmark: runs it, prints the figures and writes
// them as JSON. Returns an exit code: 0 done (targets missed or not: they
// are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { runUiBench, type UiBenchResults } from './ui-bench.ts'

const USAGE = `Usage: npm run bench:ui -- [options]

  --tracks N   synthetic tracks on each of the two offline devices (default 10000: a 20,000-track union)
  --plays N    tracks played, each once (default 10)
  --loads N    page loads timed for time to interactive (default 5)
  --quick      a smoke run: 1000 tracks each, 3 plays, 2 loads; results not written unless --out is given
  --out FILE   where to write the JSON results (default bench/results/ui.json)
  --tmp DIR    where the homes go (default: the OS temp dir, $TMPDIR)

Needs Debian's chromium (/usr/bin/chromium, or DJCLOUD_CHROMIUM) and a built UI (npm run build).
`

const ok = (met: boolean) => (met ? 'met' : 'MISSED')

export function formatResults(r: UiBenchResults): string {
  const c = r.clickToPlaying
  const row = (label: string, p: { p50: number; p95: number; max: number }, extra: string) => `${label.padEnd(44)}${`${p.p50} ms`.padEnd(10)}${`${p.p95} ms`.padEnd(10)}${`${p.max} ms`.padEnd(10)}${extra}`
  return [
    `UI benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, ${r.machine.chromium}, commit ${r.commit ?? '?'}`,
    `union library of ${r.union.tracks} tracks on the laptop; played tracks held by ${r.union.playedHeldBy.join(' and ')} only`,
    '',
    `${'figure'.padEnd(44)}${'p50'.padEnd(10)}${'p95'.padEnd(10)}${'max'.padEnd(10)}target`,
    row(`time to interactive (${r.interactive.how})`, r.interactive, `${r.interactive.target}: ${ok(r.interactive.met)}`),
    row('click to playing, djcloud (other devices)', c.djcloud, `p95 ${c.ratioP95}x the static file; ${c.target}: ${ok(c.met)}`),
    row('click to playing, static file, local disk', c.staticFile, 'yardstick'),
  ].join('\n')
}

export function uiBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'ui',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, plays: { type: 'string' }, loads: { type: 'string' } },
    options: (values, quick) => ({
      tracks: positiveCount(values.tracks as string | undefined, quick ? 1000 : 10_000),
      plays: positiveCount(values.plays as string | undefined, quick ? 3 : 10),
      loads: positiveCount(values.loads as string | undefined, quick ? 2 : 5),
      seconds: 90,
    }),
    run: runUiBench,
    format: formatResults,
  })
}
