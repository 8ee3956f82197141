// Command line of the scan benchmark: runs it, prints the table and writes
// the results as JSON. Returns an exit code: 0 done (targets missed or not:
// they are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { formatResults } from './report.ts'
import { runScanBench } from './scan-bench.ts'
import { benchMain, positiveCount } from '../common.ts'

const USAGE = `Usage: npm run bench:scan -- [options]

  --tracks N    tracks of 3-12 MB for throughput (default 200)
  --library N   tracks of 100-300 KB for rescan and memory (default 10000)
  --quick       a smoke run: 20 and 500 tracks, results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/scan.json)
  --tmp DIR     where to generate the audio (default: the OS temp dir, $TMPDIR)
`

export function scanBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'scan',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, library: { type: 'string' } },
    options: (values, quick) => ({
      tracks: positiveCount(values.tracks as string | undefined, quick ? 20 : 200),
      library: positiveCount(values.library as string | undefined, quick ? 500 : 10_000),
    }),
    run: runScanBench,
    format: formatResults,
  })
}
