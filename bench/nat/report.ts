// The NAT benchmark's results (bench/results/nat.json) and its table.
import type { MachineInfo, Percentiles } from '../common.ts'
import { table } from '../common.ts'

export type PathName = 'direct' | 'punched' | 'relayed'

export interface NatBenchResults {
  date: string
  commit: string | null
  dirty: string[]
  machine: MachineInfo
  lab: { uplinkMbit: number; rttMs: number; trackBytes: number; congestionControl: string }
  targets: { punchedSetupP95Ms: number; relayedSetupP95Ms: number; relayOfDirect: number; firstByteP95Ms: number }
  /** ms from the dial, punch or circuit starting to the other device's hello. */
  setup: Record<PathName, Percentiles>
  throughput: {
    /** What one NAT's capped uplink carries as TCP payload: the physical limit. */
    capacityMbit: number
    punched: { mbit: number; ms: number }
    relayed: { mbit: number; ms: number }
    relayOfPunched: number
    punchedOfCapacity: number
    relayedOfCapacity: number
    /** CPU time of the relay's node (user + system) per MB it carried. */
    relayCpuMsPerMb: number
  }
  /** ms from GET /stream (a seek into a track not fetched) to its first byte, per path. */
  firstByte: Record<PathName, Percentiles>
  /** Every sample, in the order taken (the first of each path is the reader's first stream since its start). */
  samples: { setup: Record<PathName, number[]>; firstByte: Record<PathName, number[]> }
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED')

export function formatResults(r: NatBenchResults): string {
  const t = r.throughput
  const head = `bench/nat: own devices behind NATs; each NAT's uplink ${r.lab.uplinkMbit} Mbit/s, ${r.lab.rttMs} ms RTT between hosts (a relayed path crosses twice), ${(r.lab.trackBytes / 1e6).toFixed(0)} MB track, TCP ${r.lab.congestionControl}`
  const rows = [
    ['figure', 'value', 'ratio', 'target'],
    ['link set-up direct (NATed -> public) p50 / p95', `${r.setup.direct.p50} / ${r.setup.direct.p95} ms`, '', ''],
    ['link set-up punched (cone <-> cone) p50 / p95', `${r.setup.punched.p50} / ${r.setup.punched.p95} ms`, '', `p95 < ${r.targets.punchedSetupP95Ms} ms: ${mark(r.setup.punched.p95 < r.targets.punchedSetupP95Ms)}`],
    ['link set-up relayed (symmetric <-> symmetric) p50 / p95', `${r.setup.relayed.p50} / ${r.setup.relayed.p95} ms`, '', `p95 < ${r.targets.relayedSetupP95Ms} ms: ${mark(r.setup.relayed.p95 < r.targets.relayedSetupP95Ms)}`],
    ['physical limit (one capped uplink)', `${t.capacityMbit} Mbit/s`, '', ''],
    ['fetch over the punched link', `${t.punched.mbit} Mbit/s`, pct(t.punchedOfCapacity) + ' of limit', ''],
    ['fetch through the relay', `${t.relayed.mbit} Mbit/s`, pct(t.relayedOfCapacity) + ' of limit', ''],
    ['relayed / punched', '', `${t.relayOfPunched.toFixed(3)}x`, `>= ${r.targets.relayOfDirect}x: ${mark(t.relayOfPunched >= r.targets.relayOfDirect)}`],
    ['relay CPU per MB carried', `${t.relayCpuMsPerMb} ms`, '', ''],
    ...(['direct', 'punched', 'relayed'] as const).map((p) => [
      `first byte of a seek, ${p} p50 / p95`, `${r.firstByte[p].p50} / ${r.firstByte[p].p95} ms`, '', `p95 < ${r.targets.firstByteP95Ms} ms: ${mark(r.firstByte[p].p95 < r.targets.firstByteP95Ms)}`,
    ]),
  ]
  return `${head}\n${table(rows)}\n`
}
