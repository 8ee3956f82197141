// Command line of the NAT benchmark: runs it, prints the table and writes the
// results as JSON. Exit code 0 done (targets are reported, not enforced), 1
// the benchmark failed (also when the NAT lab cannot be built here), 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { formatResults } from './report.ts'
import { runNatBench } from './nat-bench.ts'

const USAGE = `Usage: npm run bench:nat -- [options]     (as root: it builds network namespaces)

  --size MB       size of the throughput track in MB (default 50)
  --uplink MBIT   each NAT's uplink in Mbit/s (default 20)
  --rtt MS        round trip between any two lab hosts in ms (default 100)
  --samples N     link set-ups and first-byte samples of each path (default 20)
  --quick         a smoke run: 10 MB, 4 samples; results not written unless --out is given
  --out FILE      where to write the JSON results (default bench/results/nat.json)
  --tmp DIR       where the tracks and homes go (default: the OS temp dir)
`

const number = (v: string | undefined, fallback: number, what: string): number => {
  const n = v === undefined ? fallback : Number(v)
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`${what}: not a number >= 0: ${v}`)
  return n
}

export function natBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'nat',
    argv,
    usage: USAGE,
    flags: { size: { type: 'string' }, uplink: { type: 'string' }, rtt: { type: 'string' }, samples: { type: 'string' } },
    options: (values, quick) => ({
      size: positiveCount(values.size as string | undefined, quick ? 10 : 50) * 1_000_000,
      uplinkMbit: number(values.uplink as string | undefined, 20, '--uplink'),
      rttMs: number(values.rtt as string | undefined, 100, '--rtt'),
      samples: positiveCount(values.samples as string | undefined, quick ? 4 : 20),
    }),
    run: runNatBench,
    format: formatResults,
  })
}
