// The soak's fault injector: every few seconds (jittered) one random device
// is stopped, by kill -9 mostly and by SIGTERM sometimes (a clean stop must
// finish within the grace), stays down a moment, and is started again on
// the same home and ports. One device is down at a time.
import { call } from './api.ts'
import type { Device } from './devices.ts'
import type { CacheBody } from './operations.ts'
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
  /** Share of stops aimed at a device caught fetching a track (when one is found within 3 s). */
  targetFetchShare: number
  /** ms a stopped device stays down (at most). */
  maxDownMs: number
  signal: AbortSignal
  log: (line: string) => void
}

/** Starts a device: three attempts 2 s apart, each failure logged; the last one's error is thrown. */
export async function startWithRetries(d: Device, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await d.start()
    } catch (err) {
      log(`${d.name} did not start (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`)
      if (attempt === 3) throw err
      await sleep(2_000)
    }
  }
}

/** Starts a stopped device again (startWithRetries); a device that cannot come back is a loss. */
export async function restart(d: Device, tally: Tally, log: (line: string) => void): Promise<boolean> {
  try {
    await startWithRetries(d, log)
    tally.restarts++
    return true
  } catch (err) {
    tally.loss('restart-failed', `${d.name}: ${(err as Error).message}`)
    return false
  }
}

/** Up devices with a track being fetched into their cache now. */
async function fetching(devices: Device[]): Promise<Device[]> {
  const out: Device[] = []
  for (const d of devices) {
    if (!d.api) continue
    const cache = await call<CacheBody>(d.api, 'GET', '/api/cache', undefined, 2_000).catch(() => undefined)
    if (cache?.tracks.some((t) => t.state === 'fetching')) out.push(d)
  }
  return out
}

/** The device to stop: sometimes one caught fetching (looked for during up to 3 s), so downloads are cut and resumed. */
async function victim(o: ChaosOptions): Promise<{ device: Device; fetching: boolean }> {
  if (o.rng.float() < o.targetFetchShare) {
    const end = Date.now() + 3_000
    while (Date.now() < end && !o.signal.aborted) {
      const busy = await fetching(o.devices)
      if (busy.length) return { device: o.rng.pick(busy), fetching: true }
      await sleep(100)
    }
  }
  return { device: o.rng.pick(o.devices), fetching: false }
}

export async function chaosLoop(o: ChaosOptions): Promise<void> {
  while (!o.signal.aborted) {
    await sleep(o.intervalMs * (0.5 + o.rng.float()), o.signal)
    if (o.signal.aborted) break
    // A device that crashed on its own (counted as a loss where it was seen) comes back first.
    for (const d of o.devices) if (!d.up) await restart(d, o.tally, o.log)
    const { device: d, fetching: busy } = await victim(o)
    if (busy) o.tally.checked('stops of a device caught fetching')
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
