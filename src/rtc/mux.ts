// Many byte streams over one WebRTC data channel: a linked device's device
// channel wire (stream 0) and each track wire to it (streams 1, 2, ...), so a
// device link costs one PeerConnection and one data channel however many
// tracks pass (browsers cap PeerConnections: "Cannot create so many PeerConnections"). The
// data channel is ordered and reliable, so a stream is a byte stream as a TCP
// connection is. Portable: Uint8Array and a small emitter (emitter.ts), no node: modules.
//
// Frame (one data channel message): 1 byte flags, 4 bytes stream id (big
// endian), then at most FRAME_PAYLOAD bytes. Flags: OPEN (the sender opens
// this stream: the first frame of every stream), DATA (payload follows), END
// (the sender closes the stream: no more bytes either way). The offering side
// opens stream 0 and odd ids, the answering side even ids from 2, so the two
// never pick the same id.
//
// Backpressure: frames are handed to the channel only while its
// bufferedAmount is under `highWaterMark`, so it never holds more than that
// plus one frame (Chrome closes a channel whose send buffer overflows); the
// rest waits in each stream's queue, and a write's callback runs once its
// last frame was handed over (a Node Duplex over a stream then buffers and
// signals backpressure like a socket). Sending resumes on
// `bufferedamountlow`. Streams with queued frames take turns, one frame each,
// so a track transfer does not hold up the device channel.
import { Emitter } from './emitter.ts'
import { RtcError } from './errors.ts'
import type { DataChannelLike } from './types.ts'

export const FRAME_HEADER = 5
/** Largest payload of one frame: 16 KiB, a size every browser's SCTP takes in one message. */
export const FRAME_PAYLOAD = 16 * 1024
/** Default bytes the data channel may hold before writes wait. */
export const HIGH_WATER_MARK = 1024 * 1024
/** Default bufferedAmountLowThreshold: sending resumes once the channel drained to this. */
export const LOW_WATER_MARK = 256 * 1024
/** Streams the other side may have open with us at once; an OPEN beyond it is answered with END. */
export const MAX_STREAMS = 256
/** ms between looks at bufferedAmount while blocked, in case a bufferedamountlow event is missed. */
const BLOCKED_POLL = 100

export const FLAG_OPEN = 1
export const FLAG_DATA = 2
export const FLAG_END = 4

export interface MuxOptions {
  /** The offering side opens stream 0 and odd ids; the answering side even ids. */
  role: 'offerer' | 'answerer'
  highWaterMark?: number
  lowWaterMark?: number
  maxStreams?: number
  /** Sees the channel's bufferedAmount after every frame sent (tests of backpressure). */
  onSent?: (bufferedAmount: number) => void
}

interface MuxStreamEvents {
  data: [chunk: Uint8Array]
  /** The stream closed: by either side, or with the channel. */
  close: [err?: Error]
}

interface Pending {
  frame: Uint8Array
  /** Called once this frame is handed to the channel (the last frame of a write). */
  done?: (err?: Error | null) => void
}

/** One byte stream of a Mux: write(), end(), and `data`/`close` events. */
export class MuxStream extends Emitter<MuxStreamEvents> {
  closed = false
  /** Frames not yet handed to the channel. */
  readonly queue: Pending[] = []
  private opened: boolean

  constructor(
    private readonly mux: Mux,
    readonly id: number,
    /** Whether this side opened the stream (its first frame carries OPEN). */
    readonly local: boolean,
  ) {
    super()
    this.opened = !local
  }

  /** Queues bytes; `cb` runs once all of them are handed to the data channel (or with the error that stopped them). */
  write(data: Uint8Array, cb?: (err?: Error | null) => void): void {
    if (this.closed) {
      cb?.(new RtcError('ERR_CLOSED', `stream ${this.id} is closed`))
      return
    }
    if (data.length === 0) {
      cb?.(null)
      return
    }
    for (let at = 0; at < data.length; at += FRAME_PAYLOAD) {
      const part = data.subarray(at, Math.min(data.length, at + FRAME_PAYLOAD))
      const last = at + FRAME_PAYLOAD >= data.length
      this.queue.push({ frame: this.frame(FLAG_DATA, part), ...(last && cb ? { done: cb } : {}) })
    }
    this.mux.wake(this)
  }

