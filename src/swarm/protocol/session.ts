// authenticate() over an encrypted link (a TLS 1.3 socket from src/link/):
// the handshake itself is authenticate-wire.ts, portable; this file adds what
// a TLS socket tells it: the link's exporter value as the channel binding,
// the peer's address, and the round trip of the dial. A plain socket without
// an explicit `binding` fails: nothing authenticates outside an encrypted
// link by accident.
import { TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import { channelBinding, LinkError, linkRtt } from '../../link/index.ts'
import { authenticateWire, type PeerSession, type SessionOptions } from './authenticate-wire.ts'

export { AUTH_DEADLINE, SessionError, authenticateWire } from './authenticate-wire.ts'
export type { Admission, PeerSession, SessionOptions, WireTransport } from './authenticate-wire.ts'

/**
 * Resolves once the peer is authenticated. The wire is paused at that moment
 * (messages that arrived with the peer's proof wait in its buffer) and its
 * owner calls `wire.resume()` once subscribed, however long that takes.
 */
export function authenticate(socket: Duplex, opts: SessionOptions): Promise<PeerSession> {
  const net = socket as Partial<TLSSocket>
  const remote = opts.remote ?? { host: net.remoteAddress ?? '?', port: net.remotePort ?? 0 }
  return authenticateWire(socket, opts, {
    remote,
    binding: () => {
      if (opts.binding) return opts.binding()
      if (!(socket instanceof TLSSocket)) throw new LinkError('not an encrypted link')
      return channelBinding(socket)
    },
    rttMs: () => (socket instanceof TLSSocket ? linkRtt(socket) : undefined),
  })
}
