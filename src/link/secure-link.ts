// Every peer connection between devices runs inside TLS 1.3 (node:tls, so
// OpenSSL does the record crypto in C++). TLS here gives secrecy and a
// channel: who is at the other end is proved inside it by dj_auth, whose
// signatures cover this link's exporter value (RFC 9266's tls-exporter), so a
// proof made for one link is worthless on any other. The answering side's
// certificate is a throwaway key: it says nothing about the circle to a
// stranger who dials (docs/decisions/tls-links-with-bound-proofs.md).
import type { Duplex } from 'node:stream'
import { connect, createServer, type Server, type TLSSocket } from 'node:tls'
import type { Socket } from 'node:net'
import { selfSignedCertificate, type TlsCredentials } from './certificate.ts'

/**
 * ALPN name of the link protocol. A device speaking another version gets a
 * TLS alert, which both sides turn into a clear reason instead of a hang.
 */
export const LINK_ALPN = 'djcloud-link/2'
const EXPORTER_LABEL = 'EXPORTER-djcloud-link'
const BINDING_BYTES = 32
/** ms a dialler gets to finish the TLS handshake (dj_auth has its own deadline after). */
export const LINK_HANDSHAKE_TIMEOUT = 5_000

export class LinkError extends Error {
  override name = 'LinkError'
  constructor(readonly reason: string) {
    super(reason)
  }
}

/** The link's channel binding: equal on both ends of one TLS session, different on every other. */
export function channelBinding(socket: TLSSocket): Uint8Array {
  if (!socket.encrypted || socket.getProtocol() !== 'TLSv1.3') throw new LinkError('not an encrypted link')
  return Uint8Array.from(socket.exportKeyingMaterial(BINDING_BYTES, EXPORTER_LABEL, Buffer.alloc(0)))
}

/**
 * One line saying why a link did not come up, from a TLS or socket error.
 * Devices of versions before encrypted links speak plaintext BitTorrent.
 */
export function linkFailure(err: Error & { code?: string }): string {
  switch (err.code) {
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'ERR_SSL_UNKNOWN_PROTOCOL':
      return 'not an encrypted link: a plaintext peer (a djcloud device older than encrypted links, or another BitTorrent client)'
    case 'ERR_SSL_NO_APPLICATION_PROTOCOL':
    case 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL':
      return `the peer speaks another djcloud link version (this device speaks ${LINK_ALPN})`
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 'the encrypted handshake did not finish in time'
    default:
      // Unreachable or refused: the system's message, which names its code.
      if (err.code && /^E[A-Z]+$/.test(err.code) && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') return err.message
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || /before secure TLS connection was established/.test(err.message)) {
        return 'the peer closed the link in the encrypted handshake (a djcloud device older than encrypted links, or not djcloud)'
      }
      return `encrypted handshake failed: ${err.message.split('\n')[0]}`
  }
}

export interface LinkServerOptions {
  /** ms a dialler gets to complete the TLS handshake. */
  handshakeTimeoutMs?: number
  /** A link whose TLS handshake failed: host and a one-line reason. */
  onRefused?: (host: string, reason: string) => void
  /**
   * Other protocols served on the same port, by ALPN name (src/reach/'s
   * reflection and relay): a TLS client offering one of them is handed to
   * its handler instead of `onLink`.
   */
  protocols?: Record<string, (socket: TLSSocket) => void>
  /**
   * Decides on each TCP connection before TLS takes it: false closes it
   * with no TLS byte sent, and it is not reported to `onRefused` (it
   * failed nothing: this side turned it away).
   */
  admit?: (socket: Socket) => boolean
}

/**
 * A TLS 1.3 server for device links, with a fresh throwaway certificate.
 * `onLink` gets each socket once its handshake is done; authentication is
 * the caller's (dj_auth over the socket, bound by channelBinding()).
 */
