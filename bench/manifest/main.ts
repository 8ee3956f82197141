// Command line of the manifest benchmark: runs it, prints a summary and writes
// the results as JSON. Returns an exit code: 0 done (targets missed or not:
// they are reported, not enforced), 1 the benchmark itself failed, 2 bad usage.
import { benchMain, positiveCount, table } from '../common.ts'
import { runManifestBench, type ManifestBenchResults } from './manifest-bench.ts'

const USAGE = `Usage: npm run bench:manifest -- [options]

  --dht-nodes N  DHT nodes in all, the two djcloud nodes included (default 100)
  --rounds N     timed rounds of the floor and of each playlist path (default 20)
  --tracks N     tracks of the library manifest and of each device in the memory test (default 10000)
  --edits N      one-track changes timed after the full library (default 5)
  --quick        a smoke run: 30 DHT nodes, 5 rounds, 2000 tracks, 2 edits; results not written unless --out is given
  --out FILE     where to write the JSON results (default bench/results/manifest.json)
  --tmp DIR      where the homes go (default: the OS temp dir, $TMPDIR)

DJCLOUD_BENCH_DEBUG=1 also prints the nodes' warnings.
`

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0
const ok = (met: boolean) => (met ? 'met' : 'MISSED')
const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

export function formatResults(r: ManifestBenchResults): string {
  const lib = r.library
  const full = lib.full
  const ms = (v: number) => `${v} ms`
  return [
    `manifest benchmark, ${r.date}, ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; DHT of ${r.dht.nodes} nodes on 127.0.0.1 (routing tables ${r.dht.routingTable.min}-${r.dht.routingTable.max}); load average ${r.loadAverage.start[0]} at the start, ${r.loadAverage.end[0]} at the end`,
    '',
    table([
      ['a change reaching the other device', 'p50', 'p95', 'max', 'p95 / floor p95', 'target'],
      ['floor: BEP 44 put, then get elsewhere', ms(r.floor.p50), ms(r.floor.p95), ms(r.floor.max), '1.00x', ''],
      ['playlist change A -> B, push', ms(r.push.p50), ms(r.push.p95), ms(r.push.max), `${r.push.ratioP95ToFloorP95.toFixed(2)}x`, `${r.push.target}: ${ok(r.push.met)}`],
      [
        'playlist change A -> B, DHT pull',
        ms(r.pullAfterPut.p50),
        ms(r.pullAfterPut.p95),
        ms(r.pullAfterPut.max),
        `${r.pullAfterPut.ratioP95ToFloorP95.toFixed(2)}x`,
        `${r.pullAfterPut.target}: ${ok(r.pullAfterPut.met)}`,
      ],
      ['  DHT pull, B polling back to back', ms(r.pull.p50), ms(r.pull.p95), ms(r.pull.max), `${r.pull.ratioP95ToFloorP95.toFixed(2)}x`, 'polling in the same process: not held to it'],
      [
        `  DHT pull, a poll every ${r.pullPaced.paceMs} ms`,
        ms(r.pullPaced.p50),
        ms(r.pullPaced.p95),
        ms(r.pullPaced.max),
        `${r.pullPaced.ratioP95ToFloorP95.toFixed(2)}x`,
        'adds the poll interval: not held to it',
      ],
      [
        `  push, A's union of ${r.pushLargeUnion.unionTracks} tracks`,
        ms(r.pushLargeUnion.p50),
        ms(r.pushLargeUnion.p95),
        ms(r.pushLargeUnion.max),
        `${r.pushLargeUnion.ratioP95ToFloorP95.toFixed(2)}x`,
        `${r.pushLargeUnion.target}: ${ok(r.pushLargeUnion.met)}`,
      ],
    ]),
    `  floor: put p50 ${r.floor.putMs.p50} ms (stored at median ${median(r.floor.storedAt)} nodes), then get p50 ${r.floor.getMs.p50} ms`,
    `  push: B has A's notice at p50 ${r.push.noticeAtBMs.p50} ms, the blob at ${r.push.blobAtBMs.p50} ms; A's HTTP answer at ${r.push.apiResponseMs.p50} ms, A's DHT put done at ${r.push.aPutDoneMs.p50} ms`,
    `  push, large union: notice at p50 ${r.pushLargeUnion.noticeAtBMs.p50} ms, blob at ${r.pushLargeUnion.blobAtBMs.p50} ms; A's HTTP answer at ${r.pushLargeUnion.apiResponseMs.p50} ms`,
    ...[r.pullAfterPut, r.pull, r.pullPaced].map(
      (p, i) =>
        `  ${['pull', 'back to back', 'paced'][i]}: A's HTTP answer at p50 ${p.apiResponseMs.p50} ms, A's put done at ${p.aPutDoneMs.p50} ms (stored at median ${median(p.storedAt)} nodes); ${median(p.pollsPerRound)} polls (max ${Math.max(...p.pollsPerRound)}); process CPU ${Math.round(p.cpuShareP50 * 100)}% of wall`,
    ),
    '',
    table([
      [`library manifest, ${lib.tracks} tracks`, 'bytes', 'time', 'target'],
      [`full: root + ${lib.pages} pages`, `${kB(lib.bytes.total)} (root ${kB(lib.bytes.root)}, ${lib.bytes.perTrack} B/track)`, `${full.totalMs} ms (publish ${full.publishMs}, B holds it ${full.deliverMs} later)`, ''],
      ['  fetched by B', `${kB(full.fetchedBytes)} in ${full.fetchedBlobs} blobs`, '', ''],
      [
        `one track retitled (${lib.oneTrack.samples.length}x)`,
        `${kB(Math.max(...lib.oneTrack.samples.map((s) => s.fetchedBytes)))}: ${lib.oneTrack.percentMax}% of full`,
        `median ${lib.oneTrack.totalMsMedian} ms, max ${lib.oneTrack.totalMsMax} ms`,
        `${lib.oneTrack.target}: ${ok(lib.oneTrack.met)}`,
      ],
    ]),
    '',
    table([
      ['union in a fresh process (V8 flags as serve)', 'remote tracks', 'union', 'peak RSS', 'start / after apply', 'heap after GC: all / book', 'heap per track / entry', 'target'],
      ...r.memory.variants.map((v) => [
        v.variant,
        String(v.remoteTracks),
        String(v.unionTracks),
        `${v.peakRssMB} MB`,
        `${v.baselineRssMB} / ${v.peakAfterApplyMB} MB`,
        `${v.heapUsedAfterGcMB} / ${v.heapBookOnlyAfterGcMB} MB`,
        `${v.bookBytesPerTrack} / ${v.unionBytesPerEntry} B`,
        v.countsForTarget ? `${r.memory.target}: ${ok(v.met)}` : 'not held to it: V8 defaults, for comparison',
      ]),
    ]),
    '',
    `warnings from the nodes: ${r.warnings}`,
  ].join('\n')
}

export function manifestBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'manifest',
    argv,
    usage: USAGE,
    flags: { 'dht-nodes': { type: 'string' }, rounds: { type: 'string' }, tracks: { type: 'string' }, edits: { type: 'string' } },
    options: (values, quick) => {
      const dhtNodes = positiveCount(values['dht-nodes'] as string | undefined, quick ? 30 : 100)
      if (dhtNodes < 6) throw new RangeError('--dht-nodes must be at least 6 (A, B, the two floor nodes and two more)')
      return {
        dhtNodes,
        rounds: positiveCount(values.rounds as string | undefined, quick ? 5 : 20),
        tracks: positiveCount(values.tracks as string | undefined, quick ? 2000 : 10_000),
        edits: positiveCount(values.edits as string | undefined, quick ? 2 : 5),
        debug: !!process.env.DJCLOUD_BENCH_DEBUG,
      }
    },
    run: runManifestBench,
    format: formatResults,
  })
}
