// Command line of the WAN benchmark: runs it, prints the table and writes the
// results as JSON. Exit code 0 done (targets are reported, not enforced), 1
// the benchmark failed (also when the WAN lab cannot be built here), 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { formatResults } from './report.ts'
import { runWanBench } from './wan-bench.ts'

const USAGE = `Usage: npm run bench:wan -- [options]     (as root: it builds network namespaces)

  --size MB       size of the big track in MB (default 200)
  --seeders N     seeders (default 3)
  --uplink MBIT   each seeder's uplink in Mbit/s (default 20)
  --rtt MS        round trip in ms (default 100)
  --loss PCT      random loss in percent, each direction (default 1)
  --samples N     first-byte samples of each kind (default 20)
  --cc NAME       select this TCP congestion control in every host (default: the kernel's; a namespace takes reno or bbr here)
  --no-yardstick  skip libtorrent
  --quick         a smoke run: 40 MB, 5 samples; results not written unless --out is given
  --out FILE      where to write the JSON results (default bench/results/wan.json)
  --tmp DIR       where the tracks and homes go (default: the OS temp dir)
`

const number = (v: string | undefined, fallback: number, what: string): number => {
  const n = v === undefined ? fallback : Number(v)
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`${what}: not a number >= 0: ${v}`)
  return n
}

export function wanBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'wan',
    argv,
    usage: USAGE,
    flags: {
      size: { type: 'string' }, seeders: { type: 'string' }, uplink: { type: 'string' }, rtt: { type: 'string' }, loss: { type: 'string' },
      samples: { type: 'string' }, cc: { type: 'string' }, 'no-yardstick': { type: 'boolean' },
    },
    options: (values, quick) => ({
      size: positiveCount(values.size as string | undefined, quick ? 40 : 200) * 1_000_000,
      seeders: positiveCount(values.seeders as string | undefined, 3),
      uplinkMbit: number(values.uplink as string | undefined, 20, '--uplink'),
      receiverMbit: 100,
      rttMs: number(values.rtt as string | undefined, 100, '--rtt'),
      lossPercent: number(values.loss as string | undefined, 1, '--loss'),
      samples: positiveCount(values.samples as string | undefined, quick ? 5 : 20),
      tcpSeconds: quick ? 8 : 15,
      cc: values.cc as string | undefined,
      yardstick: !values['no-yardstick'],
    }),
    run: runWanBench,
    format: formatResults,
  })
}