  /** Opens the stream on the other side now (a stream that is only read, or whose first write is late). */
  announce(): void {
    if (this.opened || this.closed) return
    this.queue.push({ frame: this.frame(0) })
    this.mux.wake(this)
  }

  /** Closes the stream once what was written is sent; the other side sees END. */
  end(): void {
    if (this.closed) return
    this.queue.push({ frame: this.frame(FLAG_END), done: () => this.finish() })
    this.closed = true // no more writes; data from the other side still arrives until our END is out
    this.mux.wake(this)
  }

  /** Closes the stream at once: queued bytes are dropped, the other side sees END (harmless for a stream it never saw). */
  destroy(err?: Error): void {
    if (this.ended) return
    for (const p of this.queue.splice(0)) p.done?.(new RtcError('ERR_CLOSED', `stream ${this.id} was closed`))
    this.mux.sendNow(endFrame(this.id))
    this.finish(err)
  }

  private frame(flags: number, payload?: Uint8Array): Uint8Array {
    if (!this.opened) {
      flags |= FLAG_OPEN
      this.opened = true
    }
    const f = new Uint8Array(FRAME_HEADER + (payload?.length ?? 0))
    f[0] = flags
    new DataView(f.buffer).setUint32(1, this.id)
    if (payload) f.set(payload, FRAME_HEADER)
    return f
  }

  private ended = false
  /** Called by the mux: the other side sent data, or ended the stream. */
  receive(flags: number, payload: Uint8Array): void {
    if (this.ended) return
    if (flags & FLAG_DATA && payload.length > 0) this.emit('data', payload)
    if (flags & FLAG_END) {
      this.queue.splice(0).forEach((p) => p.done?.(new RtcError('ERR_CLOSED', `stream ${this.id} was closed by the other side`)))
      this.closed = true
      this.finish()
    }
  }

  finish(err?: Error): void {
    if (this.ended) return
    this.ended = true
    this.closed = true
    this.mux.forget(this)
    this.emit('close', err)
  }
}

interface MuxEvents {
  /** The other side opened a stream. */
  stream: [stream: MuxStream]
  /** The data channel closed, or the other side broke the framing (err). */
  close: [err?: Error]
}

export class Mux extends Emitter<MuxEvents> {
  readonly streams = new Map<number, MuxStream>()
  closed = false
  private nextId: number
  private readonly high: number
  private readonly maxStreams: number
  /** Streams with frames queued, in turn order. */
  private readonly ready: MuxStream[] = []
  private pumping = false
  private poll: ReturnType<typeof setTimeout> | undefined
  /** Streams the other side opened and has open. */
  private remoteOpen = 0

  constructor(
    readonly channel: DataChannelLike,
    private readonly opts: MuxOptions,
  ) {
    super()
    this.nextId = opts.role === 'offerer' ? 0 : 2
    this.high = opts.highWaterMark ?? HIGH_WATER_MARK
    this.maxStreams = opts.maxStreams ?? MAX_STREAMS
    channel.binaryType = 'arraybuffer'
    channel.bufferedAmountLowThreshold = opts.lowWaterMark ?? LOW_WATER_MARK
    channel.addEventListener('message', this.onMessage)
    channel.addEventListener('bufferedamountlow', this.onLow)
    channel.addEventListener('close', this.onClose)
  }

  /** A new stream opened by this side (stream 0 first on the offering side, the device channel). */
  open(): MuxStream {
    if (this.closed) throw new RtcError('ERR_CLOSED', 'the data channel is closed')
    const id = this.nextId
    this.nextId += id === 0 ? 1 : 2
    const s = new MuxStream(this, id, true)
    this.streams.set(id, s)
    return s
  }

