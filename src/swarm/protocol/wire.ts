// The BitTorrent peer wire (BEP 3 framing, BEP 10 extended messages) over a
// stream. Our own, rather than bittorrent-protocol's, for three reasons: a
// hard cap on every length a peer controls, checked at the parse boundary;
// no per-message speed meters on the hot path (they cost ~25% CPU with
// several wires, NOTES.md); and writes batched by the caller with cork().
// It knows nothing of tracks, trust or scheduling.
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { decode, encode, asDict, type BDict, type BInput } from '../../codec/index.ts'

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')
const HANDSHAKE_BYTES = 68
/** Largest message accepted: a 128 KiB block plus header, or a bitfield of 1M pieces. */
export const MAX_MESSAGE_BYTES = 128 * 1024 + 13
/** Largest block a peer may request (BEP 3 convention is 16 KiB). */
export const MAX_REQUEST_BYTES = 128 * 1024
const MAX_EXTENSIONS = 32
/** A wire closed without an error flushes at most this much, for at most LINGER_MS, before its socket goes. */
const LINGER_MAX_BYTES = 64 * 1024
const LINGER_MS = 1_000

export const MSG = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  extended: 20,
} as const

export class WireError extends Error {
  override name = 'WireError'
  constructor(
    readonly code: 'ERR_PROTOCOL' | 'ERR_TOO_LARGE' | 'ERR_CLOSED',
    message: string,
  ) {
    super(message)
  }
}

export interface WireEvents {
  handshake: [infoHash: Buffer, peerId: Buffer, extended: boolean]
  'extended-handshake': [dict: BDict]
  extended: [name: string, payload: Buffer]
  choke: []
  unchoke: []
  interested: []
  'not-interested': []
  have: [index: number]
  bitfield: [bits: Buffer]
  request: [index: number, offset: number, length: number]
  piece: [index: number, offset: number, block: Buffer]
  cancel: [index: number, offset: number, length: number]
  close: [error?: Error]
}

export class Wire extends EventEmitter<WireEvents> {
  peerChoking = true
  amChoking = true
  peerInterested = false
  amInterested = false
  infoHash: Buffer | null = null
  peerId: Buffer | null = null
  /** Extension name -> the id the peer asked us to use when sending it. */
  readonly peerExtensions = new Map<string, number>()
  destroyed = false

  private readonly localExtensions = new Map<number, string>()
  /**
   * Unparsed bytes: the start of a message that straddles chunks, in a buffer
   * of that message's whole size once its length is known (over TLS, whose
   * chunks are 16 KiB records, nearly every 16 KiB block straddles two: one
   * copy into place, not a copy of the tail and a concat), or what arrived
   * while paused. Only the first `pendingLen` bytes are data.
   */
  private pending: Buffer = Buffer.alloc(0)
  private pendingLen = 0
  private gotHandshake = false
  private paused = false

