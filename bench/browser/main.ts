// Command line of the browser benchmark: a browser download from two
// devices, djcloud against webtorrent in the same Chromium (bench/README.md).
// Returns an exit code: 0 done (targets are reported, not enforced), 1 the
// benchmark failed, 2 bad usage.
import { benchMain, positiveCount, table } from '../common.ts'
import { runBrowserBench, type BrowserBenchResults } from './browser-bench.ts'
import { runPlayBench, type PlayBenchResults } from './play.ts'

/** The download phase's figures, then the playback phase's under `play`. */
export type BrowserResults = Partial<BrowserBenchResults> & { play?: PlayBenchResults }

const USAGE = `Usage: npm run bench:browser -- [options]

  --size MB    the file both download (default 50; 10^6 bytes)
  --repeats N  downloads of each, alternating (default 3); figures are medians
  --quick      a smoke run: 5 MB, one download each; results not written unless --out is given
  --out FILE   where to write the JSON results (default bench/results/browser.json)
  --tries N    playback phase: fresh tracks timed to first audio and a seek (default 5; --quick 2)
  --play-seconds S  playback phase: seconds of one track playing for its CPU figure (default 60; --quick 10)
  --track-mb MB     playback phase: size of each played WAV (default 20)
  --phase P    download, play or both (default both)
  --tmp DIR    where the file and the seeders' caches go (default: $TMPDIR)

Needs Debian's chromium (/usr/bin/chromium, or DJCLOUD_CHROMIUM).
`

export function formatPlay(p: PlayBenchResults): string {
  const ok = (met: boolean) => (met ? 'met' : 'MISSED')
  const m = p.minute
  return [
    `Playback through the paired page's UI (its device, WebRTC from two Node devices, the service worker): ${p.tries.length} fresh ${p.trackMb} MB tracks${p.failed.length ? ` (${p.failed.length} more FAILED: ${p.failed.map((f) => `try ${f.try}: ${f.error}`).join('; ')})` : ''}, then one played ${m.seconds} s`,
    '',
    table([
      ['figure', 'p50', 'p95', 'max', 'target'],
      ['first audio (play pressed to playing)', `${p.firstAudio.p50} ms`, `${p.firstAudio.p95} ms`, `${p.firstAudio.max} ms`, `${p.firstAudio.target}: ${ok(p.firstAudio.met)}`],
      ['seek to 75% (to playing again)', `${p.seek.p50} ms`, `${p.seek.p95} ms`, `${p.seek.max} ms`, `${p.seek.target}: ${ok(p.seek.met)}`],
      ['seek to 40%, the track held whole by the page', `${p.heldSeek.p50} ms`, `${p.heldSeek.p95} ms`, `${p.heldSeek.max} ms`, ''],
      [`page CPU over ${m.seconds} s of playing`, `${m.rendererPct ?? '?'}% renderers`, `${m.mainThreadPct}% main thread`, '', `${m.target}: ${ok(m.met)}`],
      ...(m.afterWhole ? [[`  of which the last ${m.afterWhole.seconds} s (the track whole in the page)`, `${m.afterWhole.rendererPct ?? '?'}% renderers`, `${m.afterWhole.mainThreadPct}% main thread`, '', '']] : []),
      [`  renderers by ${m.series[0]?.toS ?? '?'} s window`, m.series.map((x) => `${x.rendererPct ?? '?'}`).join(' ') + ' %', '', '', ''],
      [`  baseline: ${m.idle.seconds} s before it, nothing playing`, `${m.idle.rendererPct ?? '?'}% renderers`, `${m.idle.mainThreadPct}% main thread`, '', ''],
      [`  yardstick: a bare <audio>, the same WAV from a static server, ${m.bareAudio.seconds} s`, `${m.bareAudio.rendererPct ?? '?'}% renderers`, `${m.bareAudio.mainThreadPct}% main thread`, '', ''],
      ...(m.afterWhole?.rendererPct != null && m.bareAudio.rendererPct ? [[`  the track whole, against the yardstick`, `${(m.afterWhole.rendererPct / m.bareAudio.rendererPct).toFixed(2)}x`, '', '', '']] : []),
      ...(m.rendererPct != null && m.bareAudio.rendererPct ? [[`  the whole ${m.seconds} s, against the yardstick`, `${(m.rendererPct / m.bareAudio.rendererPct).toFixed(2)}x`, '', '', '']] : []),
      [`page heap over ${m.seconds} s of playing`, `${m.heapEndMb} MB at the end`, `${m.heapPeakMb} MB peak`, '', ''],
    ]),
  ].join('\n')
}

export function formatAll(r: BrowserResults): string {
  const parts: string[] = []
  if (r.djcloud) parts.push(formatResults(r as BrowserBenchResults))
  if (r.play) parts.push(formatPlay(r.play))
  return parts.join('\n\n')
}

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
    flags: { size: { type: 'string' }, repeats: { type: 'string' }, tries: { type: 'string' }, 'play-seconds': { type: 'string' }, 'track-mb': { type: 'string' }, phase: { type: 'string' } },
    options: (values, quick) => {
      const phase = (values.phase as string | undefined) ?? 'both'
      if (!['download', 'play', 'both'].includes(phase)) throw new Error(`--phase: download, play or both, not ${phase}`)
      return {
        phase,
        sizeMb: positiveCount(values.size as string | undefined, quick ? 5 : 50),
        repeats: positiveCount(values.repeats as string | undefined, quick ? 1 : 3),
        tries: positiveCount(values.tries as string | undefined, quick ? 2 : 5),
        playSeconds: positiveCount(values['play-seconds'] as string | undefined, quick ? 10 : 60),
        trackMb: positiveCount(values['track-mb'] as string | undefined, 20),
      }
    },
    run: async (o): Promise<BrowserResults> => {
      const download = o.phase === 'play' ? {} : await runBrowserBench(o)
      const play = o.phase === 'download' ? undefined : await runPlayBench(o)
      return { ...download, ...(play ? { play } : {}) }
    },
    format: formatAll,
  })
}
