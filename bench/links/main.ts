// Command line of the link-crypto comparison: runs it, prints the table and
// writes the results as JSON. 0 done, 1 the benchmark itself failed, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { formatLinks, runLinksBench } from './links-bench.ts'

const USAGE = `Usage: npm run bench:links -- [options]

  --size MB        bytes per transfer, in MB (default 1000)
  --rounds N       transfers per transport (default 3)
  --noise-dir DIR  where @hyperswarm/secret-stream is installed, outside the repository
                   (default /tmp/noise-bench: npm install --prefix /tmp/noise-bench @hyperswarm/secret-stream);
                   its row is skipped, with the reason, when it is not there
  --quick          a smoke run: 100 MB, 1 round; results not written unless --out is given
  --out FILE       where to write the JSON results (default bench/results/links.json)
`

export function linksBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'links',
    argv,
    usage: USAGE,
    flags: { size: { type: 'string' }, rounds: { type: 'string' }, 'noise-dir': { type: 'string' } },
    options: (values, quick) => ({
      size: positiveCount(values.size as string | undefined, quick ? 100 : 1000) * 1_000_000,
      rounds: positiveCount(values.rounds as string | undefined, quick ? 1 : 3),
      noiseDir: (values['noise-dir'] as string | undefined) ?? '/tmp/noise-bench',
    }),
    run: runLinksBench,
    format: formatLinks,
  })
}
