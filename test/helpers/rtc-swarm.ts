// Devices of an in-memory circle as real Swarms that meet only over WebRTC:
// signaled through a real admission tracker on 127.0.0.1 (run with device
// 0's key, so every device pins it by the roster), no TCP dial between them.
import type { ExecutionContext } from 'ava'
import { logger } from '../../src/log/index.ts'
import { WebRtcLinks, type Swarm } from '../../src/swarm/index.ts'
import type { TestCircle } from './circle.ts'
import { startSwarm } from './circle-swarm.ts'
import { startTracker, type RunningTracker } from '../tracker/fixtures.ts'
import { rtcOptions } from './rtc.ts'

export interface RtcDevice {
  swarm: Swarm
  links: WebRtcLinks
}

export function circleTracker(t: ExecutionContext, c: TestCircle): Promise<RunningTracker> {
  return startTracker(t, { roster: c.roster, deviceSeed: c.devices[0]!.key.seed })
}

/** Device `i` as a Swarm with its WebSocket announce open to `tracker`. */
export async function rtcDevice(t: ExecutionContext, c: TestCircle, i: number, dir: string, tracker: RunningTracker): Promise<RtcDevice> {
  const swarm = await startSwarm(t, c, i, dir)
  const d = c.devices[i]!
  const links = new WebRtcLinks({
    swarm,
    signer: { seed: d.key.seed, certificate: d.credentials.certificate },
    roster: () => c.roster,
    trackers: () => [tracker.url],
    self: Buffer.from(d.key.publicKey).toString('hex'),
    rtc: await rtcOptions(),
    log: logger('test:rtc'),
  })
  t.teardown(() => links.close())
  await links.start()
  if (links.joined !== 1) throw new Error('the device did not join the tracker over WebSocket')
  return { swarm, links }
}
