// Command line of the swarm benchmark: runs it, prints the table and writes
// the results as JSON. Returns an exit code: 0 done (targets missed or not:
// they are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { formatResults } from './report.ts'
import { runSwarmBench } from './swarm-bench.ts'
import { benchMain, positiveCount } from '../common.ts'

const USAGE = `Usage: npm run bench:swarm -- [options]

  --size MB     size of the track in MB (default 200)
  --rounds N    timed downloads per configuration (default 5)
  --samples N   reads per latency figure (default 20)
  --no-yardstick  skip libtorrent (djcloud TLS and plain only, no libtorrent ratios)
  --quick       a smoke run: 50 MB, 1 round, 5 samples; results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/swarm.json)
  --tmp DIR     where the track and the downloads go (default: the OS temp dir, $TMPDIR)
`

export function swarmBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'swarm',
    argv,
    usage: USAGE,
    flags: { size: { type: 'string' }, rounds: { type: 'string' }, samples: { type: 'string' }, 'no-yardstick': { type: 'boolean' } },
    options: (values, quick) => ({
      size: positiveCount(values.size as string | undefined, quick ? 50 : 200) * 1_000_000,
      rounds: positiveCount(values.rounds as string | undefined, quick ? 1 : 5),
      samples: positiveCount(values.samples as string | undefined, quick ? 5 : 20),
      yardstick: !values['no-yardstick'],
    }),
    run: runSwarmBench,
    format: formatResults,
  })
}
