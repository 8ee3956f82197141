// One device of an in-memory test circle (circle.ts) as a real Swarm on
// 127.0.0.1, port from the OS, its cache under `dir`: the unit the swarm
// tests build their networks from. Warnings are swallowed (the tests assert
// on what happens, not on peers' noise); closed at teardown.
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { authenticate, deviceChannelInfoHash, LOOKUP_EXTENSION, Swarm, type PeerSession, type SwarmOptions } from '../../src/swarm/index.ts'
import { dialLink } from '../../src/link/index.ts'
import { encode } from '../../src/codec/index.ts'
import type { TestCircle } from './circle.ts'

/** Device `i` of circle `c`, started; its cache is `dir/cache-<i>` unless `opts` says otherwise. */
export async function startSwarm(t: ExecutionContext, c: TestCircle, i: number, dir: string, opts: Partial<SwarmOptions> = {}): Promise<Swarm> {
  const s = new Swarm({ credentials: c.devices[i]!.credentials, roster: () => c.roster, circleSecret: c.circleSecret, cacheDir: join(dir, `cache-${i}`), host: '127.0.0.1', ...opts })
  s.on('warning', () => {})
  t.teardown(() => s.close())
  await s.start()
  return s
}

/**
 * Device `i` of circle `c` linked to `to`'s device channel by hand: a real
 * TLS link and dj_auth, then its hello (peer port `peerPort`), and nothing
 * else unless the test sends it: a device whose answers the test controls.
 */
export async function handLinkedDevice(t: ExecutionContext, c: TestCircle, i: number, to: Swarm, peerPort: number): Promise<PeerSession> {
  const s = await authenticate(await dialLink('127.0.0.1', to.port), {
    credentials: c.devices[i]!.credentials, roster: () => c.roster, extensions: [LOOKUP_EXTENSION], infoHash: deviceChannelInfoHash(c.circleSecret), remote: { host: '127.0.0.1', port: to.port },
  })
  t.teardown(() => s.wire.destroy())
  s.wire.extended(LOOKUP_EXTENSION, encode({ t: 'hello', port: peerPort }))
  return s
}
