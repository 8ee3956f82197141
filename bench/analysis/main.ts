// Command line of the analysis benchmark: runs it, prints the table and
// writes the results as JSON. Returns an exit code: 0 done (targets missed
// or not: they are reported, not enforced), 1 the benchmark itself failed,
// 2 bad usage.
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { positiveCount, runAndReport } from '../common.ts'
import { REPO } from '../scan/measure.ts'
import { runAnalysisBench } from './analysis-bench.ts'
import { formatResults } from './report.ts'

const USAGE = `Usage: npm run bench:analysis -- [options]

  --tracks N      tracks in the corpus (default 24: 4 of each genre, every key once)
  --quick         a smoke run: 8 tracks of 30 s; results not written unless --out is given
  --corpus DIR    make the corpus in DIR and keep it, or reuse the one there if it
                  has the same spec (default: a temp dir, removed at the end)
  --out FILE      where to write the JSON results (default bench/results/analysis.json)
  --tmp DIR       where the temp corpus goes (default: the OS temp dir, $TMPDIR)
  --no-yardstick  djcloud only (quick iterations on src/analysis; no ratios)
`

export async function analysisBenchMain(argv: string[]): Promise<number> {
  let opts
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        tracks: { type: 'string' },
        quick: { type: 'boolean' },
        corpus: { type: 'string' },
        out: { type: 'string' },
        tmp: { type: 'string' },
        'no-yardstick': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) {
      process.stdout.write(USAGE)
      return 0
    }
    const quick = !!values.quick
    opts = {
      tracks: positiveCount(values.tracks, quick ? 8 : 24),
      minSeconds: quick ? 30 : 60,
      maxSeconds: quick ? 30 : 90,
      ...(values.corpus ? { corpusDir: resolve(values.corpus) } : {}),
      out: values.out ?? (quick ? undefined : resolve(REPO, 'bench/results/analysis.json')),
      tmp: resolve(values.tmp ?? tmpdir()),
      yardstick: !values['no-yardstick'],
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  return runAndReport('analysis', opts.out, (log) => runAnalysisBench({ ...opts, log }), formatResults)
}
