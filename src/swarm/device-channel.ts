// The device channel: one circle-private infohash that every own device
// joins, whose wires carry no pieces, only `dj_lookup` messages. It answers
// "which online own devices hold SHA-256 X", with the info dict (checked by
// the asker), so a device that knows only a track's id can fetch it, and
// nothing has to be announced per track.
import { EventEmitter } from 'node:events'
import { createHash, createHmac } from 'node:crypto'
import { asBytes, asDict, asInt, asString, decode, encode } from '../codec/index.ts'
import type { PeerSession } from './protocol/session.ts'

export const LOOKUP_EXTENSION = 'dj_lookup'
const MAX_MESSAGE = 64 * 1024
const MAX_PENDING_PER_LINK = 64 // queries a peer may have open with us
export const LOOKUP_TIMEOUT = 1_500 // ms

export function deviceChannelInfoHash(circleSecret: Uint8Array): Buffer {
  return createHash('sha1').update(createHmac('sha256', circleSecret).update('djcloud/device-channel/v1').digest()).digest()
}

export interface DeviceLink {
  session: PeerSession
  name: string
  /** The device key, hex. */
  device: string
  host: string
  /** The port the device listens on for peers (told in its hello). */
  peerPort?: number
}

export interface Holder {
  link: DeviceLink
  info: Uint8Array
}

interface Events {
  link: [link: DeviceLink]
  'link-gone': [link: DeviceLink]
}

export interface DeviceChannelOptions {
  peerPort: () => number
  /** The info dict of a track this device can serve, or null. */
  answer: (sha256: string) => Promise<Uint8Array | null>
}

export class DeviceChannel extends EventEmitter<Events> {
  private readonly links = new Set<DeviceLink>()
  private nextId = 1
  private readonly waiting = new Map<number, { expect: Set<DeviceLink>; holders: Holder[]; done: () => void }>()
  private closed = false

  constructor(private readonly opts: DeviceChannelOptions) {
    super()
  }

  online(): DeviceLink[] {
    return [...this.links]
  }

  add(session: PeerSession): DeviceLink {
    const link: DeviceLink = {
      session,
      name: session.peer.certificate.name,
      device: Buffer.from(session.peer.certificate.device).toString('hex'),
      host: session.remote.host,
    }
    const { wire } = session
    let pending = 0
    wire.on('extended', (name, payload) => {
      if (name !== LOOKUP_EXTENSION) return
      let m
      try {
        m = asDict(decode(payload, { maxBytes: MAX_MESSAGE, maxDepth: 2, maxItems: 16, maxStringBytes: MAX_MESSAGE }), 'lookup')
      } catch {
        return wire.destroy()
      }
      const t = m.t instanceof Uint8Array ? asString(m.t, 't', 8) : ''
      try {
        if (t === 'hello') {
          link.peerPort = asInt(m.port, 'port')
          if (!this.links.has(link)) {
            this.links.add(link)
            this.emit('link', link)
          }
        } else if (t === 'q') {
          const id = asInt(m.id, 'id')
          const sha = Buffer.from(asBytes(m.sha, 'sha', 32)).toString('hex')
          if (++pending > MAX_PENDING_PER_LINK) return wire.destroy()
          this.opts.answer(sha).then(
            (info) => {
              pending--
              if (!wire.destroyed) wire.extended(LOOKUP_EXTENSION, encode({ t: 'r', id, ...(info ? { info } : {}) }))
            },
            () => pending--,
          )
        } else if (t === 'r') {
          const w = this.waiting.get(asInt(m.id, 'id'))
          if (!w || !w.expect.delete(link)) return
          if (m.info !== undefined) w.holders.push({ link, info: asBytes(m.info, 'info') })
          if (w.expect.size === 0) w.done()
        }
      } catch {
        wire.destroy()
      }
    })
    wire.on('close', () => {
      if (!this.links.delete(link)) return
      for (const w of this.waiting.values()) if (w.expect.delete(link) && w.expect.size === 0) w.done()
      this.emit('link-gone', link)
    })
    wire.extended(LOOKUP_EXTENSION, encode({ t: 'hello', port: this.opts.peerPort() }))
    wire.resume()
    return link
  }

  /** Asks every online own device; resolves with the holders once all answered or the time is up. */
  lookup(sha256: string, timeoutMs = LOOKUP_TIMEOUT): Promise<Holder[]> {
    const links = this.online()
    if (this.closed || links.length === 0) return Promise.resolve([])
    const id = this.nextId++
    return new Promise((resolve) => {
      const holders: Holder[] = []
      const done = () => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(holders)
      }
      const timer = setTimeout(done, timeoutMs)
      timer.unref()
      this.waiting.set(id, { expect: new Set(links), holders, done })
      const q = encode({ t: 'q', id, sha: Buffer.from(sha256, 'hex') })
      for (const l of links) l.session.wire.extended(LOOKUP_EXTENSION, q)
    })
  }

  close(): void {
    this.closed = true
    for (const l of this.links) l.session.wire.destroy()
    for (const w of this.waiting.values()) w.done()
  }
}
