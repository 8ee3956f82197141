// Command line of the scan benchmark: runs it, prints the table and writes
// the results as JSON. Returns an exit code: 0 done (targets missed or not:
// they are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO } from './measure.ts'
import { formatResults } from './report.ts'
import { runScanBench } from './scan-bench.ts'
import { positiveCount, runAndReport } from '../common.ts'

const USAGE = `Usage: npm run bench:scan -- [options]

  --tracks N    tracks of 3-12 MB for throughput (default 200)
  --library N   tracks of 100-300 KB for rescan and memory (default 10000)
  --quick       a smoke run: 20 and 500 tracks, results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/scan.json)
  --tmp DIR     where to generate the audio (default: the OS temp dir, $TMPDIR)
`

const count = positiveCount

export async function scanBenchMain(argv: string[]): Promise<number> {
  let opts
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        tracks: { type: 'string' },
        library: { type: 'string' },
        quick: { type: 'boolean' },
        out: { type: 'string' },
        tmp: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) {
      process.stdout.write(USAGE)
      return 0
    }
    opts = {
      tracks: count(values.tracks, values.quick ? 20 : 200),
      library: count(values.library, values.quick ? 500 : 10_000),
      out: values.out ?? (values.quick ? undefined : resolve(REPO, 'bench/results/scan.json')),
      tmp: resolve(values.tmp ?? tmpdir()),
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  return runAndReport('scan', opts.out, (log) => runScanBench({ ...opts, log }), formatResults)
}
