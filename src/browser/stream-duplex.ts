// A stream of a WebRTC link's multiplexer as the Duplex the wire reads and
// writes (readable-stream's in the page). The same adapter as Node's
// streamDuplex in src/rtc-node.ts, which the page cannot import: that module
// loads webrtc-polyfill.
import { Duplex } from 'node:stream'
import type { MuxStream } from '../rtc/index.ts'

/** Writes finish once handed to the data channel (its backpressure); reads are the stream's data. */
export function streamDuplex(stream: MuxStream): Duplex {
  const d = new Duplex({
    allowHalfOpen: false,
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      stream.write(chunk, (err) => cb(err ?? null))
    },
    final(cb) {
      stream.end()
      cb()
    },
    destroy(err, cb) {
      stream.destroy()
      cb(err)
    },
  })
  stream.on('data', (chunk) => d.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
  stream.once('close', (err) => {
    d.push(null)
    if (err) d.destroy(err)
    else if (!d.destroyed) d.destroy()
  })
  return d
}
