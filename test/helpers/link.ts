// Dialling a device link from tests the way a peer that misbehaves would:
// the socket comes back at once (writes wait for the TLS handshake), so a
// test can speak raw BitTorrent inside it without authenticate().
import { connect, type TLSSocket } from 'node:tls'
import { once } from 'node:events'
import type { Server } from 'node:net'
import type { ExecutionContext } from 'ava'
import type { Swarm } from '../../src/swarm/index.ts'
import { LINK_ALPN } from '../../src/link/index.ts'

export function linkSocket(port: number, host = '127.0.0.1'): TLSSocket {
  const sock = connect({ port, host, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [LINK_ALPN] })
  sock.on('error', () => {})
  return sock
}

/** Listens on `host` (port from the OS unless given) and closes at teardown; the port. */
export async function listening(t: ExecutionContext, server: Server, host = '127.0.0.1', port = 0): Promise<number> {
  server.listen(port, host)
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return (server.address() as { port: number }).port
}

/** The refusals a swarm reports, as they come. */
export function refusals(s: Swarm): Array<{ host: string; reason: string }> {
  const out: Array<{ host: string; reason: string }> = []
  s.on('refused', (host: string, reason: string) => out.push({ host, reason }))
  return out
}
