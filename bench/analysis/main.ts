// Command line of the analysis benchmark: runs it, prints the table and
// writes the results as JSON. Returns an exit code: 0 done (targets missed
// or not: they are reported, not enforced), 1 the benchmark itself failed,
// 2 bad usage.
import { resolve } from 'node:path'
import { benchMain, positiveCount } from '../common.ts'
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

export function analysisBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'analysis',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, corpus: { type: 'string' }, 'no-yardstick': { type: 'boolean' } },
    options: (values, quick) => ({
      tracks: positiveCount(values.tracks as string | undefined, quick ? 8 : 24),
      minSeconds: quick ? 30 : 60,
      maxSeconds: quick ? 30 : 90,
      ...(values.corpus ? { corpusDir: resolve(values.corpus as string) } : {}),
      yardstick: !values['no-yardstick'],
    }),
    run: runAnalysisBench,
    format: formatResults,
  })
}
