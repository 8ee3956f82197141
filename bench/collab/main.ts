// Command line of the collaborative playlist benchmark: runs it, prints the
// figures and writes them as JSON. Exit code: 0 done, 1 failed, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { runCollabBench, type CollabBenchResults } from './collab-bench.ts'

const USAGE = `Usage: npm run bench:collab -- [options]

  --edits N     edits timed each way, and BEP 44 put -> get rounds (default 40)
  --poll MS     ms between the nodes' reads of the DHT items in the DHT-alone part (default 250)
  --quick       a smoke run: 5 edits; results not written unless --out is given
  --out FILE    where to write the JSON results (default bench/results/collab.json)
  --tmp DIR     where the homes go (default: the OS temp dir, $TMPDIR)
`

export function formatResults(r: CollabBenchResults): string {
  const p = (x: { p50: number; p95: number; max: number }) => `p50 ${x.p50} ms, p95 ${x.p95} ms, max ${x.max} ms`
  return [
    `collab benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}`,
    '',
    `an edit on Alex's device seen on Fiona's devices, through the device links (${r.edits} edits):`,
    `  each device: ${p(r.links.perDevice)}`,
    `  both:        ${p(r.links.both)}`,
    `an edit on Alex's device seen on Fiona's devices, through the DHT alone (no link between the circles; items read every ${r.dhtAlone.pollMs} ms):`,
    `  each device: ${p(r.dhtAlone.perDevice)}`,
    `  both:        ${p(r.dhtAlone.both)}`,
    `floor, a bare BEP 44 put -> get in the same DHT: ${p(r.floor)}`,
    `ratio (both p95 / floor p95): links ${r.ratio}x, DHT alone ${r.dhtRatio}x`,
  ].join('\n')
}

export function collabBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'collab',
    argv,
    usage: USAGE,
    flags: { edits: { type: 'string' }, poll: { type: 'string' } },
    options: (values, quick) => ({ edits: positiveCount(values.edits as string | undefined, quick ? 5 : 40), pollMs: positiveCount(values.poll as string | undefined, 250) }),
    run: runCollabBench,
    format: formatResults,
  })
}
