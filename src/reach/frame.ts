// One bencoded dict per frame, length-prefixed (u16), for the short
// request/answer exchanges that open a reflection or a relay circuit. What
// follows a frame on the stream is put back (unshift): on a relay circuit the
// inner link's first bytes can arrive in the same chunk as the answer.
import type { Duplex } from 'node:stream'
import { asDict, decode, encode, type BDict, type BInput } from '../codec/index.ts'

export const MAX_FRAME = 4096

export class FrameError extends Error {
  override name = 'FrameError'
}

export function writeFrame(sock: Duplex, dict: Record<string, BInput>): void {
  const body = encode(dict)
  if (body.length > MAX_FRAME) throw new FrameError('frame too large')
  const head = Buffer.alloc(2)
  head.writeUInt16BE(body.length)
  sock.write(Buffer.concat([head, body]))
}

/** Reads one frame; rejects on a malformed or oversized one, an early close, or after `timeoutMs`. */
export function readFrame(sock: Duplex, timeoutMs: number): Promise<BDict> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => done(new FrameError(`no answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
    const done = (err: Error | null, dict?: BDict, rest?: Buffer) => {
      clearTimeout(timer)
      sock.off('data', onData)
      sock.off('close', onClose)
      sock.off('error', onError)
      sock.pause()
      if (rest && rest.length > 0) sock.unshift(rest)
      if (err) reject(err)
      else resolve(dict!)
    }
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      if (buf.length < 2) return
      const len = buf.readUInt16BE(0)
      if (len > MAX_FRAME) return done(new FrameError('frame too large'))
      if (buf.length < 2 + len) return
      try {
        const dict = asDict(decode(buf.subarray(2, 2 + len), { maxBytes: MAX_FRAME, maxDepth: 2, maxItems: 16, maxStringBytes: MAX_FRAME }), 'frame')
        done(null, dict, buf.subarray(2 + len))
      } catch (err) {
        done(new FrameError(`malformed frame: ${(err as Error).message}`))
      }
    }
    const onClose = () => done(new FrameError('the other side closed'))
    const onError = (err: Error) => done(new FrameError(err.message))
    sock.on('data', onData)
    sock.once('close', onClose)
    sock.once('error', onError)
    sock.resume()
  })
}