export async function createLinkServer(onLink: (socket: TLSSocket) => void, opts: LinkServerOptions = {}): Promise<Server> {
  const creds: TlsCredentials = await selfSignedCertificate()
  const server = createServer(
    {
      key: creds.key,
      cert: creds.cert,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [LINK_ALPN, ...Object.keys(opts.protocols ?? {})],
      handshakeTimeout: opts.handshakeTimeoutMs ?? LINK_HANDSHAKE_TIMEOUT,
    },
    (socket) => {
      const other = socket.alpnProtocol ? opts.protocols?.[socket.alpnProtocol] : undefined
      if (other) return other(socket)
      // A TLS client offering no ALPN at all is not a djcloud device.
      if (socket.alpnProtocol !== LINK_ALPN) {
        opts.onRefused?.(socket.remoteAddress ?? '?', `not a djcloud link: no ${LINK_ALPN} offered`)
        return void socket.destroy()
      }
      onLink(socket)
    },
  )
  const admit = opts.admit
  if (admit) {
    // tls.Server wraps every socket in its own 'connection' listeners; they
    // run only for sockets admitted, so a refused one never becomes a TLS
    // socket (whose close would be reported as a failed handshake).
    const tlsTakes = server.listeners('connection') as Array<(this: Server, s: Socket) => void>
    server.removeAllListeners('connection')
    server.on('connection', (socket: Socket) => {
      if (!admit(socket)) return void socket.destroy()
      for (const take of tlsTakes) take.call(server, socket)
    })
  }
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    opts.onRefused?.(socket.remoteAddress ?? '?', linkFailure(err))
    socket.destroy()
  })
  return server
}

/**
 * Dials a device link: resolves once the TLS handshake is done (the first
 * write then leaves with the client's Finished, so no round trip is lost).
 * A failure is a LinkError saying why in one line; unreachable addresses keep
 * the system's code (ECONNREFUSED, EHOSTUNREACH, ...) in it.
 */
/** ms the TCP connect of each link this device dialled took: one round trip of its path. */
const connectTimes = new WeakMap<TLSSocket, number>()

/** The round trip of a dialled link's path, as its TCP connect measured it (undefined for links this side answered). */
export function linkRtt(socket: TLSSocket): number | undefined {
  return connectTimes.get(socket)
}

export interface DialLinkOptions {
  handshakeTimeoutMs?: number
  signal?: AbortSignal
  /** Run the TLS handshake over this stream instead of a new TCP connection (a punched socket, a relay circuit). */
  socket?: Duplex
  /** The local port to dial from (a hole punch's reflection). */
  localPort?: number
  /** The protocol asked for (default LINK_ALPN). */
  alpn?: string
}

export function dialLink(host: string, port: number, opts: DialLinkOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = connect({
      ...(opts.socket ? { socket: opts.socket } : { host, port, ...(opts.localPort ? { localPort: opts.localPort } : {}) }),
      // The answering side's certificate is a throwaway key: who it is, is
      // proved inside the link by dj_auth over channelBinding().
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [opts.alpn ?? LINK_ALPN],
    })
    const fail = (err: Error & { code?: string }) => {
      cleanup()
      socket.on('error', () => {}) // a TLS alert may still surface after the first error
      socket.destroy()
      reject(new LinkError(`peer ${host}:${port}: ${linkFailure(err)}`))
    }
    const onError = (err: Error) => fail(err)
    const onClose = () => fail(new Error('closed before secure TLS connection was established'))
    const onAbort = () => fail(new Error('aborted'))
    const timer = setTimeout(() => fail(Object.assign(new Error('timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })), opts.handshakeTimeoutMs ?? LINK_HANDSHAKE_TIMEOUT)
    timer.unref()
    const cleanup = () => {
      clearTimeout(timer)
      socket.off('error', onError)
      socket.off('close', onClose)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    socket.once('error', onError)
    socket.once('close', onClose)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => connectTimes.set(socket, performance.now() - started))
    socket.once('secureConnect', () => {
      cleanup()
      resolve(socket)
    })
  })
}
