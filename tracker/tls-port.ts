// The tracker's one port speaks TLS only, and a device of an older djcloud
// still announces there over plain HTTP. The first byte tells them apart: a
// TLS connection opens with a handshake record (0x16), an HTTP request with a
// method name. Plain requests get a bencoded `failure reason` that the old
// client shows as a refusal, instead of a TLS error page or a hang.
import type { Socket } from 'node:net'
import { encode } from '../src/codec/index.ts'

/** The first byte of every TLS connection: a handshake record (RFC 8446 §5.1). */
export const TLS_HANDSHAKE_RECORD = 0x16
/** What a plain-HTTP announce is told, as its `failure reason`. */
export const PLAIN_HTTP_REFUSED = 'this tracker takes announces over TLS only (https://): update djcloud on this device'
const MAX_PLAIN_REQUEST = 8 * 1024 // bytes read from a plain request before it is answered anyway

export interface SplitOptions {
  /** ms a connection may stay silent (first byte, or a plain request's headers) before it is dropped. */
  timeoutMs: number
  /** The connection opened with a TLS handshake: its first bytes are back in the socket's buffer. */
  tls: () => void
  /** The connection is plain HTTP (answered and closed here). */
  plain: () => void
}

/** Waits for a new connection's first bytes and routes it to TLS or to the plain-HTTP refusal. */
export function splitTlsFromPlain(socket: Socket, o: SplitOptions): void {
  socket.on('error', () => socket.destroy()) // a reset before or during the handshake is not ours to report
  const onTimeout = () => socket.destroy()
  socket.setTimeout(o.timeoutMs)
  socket.on('timeout', onTimeout)
  socket.once('data', (chunk: Buffer) => {
    socket.pause()
    socket.unshift(chunk) // the TLS layer (or the refusal) reads them again
    if (chunk[0] === TLS_HANDSHAKE_RECORD) {
      // The TLS server's handshakeTimeout, then the HTTP server's timeouts, take over.
      socket.setTimeout(0)
      socket.off('timeout', onTimeout)
      o.tls()
    } else {
      o.plain()
      refusePlainHttp(socket)
    }
  })
}

/** Reads the request head (or as much as MAX_PLAIN_REQUEST), answers with the refusal and closes. */
function refusePlainHttp(socket: Socket): void {
  let seen = Buffer.alloc(0)
  let answered = false
  const answer = () => {
    if (answered) return
    answered = true
    socket.off('data', onData)
    const body = Buffer.from(encode({ 'failure reason': PLAIN_HTTP_REFUSED }))
    socket.end(Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`),
      body,
    ]))
  }
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]).subarray(-MAX_PLAIN_REQUEST)
    if (seen.includes('\r\n\r\n') || seen.length >= MAX_PLAIN_REQUEST) answer()
  }
  socket.on('data', onData)
  socket.once('end', answer)
  socket.resume()
}
