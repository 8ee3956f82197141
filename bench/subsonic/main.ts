// Command line of the subsonic benchmark: runs it, prints the figures and
// writes them as JSON. Returns an exit code: 0 done (targets are reported,
// not enforced), 1 the benchmark itself failed, 2 bad usage.
import { benchMain, positiveCount } from '../common.ts'
import { runSubsonicBench, type SubsonicBenchResults } from './subsonic-bench.ts'

const USAGE = `Usage: npm run bench:subsonic -- [options]

  --tracks N      synthetic tracks on each of the two offline devices (default 10000: a 20,000-track union)
  --samples N     timed requests of each browse/search kind (default 30)
  --plays N       timed first bytes of each stream kind, raw, opus and mp3 (default 20)
  --transcodes N  whole renditions timed per format, opus and mp3 (default 3; at most plays / 2)
  --rebuilds N    browse requests timed right after the union changed (default 6)
  --quick         a smoke run: 1000 tracks each, 5 samples, 4 plays, 1 transcode, 2 rebuilds; results not written unless --out is given
  --out FILE      where to write the JSON results (default bench/results/subsonic.json)
  --tmp DIR       where the homes and tracks go (default: the OS temp dir, $TMPDIR)

Needs ffmpeg (Debian's) on PATH.
`

const ok = (met: boolean) => (met ? 'met' : 'MISSED')

export function formatResults(r: SubsonicBenchResults): string {
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd([72, 10, 10, 10, 10, 8][i] ?? 0)).join('').trimEnd()
  const ms = (v: number) => `${v} ms`
  const lines = [
    `subsonic benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, ${r.machine.ffmpeg}, commit ${r.commit ?? '?'}`,
    `load average ${r.loadAverage.start.join(' ')} at the start, ${r.loadAverage.measuring.join(' ')} when measuring began, ${r.loadAverage.end.join(' ')} at the end`,
    `union of ${r.union.tracks} tracks (${r.union.artists} artists, ${r.union.albums} albums) on the laptop; streamed tracks held by ${r.union.playedHeldBy} only`,
    '',
    row(['request (djcloud; yardstick: static file of the same bytes)', 'p50', 'p95', 'max', 'yard p95', 'ratio', 'target']),
  ]
  for (const f of r.api.figures) {
    lines.push(row([`${f.name} ${f.query}`.slice(0, 58) + ` (${Math.round(f.bytes / 1000)} kB)`, ms(f.djcloud.p50), ms(f.djcloud.p95), ms(f.djcloud.max), ms(f.yardstick.p95), `${f.ratioP95}x`, `p95 < 50 ms: ${ok(f.met)}`]))
  }
  lines.push('', row(['first byte of a track only home-pc holds', 'p50', 'p95', 'max', 'yard p95', 'ratio', 'target']))
  const fbRow = (label: string, c: SubsonicBenchResults['firstByte']['raw']) => row([label, ms(c.djcloud.p50), ms(c.djcloud.p95), ms(c.djcloud.max), ms(c.yardstick.p95), `${c.ratioP95}x`, `${c.target}: ${ok(c.met)}`])
  lines.push(fbRow('raw (yardstick: static file server, same file)', r.firstByte.raw))
  lines.push(fbRow('opus 96 kbps (yardstick: ffmpeg on the file)', r.firstByte.opus))
  lines.push(fbRow('mp3 128 kbps (yardstick: ffmpeg on the file)', r.firstByte.mp3))
  const a = r.afterUnionChange
  lines.push('', row(['browse right after the union changed (yardstick: the same at once after)', 'p50', 'p95', 'max', 'yard p95', 'ratio', 'target']))
  lines.push(row(['getAlbumList2 type=newest&size=50', ms(a.djcloud.p50), ms(a.djcloud.p95), ms(a.djcloud.max), ms(a.yardstick.p95), `${a.ratioP95}x`, `${a.target}: ${ok(a.met)}`]))
  lines.push('', 'transcoding speed (whole tracks): multiple of real time per core (ffmpeg CPU time), and of wall-clock')
  for (const [format, t] of Object.entries(r.transcoding)) {
    lines.push(`  ${format} ${t.kbps} kbps, ${t.audioSeconds} s tracks x${t.runs}: djcloud ${t.djcloud.realtimePerCore}x per core (${t.djcloud.cpuMs} ms CPU), ${t.djcloud.realtimeWall}x wall; ffmpeg directly ${t.yardstick.realtimePerCore}x per core (${t.yardstick.cpuMs} ms CPU), ${t.yardstick.realtimeWall}x wall; CPU ratio ${t.cpuRatio}x`)
  }
  return lines.join('\n')
}

export function subsonicBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'subsonic',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, samples: { type: 'string' }, plays: { type: 'string' }, transcodes: { type: 'string' }, rebuilds: { type: 'string' } },
    options: (values, quick) => {
      const plays = positiveCount(values.plays as string | undefined, quick ? 4 : 20)
      const transcodes = positiveCount(values.transcodes as string | undefined, quick ? 1 : 3)
      // Each format's renditions take tracks streamed raw, distinct ones: a repeat would be a cached file.
      if (2 * transcodes > plays) throw new TypeError(`--transcodes ${transcodes} needs --plays of at least ${2 * transcodes}`)
      return {
        tracks: positiveCount(values.tracks as string | undefined, quick ? 1000 : 10_000),
        samples: positiveCount(values.samples as string | undefined, quick ? 5 : 30),
        plays,
        transcodes,
        rebuilds: positiveCount(values.rebuilds as string | undefined, quick ? 2 : 6),
        seconds: 60,
      }
    },
    run: runSubsonicBench,
    format: formatResults,
  })
}
