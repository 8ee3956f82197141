// Command line of the gig benchmark: runs it, prints the figures and writes
// them as JSON. Returns an exit code: 0 done (targets are reported, the issue
// sets none), 1 the benchmark itself failed, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { runGigBench, type GigBenchResults } from './gig-bench.ts'

const USAGE = `Usage: npm run bench:gig -- [options]

  --tracks N    tracks in the pulled playlist (default 50)
  --mb N        MB of each track (default 10: ~500 MB in all)
  --library N   recordings in the backed-up library (default 10000)
  --quick       a smoke run: 6 tracks of 5 MB, a library of 500; results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/gig.json)
  --tmp DIR     where the homes and tracks go (default: the OS temp dir, $TMPDIR)
`

export function formatResults(r: GigBenchResults): string {
  const p = r.pull
  const b = r.backup
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
  return [
    `gig benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}`,
    '',
    `pull of ${p.tracks} tracks (${mb(p.bytes)}) from home-pc and phone: ${s(p.ms)} (${(p.bytes / 1e6 / (p.ms / 1000)).toFixed(0)} MB/s), gig-ready: ${p.ready}; sources ${Object.entries(p.sources).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`,
    `  cp -r of the same files from local disk: ${s(p.cpMs)}; ratio ${p.ratio}x`,
    `backup of ${b.recordings} analysed recordings (cues on ${b.cued}): ${mb(b.bytes)}, push ${s(b.pushMs)} (both friends holding it at ${s(b.heldMs)}), restore from the phrase ${s(b.restoreMs)}`,
    `  tar czf | openssl enc -aes-256-ctr of the same ${mb(b.yardstick.plainBytes)} of metadata: ${mb(b.yardstick.bytes)}, ${s(b.yardstick.ms)}, back ${s(b.yardstick.restoreMs)}`,
    `  ratios: size ${b.sizeRatio}x, push ${b.pushRatio}x, restore ${b.restoreRatio}x`,
  ].join('\n')
}

export function gigBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'gig',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, mb: { type: 'string' }, library: { type: 'string' } },
    options: (values, quick) => ({
      tracks: positiveCount(values.tracks as string | undefined, quick ? 6 : 50),
      trackBytes: positiveCount(values.mb as string | undefined, quick ? 5 : 10) * 1_000_000,
      library: positiveCount(values.library as string | undefined, quick ? 500 : 10_000),
    }),
    run: runGigBench,
    format: formatResults,
  })
}
