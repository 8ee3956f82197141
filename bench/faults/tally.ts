// The soak's counts: operations by kind (ok, failed while a device they
// needed was down = expected, failed otherwise = a finding), failures by kind
// and reason, stops, checks run, and losses (anything that lost or corrupted
// data, left a store unopenable or a fetch stuck, let devices disagree, or a
// process that ignored SIGTERM). Any loss fails the run.
import type { StopRecord } from './devices.ts'

export interface OpCounts {
  ok: number
  expected: number
  unexpected: number
}

export interface Loss {
  kind: string
  detail: string
}

export class Tally {
  readonly ops: Record<string, OpCounts> = {}
  readonly failures: Record<string, number> = {}
  readonly checks: Record<string, number> = {}
  readonly losses: Loss[] = []
  readonly stops: StopRecord[] = []
  restarts = 0
  /** The first failure of each kind and reason, with its devices, for the report. */
  readonly examples: Record<string, string> = {}

  private counts(kind: string): OpCounts {
    return (this.ops[kind] ??= { ok: 0, expected: 0, unexpected: 0 })
  }

  ok(kind: string): void {
    this.counts(kind).ok++
  }

  failed(kind: string, reason: string, expected: boolean, detail?: string): void {
    this.counts(kind)[expected ? 'expected' : 'unexpected']++
    const key = `${kind}: ${reason}${expected ? ' (device down)' : ''}`
    this.failures[key] = (this.failures[key] ?? 0) + 1
    if (detail && !(key in this.examples)) this.examples[key] = detail.slice(0, 400)
  }

  checked(what: string, n = 1): void {
    this.checks[what] = (this.checks[what] ?? 0) + n
  }

  loss(kind: string, detail: string): void {
    this.losses.push({ kind, detail: detail.slice(0, 600) })
  }

  stopped(r: StopRecord): void {
    this.stops.push(r)
    if (r.ignored) this.loss('sigterm-ignored', `${r.device} did not exit within the grace after SIGTERM`)
  }
}
