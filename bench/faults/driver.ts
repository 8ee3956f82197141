// The soak's driver: one operation after another, chosen by weight with the
// seeded random, until the time is up. A failure is expected when a device
// the operation needed was down (or had just come back) while it ran.
import { reasonOf } from './api.ts'
import type { Device } from './devices.ts'
import { OPERATIONS, PullNotReady, Skip, type OpContext, type OpKind } from './operations.ts'
import { sleep } from './sleep.ts'

export interface DriverOptions {
  weights: Record<OpKind, number>
  devices: Device[]
  /** A device that came back less than this long ago still counts as down (it is relinking). */
  settleAfterRestartMs: number
  /** ms between operations (at most; each pause is random below it). */
  maxPauseMs: number
  signal: AbortSignal
}

export async function driverLoop(ctx: OpContext, o: DriverOptions): Promise<void> {
  const byName = new Map(o.devices.map((d) => [d.name, d]))
  while (!o.signal.aborted) {
    const kind = ctx.rng.weighted(o.weights)
    const needed: string[] = []
    const start = Date.now()
    try {
      await OPERATIONS[kind](ctx, (names) => needed.push(...names))
      ctx.tally.ok(kind)
    } catch (err) {
      if (err instanceof Skip) {
        await sleep(50, o.signal)
        continue
      }
      const end = Date.now()
      const expected = needed.length === 0 || needed.some((n) => byName.get(n)?.downDuring(start, end, o.settleAfterRestartMs))
      const since = (n: string) => {
        const last = byName.get(n)?.downs.at(-1)
        return last ? `${n} up ${((end - last[1]) / 1000).toFixed(0)} s` : `${n} never down`
      }
      ctx.tally.failed(kind, reasonOf(err), expected, `${new Date(start).toISOString().slice(11, 19)} ${needed.map(since).join(', ')}: ${err instanceof PullNotReady ? err.detail : (err as Error).message}`)
    }
    await sleep(ctx.rng.int(0, o.maxPauseMs), o.signal)
  }
}
