// The soak's fault injector: every few seconds (jittered) one random device
// is stopped, by kill -9 mostly and by SIGTERM sometimes (a clean stop must
// finish within the grace), stays down a moment, and is started again on
// the same home and ports. One device is down at a time.
import type { Device } from './devices.ts'
import type { Rng } from './rng.ts'
import { sleep } from './sleep.ts'
import type { Tally } from './tally.ts'

export interface ChaosOptions {
  devices: Device[]
  rng: Rng
  tally: Tally
  /** Mean ms between stops (each wait is 0.5-1.5 times it). */
  intervalMs: number
  /** Share of stops made with SIGTERM instead of kill -9. */
  termShare: number
  termGraceMs: number
  /** ms a stopped device stays down (at most). */
  maxDownMs: number
  signal: AbortSignal
  log: (line: string) => void
}

/** Starts a device, retrying a few times; a device that cannot come back is a loss. */
export async function restart(d: Device, tally: Tally, log: (line: string) => void): Promise<boolean> {
  let last: unknown
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await d.start()
      tally.restarts++
      return true
    } catch (err) {
      last = err
      log(`${d.name} did not start (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`)
      await sleep(2_000)
    }
  }
  tally.loss('restart-failed', `${d.name}: ${(last as Error).message}`)
  return false
}

export async function chaosLoop(o: ChaosOptions): Promise<void> {
  while (!o.signal.aborted) {
    await sleep(o.intervalMs * (0.5 + o.rng.float()), o.signal)
    if (o.signal.aborted) break
    const d = o.rng.pick(o.devices)
    const signal = o.rng.float() < o.termShare ? 'SIGTERM' : 'SIGKILL'
    if (d.up) {
      const r = await d.stop(signal, o.termGraceMs)
      if (r) o.tally.stopped(r)
    }
    await sleep(o.rng.int(200, o.maxDownMs))
    await restart(d, o.tally, o.log)
  }
  // Whatever happened, every device is up when the loop ends.
  for (const d of o.devices) if (!d.up) await restart(d, o.tally, o.log)
}
