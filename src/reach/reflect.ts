// "Which address do you see me at?" (the job STUN does for UDP), answered
// by any own device on its peer port under its own ALPN name. A hole punch
// needs the public address and port of the very local port it will punch
// from, so the dialler binds that port for the question.
import type { TLSSocket } from 'node:tls'
import { dialLink } from '../link/index.ts'
import { asInt, asString } from '../codec/index.ts'
import { readFrame, writeFrame } from './frame.ts'

export const REFLECT_ALPN = 'djcloud-reflect/1'

export interface Address {
  host: string
  port: number
}

/** Answers a reflection: the TCP source address this side sees, then closes. */
export function serveReflection(sock: TLSSocket): void {
  sock.on('error', () => {})
  const host = (sock.remoteAddress ?? '').replace(/^::ffff:/, '')
  writeFrame(sock, { h: host, p: sock.remotePort ?? 0 })
  sock.end()
}

/**
 * Asks the device at host:port where it sees this side, dialling from
 * `localPort` (bound with SO_REUSEADDR by libuv, so the punch can bind it
 * again right after).
 */
export async function reflect(host: string, port: number, opts: { localPort: number; timeoutMs?: number }): Promise<Address> {
  const timeoutMs = opts.timeoutMs ?? 5_000
  const sock = await dialLink(host, port, { alpn: REFLECT_ALPN, localPort: opts.localPort, handshakeTimeoutMs: timeoutMs })
  try {
    const d = await readFrame(sock, timeoutMs)
    return { host: asString(d.h, 'h', 64), port: asInt(d.p, 'p') }
  } finally {
    sock.destroy()
  }
}
