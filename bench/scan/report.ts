// The benchmark's results: the shape of bench/results/scan.json and the
// human table printed after a run. MB are 10^6 bytes throughout (as in the
// CLI's own summary), so "RSS < 150 MB" is the strict reading.
import { table } from '../common.ts'
export interface Timing {
  /** Wall-clock of each run, ms. */
  runsMs: number[]
  /** The fastest run: noise on a shared machine only ever adds time. */
  bestMs: number
  /** Peak RSS over the runs, MB; null when not measurable. */
  maxRssMB: number | null
}

export interface ScanTiming extends Timing {
  /** The scan's own `ms` (no process start-up), per run. */
  inProcessMs: number[]
}

export interface Target {
  target: string
  met: boolean
}

export interface ScanBenchResults {
  date: string
  machine: { cpu: string; cores: number; memoryGB: number; node: string; os: string }
  commit: string | null
  method: string[]
  throughput: {
    tracks: number
    mp3: number
    wav: number
    bytes: number
    scan: ScanTiming
    sha256sum: Timing
    tracksPerSec: number
    mbPerSec: number
    sha256sumMbPerSec: number
    /** djcloud MB/s over sha256sum MB/s. */
    ratio: number
  } & Target
  library: {
    tracks: number
    mp3: number
    wav: number
    bytes: number
    firstScan: ScanTiming & { tracksPerSec: number; mbPerSec: number; ratio: number }
    rescan: ScanTiming & Target & { /** rescan time over sha256sum time */ ratio: number }
    sha256sum: Timing & { mbPerSec: number }
  }
  rss: { firstScanMB: number | null; rescanMB: number | null; throughputScanMB: number | null; sha256sumMB: number | null } & Target
}

export const toMB = (bytes: number) => bytes / 1e6
export const kibToMB = (kib: number | null) => (kib === null ? null : (kib * 1024) / 1e6)

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const mb = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)} MB`)
const x = (r: number) => `${r.toFixed(2)}x`
const ok = (t: Target) => `${t.target} ${t.met ? 'ok' : 'MISSED'}`

export function formatResults(r: ScanBenchResults): string {
  const t = r.throughput
  const l = r.library
  const n = (v: number) => v.toLocaleString('en-US')
  return [
    `djcloud scan benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}`,
    '',
    table([
      ['', 'djcloud', 'sha256sum', 'ratio', 'target'],
      [`first scan, ${n(t.tracks)} tracks, ${toMB(t.bytes).toFixed(0)} MB`, `${s(t.scan.bestMs)}  ${t.mbPerSec.toFixed(0)} MB/s  ${t.tracksPerSec.toFixed(1)} tracks/s`, `${s(t.sha256sum.bestMs)}  ${t.sha256sumMbPerSec.toFixed(0)} MB/s`, x(t.ratio), ok(t)],
      [`first scan, ${n(l.tracks)} tracks, ${toMB(l.bytes).toFixed(0)} MB`, `${s(l.firstScan.bestMs)}  ${l.firstScan.mbPerSec.toFixed(0)} MB/s  ${l.firstScan.tracksPerSec.toFixed(0)} tracks/s`, `${s(l.sha256sum.bestMs)}  ${l.sha256sum.mbPerSec.toFixed(0)} MB/s`, x(l.firstScan.ratio), ''],
      [`rescan, ${n(l.tracks)} unchanged`, `${s(l.rescan.bestMs)}  (scan itself ${s(Math.min(...l.rescan.inProcessMs))})`, s(l.sha256sum.bestMs), x(l.rescan.ratio), ok(l.rescan)],
      [`peak RSS, first scan of ${n(l.tracks)}`, mb(r.rss.firstScanMB), mb(r.rss.sha256sumMB), '', ok(r.rss)],
      [`peak RSS, rescan of ${n(l.tracks)}`, mb(r.rss.rescanMB), '', '', ''],
      [`peak RSS, first scan of ${n(t.tracks)}`, mb(r.rss.throughputScanMB), '', '', ''],
    ]),
    '',
    'Times are wall-clock, best of the runs, Node start-up included; ratios are throughput over',
    "sha256sum's for scans and time over sha256sum's time for the rescan.",
  ].join('\n')
}
