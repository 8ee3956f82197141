// Dialling a device link from tests the way a peer that misbehaves would:
// the socket comes back at once (writes wait for the TLS handshake), so a
// test can speak raw BitTorrent inside it without authenticate().
import { connect, type TLSSocket } from 'node:tls'
import { LINK_ALPN } from '../../src/link/index.ts'

export function linkSocket(port: number, host = '127.0.0.1'): TLSSocket {
  const sock = connect({ port, host, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [LINK_ALPN] })
  sock.on('error', () => {})
  return sock
}