  constructor(
    private readonly socket: Duplex,
    /** Extensions we speak, in the order of their local ids (1, 2, ...). */
    extensions: readonly string[] = [],
  ) {
    super()
    extensions.forEach((name, i) => this.localExtensions.set(i + 1, name))
    // Handshakes and requests are small writes: Nagle's algorithm held them
    // back ~40 ms each (bench/swarm measured ~95 ms to authenticate with it on).
    ;(socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
  }

  // ---- outgoing -------------------------------------------------------

  handshake(infoHash: Uint8Array, peerId: Uint8Array): void {
    const reserved = Buffer.alloc(8)
    reserved[5] = 0x10 // BEP 10 extension protocol
    this.write(Buffer.concat([PROTOCOL, reserved, infoHash, peerId]))
  }

  extendedHandshake(extra: Record<string, BInput> = {}): void {
    const m: Record<string, number> = {}
    for (const [id, name] of this.localExtensions) m[name] = id
    this.sendExtended(0, encode({ ...extra, m }))
  }

  /** Sends an extension message; false when the peer does not speak that extension. */
  extended(name: string, payload: Uint8Array): boolean {
    const id = this.peerExtensions.get(name)
    if (id === undefined) return false
    this.sendExtended(id, payload)
    return true
  }

  choke(): void {
    if (this.amChoking) return
    this.amChoking = true
    this.message(MSG.choke)
  }

  unchoke(): void {
    if (!this.amChoking) return
    this.amChoking = false
    this.message(MSG.unchoke)
  }

  interested(): void {
    if (this.amInterested) return
    this.amInterested = true
    this.message(MSG.interested)
  }

  notInterested(): void {
    if (!this.amInterested) return
    this.amInterested = false
    this.message(MSG.notInterested)
  }

  have(index: number): void {
    this.message(MSG.have, [index])
  }

  bitfield(bits: Uint8Array): void {
    this.message(MSG.bitfield, [], bits)
  }

  request(index: number, offset: number, length: number): void {
    this.message(MSG.request, [index, offset, length])
  }

  cancel(index: number, offset: number, length: number): void {
    this.message(MSG.cancel, [index, offset, length])
  }

  piece(index: number, offset: number, block: Uint8Array): void {
    this.message(MSG.piece, [index, offset], block)
  }

  /**
   * Stops delivering messages (they wait in the buffer) until resume(). Used
   * at the moment a peer authenticates, so that messages arriving in the same
   * chunk are not emitted before the new owner of the wire has subscribed.
   */
  pause(): void {
    this.paused = true
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    // What arrived while paused is parsed as if it had just come in.
    const held = this.pending.subarray(0, this.pendingLen)
    this.setPending(Buffer.alloc(0))
    this.onData(held)
  }

  /** Batches the writes made inside fn into as few socket writes as possible. */
  batch(fn: () => void): void {
    this.socket.cork()
    try {
      fn()
    } finally {
      process.nextTick(() => this.socket.uncork())
    }
  }

  destroy(err?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    const socket = this.socket
    if (err || socket.writableLength > LINGER_MAX_BYTES) socket.destroy()
    else {
      // A wire closed on purpose still delivers its last messages (a proof, an
      // 'ok'): TLS encrypts and writes them asynchronously, so destroying the
      // socket now would drop them. It goes once they are out, or after a
      // moment if the peer stops reading.
      const timer = setTimeout(() => socket.destroy(), LINGER_MS)
      // unref where timers have it (Node; a page's are numbers: docs/browser.md)
      timer.unref?.()
      socket.once('close', () => clearTimeout(timer))
      socket.end(() => socket.destroy())
    }
    this.setPending(Buffer.alloc(0))
    this.emit('close', err)
  }

  // ---- framing ---------------------------------------------------------

  private write(buf: Uint8Array): void {
    if (!this.destroyed) this.socket.write(buf)
  }

  private sendExtended(id: number, payload: Uint8Array): void {
    this.message(MSG.extended, [], Buffer.concat([Buffer.from([id]), payload]))
  }

  private message(id: number, ints: number[] = [], payload?: Uint8Array): void {
    const head = Buffer.allocUnsafe(5 + 4 * ints.length)
    head.writeUInt32BE(1 + 4 * ints.length + (payload?.length ?? 0), 0)
    head[4] = id
    ints.forEach((v, i) => head.writeUInt32BE(v, 5 + 4 * i))
    this.write(head)
    if (payload && payload.length) this.write(payload)
  }

  // ---- parsing ---------------------------------------------------------

  private setPending(buf: Buffer, filled = buf.length): void {
    this.pending = buf
    this.pendingLen = filled
  }

  private onData(chunk: Buffer): void {
    if (this.destroyed) return
    try {
      if (!this.gotHandshake || this.paused) {
        // Rare paths (the first bytes, a paused wire): simply accumulate.
        const buf = this.pendingLen ? Buffer.concat([this.pending.subarray(0, this.pendingLen), chunk]) : chunk
        this.setPending(Buffer.alloc(0))
        if (!this.gotHandshake) {
          if (buf.length < HANDSHAKE_BYTES) return this.setPending(Buffer.from(buf))
          this.onHandshake(buf.subarray(0, HANDSHAKE_BYTES))
          chunk = buf.subarray(HANDSHAKE_BYTES)
        } else chunk = buf
        if (this.paused) return this.setPending(Buffer.from(chunk))
      }
      // Finish a message that straddled the previous chunk, copying only it.
      while (this.pendingLen > 0 && chunk.length > 0 && !this.destroyed && !this.paused) {
        if (this.pendingLen < 4) {
          // Not even its length yet (rare): a few bytes more.
          const take = Math.min(4 - this.pendingLen, chunk.length)
          this.setPending(Buffer.concat([this.pending.subarray(0, this.pendingLen), chunk.subarray(0, take)]))
          chunk = chunk.subarray(take)
          continue
        }
        const total = 4 + this.checkedLength(this.pending, 0)
        if (this.pending.length < total) {
          const whole = Buffer.allocUnsafe(total)
          this.pending.copy(whole, 0, 0, this.pendingLen)
          this.pending = whole
        }
        const take = Math.min(total - this.pendingLen, chunk.length)
        chunk.copy(this.pending, this.pendingLen, 0, take)
        this.pendingLen += take
        chunk = chunk.subarray(take)
        if (this.pendingLen === total) {
          const message = this.pending
          this.setPending(Buffer.alloc(0))
          if (total > 4) this.onMessage(message.subarray(4))
        }
      }
      let at = 0
      while (!this.destroyed && !this.paused && chunk.length - at >= 4) {
        const length = this.checkedLength(chunk, at)
        if (chunk.length - at - 4 < length) break
        if (length > 0) this.onMessage(chunk.subarray(at + 4, at + 4 + length))
        at += 4 + length
      }
      // Keep the unparsed tail, copied so the socket's chunk can be freed:
      // into a buffer of the whole message when its length is here and it is
      // still to be parsed (not paused), so the rest is copied straight in.
      if (at < chunk.length) {
        const tail = chunk.subarray(at)
        const held = this.pending.subarray(0, this.pendingLen)
        if (this.pendingLen === 0 && tail.length >= 4 && !this.paused) {
          const whole = Buffer.allocUnsafe(4 + this.checkedLength(tail, 0))
          tail.copy(whole)
          this.setPending(whole, tail.length)
        } else this.setPending(Buffer.concat([held, tail]))
      }
    } catch (err) {
      this.destroy(err instanceof WireError ? err : new WireError('ERR_PROTOCOL', (err as Error).message))
    }
  }

  private checkedLength(buf: Buffer, at: number): number {
    const length = buf.readUInt32BE(at)
    if (length > MAX_MESSAGE_BYTES) throw new WireError('ERR_TOO_LARGE', `message of ${length} bytes is over the limit`)
    return length
  }

  private onHandshake(h: Buffer): void {
    if (!h.subarray(0, 20).equals(PROTOCOL)) throw new WireError('ERR_PROTOCOL', 'not a BitTorrent handshake')
    this.gotHandshake = true
    this.infoHash = Buffer.from(h.subarray(28, 48))
    this.peerId = Buffer.from(h.subarray(48, 68))
    this.emit('handshake', this.infoHash, this.peerId, (h[25]! & 0x10) !== 0)
  }

  private onMessage(m: Buffer): void {
    const id = m[0]!
    const int = (i: number) => {
      if (m.length < 1 + 4 * (i + 1)) throw new WireError('ERR_PROTOCOL', `message ${id} is too short`)
      return m.readUInt32BE(1 + 4 * i)
    }
    switch (id) {
      case MSG.choke:
        this.peerChoking = true
        return void this.emit('choke')
      case MSG.unchoke:
        this.peerChoking = false
        return void this.emit('unchoke')
      case MSG.interested:
        this.peerInterested = true
        return void this.emit('interested')
      case MSG.notInterested:
        this.peerInterested = false
        return void this.emit('not-interested')
      case MSG.have:
        return void this.emit('have', int(0))
      case MSG.bitfield:
        return void this.emit('bitfield', m.subarray(1))
      case MSG.request: {
        const length = int(2)
        if (length === 0 || length > MAX_REQUEST_BYTES) throw new WireError('ERR_PROTOCOL', `request for ${length} bytes`)
        return void this.emit('request', int(0), int(1), length)
      }
      case MSG.piece:
        return void this.emit('piece', int(0), int(1), m.subarray(9))
      case MSG.cancel:
        return void this.emit('cancel', int(0), int(1), int(2))
      case MSG.extended:
        return this.onExtended(m)
      default:
        return // unknown messages are ignored, as BEP 3 asks
    }
  }

  private onExtended(m: Buffer): void {
    if (m.length < 2) throw new WireError('ERR_PROTOCOL', 'empty extended message')
    const ext = m[1]!
    const payload = m.subarray(2)
    if (ext === 0) {
      const dict = asDict(decode(payload, { maxBytes: 16 * 1024, maxDepth: 4, maxItems: 256 }), 'extended handshake')
      const mapping = dict.m === undefined ? {} : asDict(dict.m, 'extended handshake m')
      let n = 0
      for (const [name, v] of Object.entries(mapping)) {
        if (++n > MAX_EXTENSIONS) break
        if (typeof v === 'number' && v > 0 && v < 256) this.peerExtensions.set(name, v)
        else if (v === 0) this.peerExtensions.delete(name)
      }
      return void this.emit('extended-handshake', dict)
    }
    const name = this.localExtensions.get(ext)
    if (name) this.emit('extended', name, payload)
  }
}
