// A message channel (an RTCDataChannel, or a WebSocket in the tests) as the
// byte stream the wire runs on: writes go out as messages of at most
// MAX_MESSAGE bytes (Chromium refuses a data channel message over 256 KiB)
// and a write waits while the channel holds more than `highWater` unsent
// (Chrome closes a data channel whose send buffer overflows). Messages that
// arrive are the stream's data, in order: both channels are reliable and
// ordered. Works on Node too (its Duplex), where the tests check it.
import { Duplex } from 'node:stream'

/** What this needs of an RTCDataChannel or a WebSocket (binaryType 'arraybuffer'). */
export interface MessageChannelLike {
  readonly readyState: string | number
  readonly bufferedAmount: number
  send(data: Uint8Array): void
  close(): void
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void
  addEventListener(type: 'close' | 'error' | 'open', fn: (e: unknown) => void): void
  removeEventListener(type: string, fn: (e: never) => void): void
}

export interface MessageStreamOptions {
  /** Bytes a message carries at most (default 64 KiB). */
  maxMessage?: number
  /** Unsent bytes in the channel above which writes wait (default 1 MiB). */
  highWater?: number
  /** How often a waiting write looks at `bufferedAmount` again, in ms (default 5). */
  drainPollMs?: number
}

export const MAX_MESSAGE = 64 * 1024 // bytes
const HIGH_WATER = 1024 * 1024 // bytes

const isOpen = (ch: MessageChannelLike) => ch.readyState === 'open' || ch.readyState === 1

/** The channel as a Duplex; destroying it closes the channel, and the channel closing ends it. */
export function messageStream(channel: MessageChannelLike, opts: MessageStreamOptions = {}): Duplex {
  const maxMessage = opts.maxMessage ?? MAX_MESSAGE
  const highWater = opts.highWater ?? HIGH_WATER
  const poll = opts.drainPollMs ?? 5
  let drainTimer: ReturnType<typeof setTimeout> | undefined
  const waitForRoom = (cb: (err?: Error | null) => void) => {
    if (channel.bufferedAmount <= highWater) return cb()
    if (!isOpen(channel)) return cb(new Error('the channel closed'))
    drainTimer = setTimeout(() => waitForRoom(cb), poll)
  }
  const stream = new Duplex({
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      if (!isOpen(channel)) return cb(new Error('the channel is not open'))
      try {
        for (let at = 0; at < chunk.length; at += maxMessage) channel.send(chunk.subarray(at, Math.min(chunk.length, at + maxMessage)))
      } catch (err) {
        return cb(err as Error)
      }
      waitForRoom(cb)
    },
    final(cb) {
      channel.close()
      cb()
    },
    destroy(err, cb) {
      clearTimeout(drainTimer)
      if (isOpen(channel)) channel.close()
      cb(err)
    },
  })
  const onMessage = (e: { data: unknown }) => {
    const d = e.data
    if (d instanceof ArrayBuffer) stream.push(Buffer.from(d))
    else if (ArrayBuffer.isView(d)) stream.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength))
    else stream.destroy(new Error('the channel carried a message that is not bytes'))
  }
  const onClose = () => {
    stream.push(null)
    stream.destroy()
  }
  channel.addEventListener('message', onMessage)
  channel.addEventListener('close', onClose)
  channel.addEventListener('error', () => stream.destroy(new Error('the channel failed')))
  return stream
}
