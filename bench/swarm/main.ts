// Command line of the swarm benchmark: runs it, prints the table and writes
// the results as JSON. Returns an exit code: 0 done (targets missed or not:
// they are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO } from '../scan/measure.ts'
import { formatResults } from './report.ts'
import { runSwarmBench } from './swarm-bench.ts'
import { positiveCount, runAndReport } from '../common.ts'

const USAGE = `Usage: npm run bench:swarm -- [options]

  --size MB     size of the track in MB (default 200)
  --rounds N    timed downloads per configuration (default 5)
  --samples N   reads per latency figure (default 20)
  --no-yardstick  skip libtorrent (djcloud figures only, no ratios)
  --quick       a smoke run: 50 MB, 1 round, 5 samples; results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/swarm.json)
  --tmp DIR     where the track and the downloads go (default: the OS temp dir, $TMPDIR)
`

const count = positiveCount

export async function swarmBenchMain(argv: string[]): Promise<number> {
  let opts
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        size: { type: 'string' },
        rounds: { type: 'string' },
        samples: { type: 'string' },
        quick: { type: 'boolean' },
        'no-yardstick': { type: 'boolean' },
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
      size: count(values.size, values.quick ? 50 : 200) * 1_000_000,
      rounds: count(values.rounds, values.quick ? 1 : 5),
      samples: count(values.samples, values.quick ? 5 : 20),
      out: values.out ?? (values.quick ? undefined : resolve(REPO, 'bench/results/swarm.json')),
      tmp: resolve(values.tmp ?? tmpdir()),
      yardstick: !values['no-yardstick'],
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  return runAndReport('swarm', opts.out, (log) => runSwarmBench({ ...opts, log }), formatResults)
}