  close(err?: Error): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.poll)
    this.channel.removeEventListener('message', this.onMessage)
    this.channel.removeEventListener('bufferedamountlow', this.onLow)
    this.channel.removeEventListener('close', this.onClose)
    for (const s of [...this.streams.values()]) {
      s.queue.splice(0).forEach((p) => p.done?.(new RtcError('ERR_CLOSED', 'the data channel closed')))
      s.finish(err)
    }
    this.ready.length = 0
    try {
      this.channel.close()
    } catch {
      // already closing
    }
    this.emit('close', err)
  }

  /** A stream has frames to send. */
  wake(s: MuxStream): void {
    if (!this.ready.includes(s)) this.ready.push(s)
    this.pump()
  }

  /** Sends a frame at once, ahead of any queue (END of a destroyed stream: a few bytes). */
  sendNow(frame: Uint8Array): void {
    if (this.closed || this.channel.readyState !== 'open') return
    try {
      this.channel.send(frame)
    } catch (err) {
      this.close(err as Error)
    }
  }

  forget(s: MuxStream): void {
    if (this.streams.get(s.id) === s) {
      this.streams.delete(s.id)
      if (!s.local) this.remoteOpen--
    }
    const i = this.ready.indexOf(s)
    if (i >= 0 && s.queue.length === 0) this.ready.splice(i, 1)
  }

  private pump(): void {
    if (this.pumping || this.closed) return
    this.pumping = true
    try {
      while (this.ready.length > 0 && !this.closed) {
        if (this.channel.readyState !== 'open') return
        if (this.channel.bufferedAmount >= this.high) return this.blocked()
        const s = this.ready.shift()!
        const p = s.queue.shift()
        if (!p) continue
        try {
          this.channel.send(p.frame)
        } catch (err) {
          p.done?.(err as Error)
          return this.close(err as Error)
        }
        this.opts.onSent?.(this.channel.bufferedAmount)
        if (s.queue.length > 0) this.ready.push(s)
        p.done?.(null)
      }
    } finally {
      this.pumping = false
    }
  }

  /** The channel holds highWaterMark: wait for bufferedamountlow (and look now and then, should it be missed). */
  private blocked(): void {
    clearTimeout(this.poll)
    this.poll = setTimeout(() => this.pump(), BLOCKED_POLL)
    ;(this.poll as { unref?: () => void }).unref?.()
  }

  private readonly onLow = () => {
    clearTimeout(this.poll)
    this.pump()
  }

  private readonly onClose = () => this.close()

  private readonly onMessage = (ev: { data: unknown }) => {
    if (this.closed) return
    const data = ev.data
    if (!(data instanceof ArrayBuffer)) return this.close(new RtcError('ERR_PROTOCOL', 'a text message on the data channel'))
    if (data.byteLength < FRAME_HEADER || data.byteLength > FRAME_HEADER + FRAME_PAYLOAD) {
      return this.close(new RtcError('ERR_PROTOCOL', `a frame of ${data.byteLength} bytes`))
    }
    const bytes = new Uint8Array(data)
    const flags = bytes[0]!
    const id = new DataView(data).getUint32(1)
    if (flags & ~(FLAG_OPEN | FLAG_DATA | FLAG_END)) return this.close(new RtcError('ERR_PROTOCOL', `unknown frame flags ${flags}`))
    const payload = bytes.subarray(FRAME_HEADER)
    if (!(flags & FLAG_DATA) && payload.length > 0) return this.close(new RtcError('ERR_PROTOCOL', 'a payload without the DATA flag'))
    let s = this.streams.get(id)
    if (flags & FLAG_OPEN) {
      // Ids of the other side's parity only, each opened once.
      const theirs = this.opts.role === 'offerer' ? id !== 0 && id % 2 === 0 : id === 0 || id % 2 === 1
      if (!theirs || s) return this.close(new RtcError('ERR_PROTOCOL', `stream ${id} opened twice or by the wrong side`))
      if (this.remoteOpen >= this.maxStreams) {
        // Refused: END back, and whatever else it sends is dropped as for any closed stream.
        if (!(flags & FLAG_END)) this.sendNow(endFrame(id))
        return
      }
      s = new MuxStream(this, id, false)
      this.streams.set(id, s)
      this.remoteOpen++
      this.emit('stream', s)
    }
    // Frames for a stream closed here may still be in flight: dropped.
    s?.receive(flags, payload)
  }
}

export function endFrame(id: number): Uint8Array {
  const f = new Uint8Array(FRAME_HEADER)
  f[0] = FLAG_END
  new DataView(f.buffer).setUint32(1, id)
  return f
}
