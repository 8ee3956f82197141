// One device of a real home's identity, acting in-process beside real node
// processes: its credentials for a hand-made dial, or a whole Swarm on
// loopback speaking with its key and certificate (a friend's dishonest
// device, a device about to be revoked). The Swarm is closed at teardown.
import type { ExecutionContext } from 'ava'
import { encodeCertificate, type Identity } from '../../src/identity/index.ts'
import { Swarm, type SwarmOptions } from '../../src/swarm/index.ts'

/** What the device of `id` proves itself with on the wire. */
export function credentialsOf(id: Identity): SwarmOptions['credentials'] {
  return { deviceSeed: id.device.seed, certificate: encodeCertificate(id.certificate) }
}

/** A started Swarm on 127.0.0.1 (port from the OS) as the device of `id`, trusting `id.roster`; `opts` adds or overrides options. */
export async function identitySwarm(t: ExecutionContext, id: Identity, cacheDir: string, opts: Partial<SwarmOptions> = {}): Promise<Swarm> {
  const swarm = new Swarm({ credentials: credentialsOf(id), roster: () => id.roster, circleSecret: id.circleSecret, cacheDir, port: 0, host: '127.0.0.1', ...opts })
  await swarm.start()
  t.teardown(() => swarm.close())
  return swarm
}
