// A stream of a WebRTC link's multiplexer (src/rtc) as the Duplex the wire
// reads and writes: node:stream's in Node, readable-stream's in the page
// (the browser bundle's shim). One adapter for both: Swarm's webrtc links
// and the page's BrowserDevice.
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
