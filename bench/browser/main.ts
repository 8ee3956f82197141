// Command line of the browser benchmark: a browser download from two
// devices, djcloud against webtorrent in the same Chromium (bench/README.md).
// Returns an exit code: 0 done (targets are reported, not enforced), 1 the
// benchmark failed, 2 bad usage.
import { benchMain, positiveCount, table } from '../common.ts'
import { runBrowserBench, type BrowserBenchResults } from './browser-bench.ts'

const USAGE = `Usage: npm run bench:browser -- [options]

  --size MB    the file both download (default 50; 10^6 bytes)
  --repeats N  downloads of each, alternating (default 3); figures are medians
  --quick      a smoke run: 5 MB, one download each; results not written unless --out is given
  --out FILE   where to write the JSON results (default bench/results/browser.json)
  --tmp DIR    where the file and the seeders' caches go (default: $TMPDIR)

Needs Debian's chromium (/usr/bin/chromium, or DJCLOUD_CHROMIUM).
`

export function formatResults(r: BrowserBenchResults): string {
  const w = r.webtorrent.median
  const d = r.djcloud.median
  const use = (x: typeof w) => `${x.use.heapPeakMb} MB`
  const cpu = (x: typeof w) => `${x.use.mainThreadPct}% main thread, ${x.use.rendererPct ?? '?'}% renderer`
  return [
    `Browser benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, ${r.machine.chromium}, commit ${r.commit ?? '?'}${r.dirty.length ? ' (dirty)' : ''}`,
    `${r.sizeMb} MB from two Node devices into one Chromium page (OPFS), median of ${r.repeats}; piece length ${r.pieceLength / 1024} KiB; djcloud signaling: harness binding`,
    '',
    table([
      ['figure', 'djcloud', 'webtorrent', 'ratio', 'target'],
      ['download time', `${d.ms} ms`, `${w.ms} ms`, '', ''],
      ['throughput, start to done', `${d.mbPerS} MB/s`, `${w.mbPerS} MB/s`, `${r.ratio}x`, `>= 1.0x: ${r.ratio >= 1 ? 'met' : 'MISSED'}`],
      ['time to the first wire ready', `${d.ms - d.transferMs} ms`, `${w.ms - w.transferMs} ms`, '', ''],
      ['throughput from the first wire', `${d.transferMbPerS} MB/s`, `${w.transferMbPerS} MB/s`, `${r.transferRatio}x`, ''],
      ['page heap peak while downloading', use(d), use(w), '', ''],
      ['page CPU while downloading', cpu(d), cpu(w), '', ''],
      [`data channel set-up p50 / p95 (${r.channelSetup.links} links)`, `${r.channelSetup.p50} / ${r.channelSetup.p95} ms`, '', '', `p95 < 1 s: ${r.channelSetup.p95 < 1000 ? 'met' : 'MISSED'}`],
      [`store index in memory (${r.storeIndexTracks} track)`, `${r.storeIndexKb} KB`, '', '', ''],
    ]),
  ].join('\n')
}

export function browserBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'browser',
    argv,
    usage: USAGE,
    flags: { size: { type: 'string' }, repeats: { type: 'string' } },
    options: (values, quick) => ({
      sizeMb: positiveCount(values.size as string | undefined, quick ? 5 : 50),
      repeats: positiveCount(values.repeats as string | undefined, quick ? 1 : 3),
    }),
    run: runBrowserBench,
    format: formatResults,
  })
}
