// The WAN benchmark's results (bench/results/wan.json) and its table.
import type { MachineInfo, Percentiles } from '../common.ts'
import { table } from '../common.ts'

export interface WanBenchResults {
  date: string
  commit: string | null
  dirty: string[]
  machine: MachineInfo
  libtorrent: string | null
  lab: { seeders: number; uplinkMbit: number; receiverMbit: number; rttMs: number; lossPercent: number; trackBytes: number }
  /** `used`: what every host's TCP ran (the kernel's default unless `selected`). */
  congestionControl: { used: string; selected: boolean; cubicSelectable: boolean; cubicError: string | null }
  targets: { ofCapacity: number; ofLibtorrent: number; coldP95Ms: number; warmP95Ms: number; seekP95Ms: number }
  throughput: {
    /** What the seeders' capped uplinks carry as TCP payload together: the physical limit. */
    capacityMbit: number
    /** What plain TCP flows got over the same links in the same run. */
    rawTcpMbit: number
    djcloud: { mbit: number; ms: number; sources: Record<string, number> }
    libtorrent: { mbit: number; ms: number } | null
    ofCapacity: number
    ofRawTcp: number
    ofLibtorrent: number | null
    libtorrentOfCapacity: number | null
  }
  firstByte: { cold: Percentiles; warm: Percentiles; seek: Percentiles }
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED')

export function formatResults(r: WanBenchResults): string {
  const t = r.throughput
  const l = r.lab
  const head = `bench/wan: ${l.seeders} seeders x ${l.uplinkMbit} Mbit/s -> receiver ${l.receiverMbit} Mbit/s, ${l.rttMs} ms RTT, ${l.lossPercent}% loss, ${(l.trackBytes / 1e6).toFixed(0)} MB track; TCP congestion control ${r.congestionControl.used}${r.congestionControl.selected ? ' (selected)' : ' (kernel default)'}${r.congestionControl.cubicSelectable ? '' : `; cubic not selectable here (${r.congestionControl.cubicError})`}`
  const rows = [
    ['figure', 'value', 'ratio', 'target'],
    ['physical limit (payload of the capped uplinks)', `${t.capacityMbit} Mbit/s`, '', ''],
    ['raw TCP, one flow per seeder', `${t.rawTcpMbit} Mbit/s`, pct(t.rawTcpMbit / t.capacityMbit) + ' of limit', ''],
    ['djcloud 3 -> 1', `${t.djcloud.mbit} Mbit/s`, pct(t.ofCapacity) + ' of limit', `>= ${pct(r.targets.ofCapacity)}: ${mark(t.ofCapacity >= r.targets.ofCapacity)}`],
    ['libtorrent 3 -> 1', t.libtorrent ? `${t.libtorrent.mbit} Mbit/s` : '-', pct(t.libtorrentOfCapacity) + ' of limit', ''],
    ['djcloud / libtorrent', '', t.ofLibtorrent === null ? '-' : `${t.ofLibtorrent.toFixed(3)}x`, t.ofLibtorrent === null ? '' : `>= ${r.targets.ofLibtorrent}x: ${mark(t.ofLibtorrent >= r.targets.ofLibtorrent)}`],
    ['first byte cold (new links) p50 / p95', `${r.firstByte.cold.p50} / ${r.firstByte.cold.p95} ms`, '', `p95 < ${r.targets.coldP95Ms} ms: ${mark(r.firstByte.cold.p95 < r.targets.coldP95Ms)}`],
    ['first byte warm p50 / p95', `${r.firstByte.warm.p50} / ${r.firstByte.warm.p95} ms`, '', `p95 < ${r.targets.warmP95Ms} ms: ${mark(r.firstByte.warm.p95 < r.targets.warmP95Ms)}`],
    ['seek p50 / p95', `${r.firstByte.seek.p50} / ${r.firstByte.seek.p95} ms`, '', `p95 < ${r.targets.seekP95Ms} ms: ${mark(r.firstByte.seek.p95 < r.targets.seekP95Ms)}`],
  ]
  return `${head}\n${table(rows)}\n`
}
