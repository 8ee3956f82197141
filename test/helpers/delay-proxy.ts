// A TCP proxy on 127.0.0.1 that holds every chunk `delayMs` in each direction
// (order kept): a link whose round trip is about 2 x delayMs longer than
// loopback's, for tests of what the swarm does with a far device. The TCP
// connect to the proxy itself stays instant, as a relay's would.
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'

/** Listens on 127.0.0.1 (port from the OS) and forwards to 127.0.0.1:`target`; resolves with its port. Closed at teardown. */
export async function delayProxy(t: ExecutionContext, target: number, delayMs: number): Promise<number> {
  const sockets = new Set<Socket>()
  const late = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => void setTimeout(() => to.destroyed || to.write(chunk), delayMs))
    from.on('end', () => void setTimeout(() => to.end(), delayMs))
    from.on('error', () => to.destroy())
    from.on('close', () => void setTimeout(() => to.destroy(), delayMs))
  }
  const server = createServer((a) => {
    const b = connect(target, '127.0.0.1')
    for (const s of [a, b]) sockets.add(s)
    late(a, b)
    late(b, a)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return (server.address() as { port: number }).port
}
