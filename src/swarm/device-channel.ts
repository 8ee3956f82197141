// The device channel: one circle-private infohash that every own device
// joins, whose wires carry no pieces, only `dj_lookup` messages. It answers
// "which online own devices hold SHA-256 X", with the info dict (checked by
// the asker), so a device that knows only a track's id can fetch it, and
// nothing has to be announced per track. The same messages carry manifests
// among own devices: a notice when a device publishes a new version, and
// blob requests answered in chunks (the receiver checks every blob against
// the hash it asked for, so a holder cannot feed it anything else). Commands
// (`cq`/`cr`) carry requests one device makes of another (a gig pull); their
// bodies are opaque here and checked by whoever handles them.
// A lookup for a reader (`q` with `o`, the byte it starts at) also asks each
// holder to push its share of the blocks there (`d`) right after its answer:
// the first bytes of a track held elsewhere come in one round trip over a
// link that is already up, while the track's own wires are still dialled
// (docs/swarm.md, "Pushed first blocks").
import { EventEmitter } from 'node:events'
import { createHash, createHmac } from 'node:crypto'
import { asBytes, asDict, asInt, asString, decode, encode } from '../codec/index.ts'
import type { PeerSession } from './protocol/authenticate-wire.ts'
import { clearlyNearer } from './nearest.ts'

export const LOOKUP_EXTENSION = 'dj_lookup'
const MAX_MESSAGE = 96 * 1024
/** A pushed block: one BitTorrent block (16 KiB). */
const PUSH_BLOCK_MAX = 16 * 1024
/** Bytes of a blob per answer: well under the wire's message cap. */
export const BLOB_CHUNK = 64 * 1024
const MAX_BLOB_BYTES = 8 * 1024 * 1024
const BLOB_TIMEOUT = 3_000 // ms per chunk before the next holder is asked
const MAX_PENDING_PER_LINK = 64 // queries a peer may have open with us
const BLOB_WINDOW = 32 // blob chunks asked for at once, well under MAX_PENDING_PER_LINK
export const LOOKUP_TIMEOUT = 1_500 // ms
/** Most devices one lookup asks to share a push among. */
const MAX_PUSH_PARTS = 16
/** ms pushed blocks of a lookup are taken after it was sent; later ones are dropped. */
const PUSH_WINDOW = 10_000

/** Samples of each link's round trip so far: how many, and the lowest. */
const samples = new WeakMap<DeviceLink, { n: number; min: number }>()
/** Samples before a link's round trip counts: one alone may be a busy moment (a machine starting other work). */
const RTT_SAMPLES = 2

/** A round trip measured on a link: once there are RTT_SAMPLES, the link's is the lowest seen (DeviceLink.rttMs). */
function sample(link: DeviceLink, ms: number): void {
  const s = samples.get(link) ?? { n: 0, min: Infinity }
  s.n++
  s.min = Math.min(s.min, ms)
  samples.set(link, s)
  if (s.n >= RTT_SAMPLES) link.rttMs = s.min
}

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
  /** How the link runs: straight between the two, through a punched hole, through a relay device (docs/reach.md), or over WebRTC (docs/rtc.md). */
  path: LinkPath
  /** The device (hex) that brokered the punch or relays the link. */
  via?: string
  /**
   * Round trip to the device in ms, once two samples came: the lowest seen
   * of the dial's TCP connect (when this side dialled), a `ping`/`pong` on
   * the link (each side pings once the other's hello came, so the side that
   * answered the dial knows it too, and again every RTT_PING_INTERVAL) and
   * every lookup answered. A busy event loop only ever makes a sample
   * longer, so the lowest is the path's.
   */
  rttMs?: number
  /** This device's address as the other end sees it (its hello), when it said. */
  seen?: string
  /** Whether the other end relays links between own devices (its hello). */
  relays?: boolean
  /** The public address a router maps to the other end's peer port (its hello), when it has one. */
  mapped?: string
  /** ms from this side starting the dial (or the punch, or the circuit) to the other's hello; links the other side opened have none. */
  setupMs?: number
}

/** `webrtc`: a WebRTC data channel (src/rtc/), its streams multiplexed: the device channel and every track wire to that device. */
export type LinkPath = 'direct' | 'punched' | 'relayed' | 'webrtc'

/** A device saying it published a new version of a manifest. */
export interface ManifestNotice {
  kind: string
  name?: string
  /** The signing key (hex): the device, or the owner for a roster. */
  signer: string
  /** Infohash (hex) of the manifest's root blob. */
  infoHash: string
  seq: number
  /** SHA-256 (hex) of the blob, for receivers that cannot compute its infohash (friends: no circle secret). */
  sha256?: string
}

export interface Holder {
  link: DeviceLink
  info: Uint8Array
}

/** A block a holder pushed for a lookup: piece `index`, at `offset` in it. */
export interface PushedBlock {
  index: number
  offset: number
  data: Uint8Array
}

/**
 * What a lookup for a reader asks of the devices in `pushers`: the one at
 * position k pushes every block k, k+n, k+2n... (n = pushers.length) of the
 * pieces from the one under byte `from` on; `onBlock` gets them as they come.
 */
export interface PushAsk {
  from: number
  pushers: DeviceLink[]
  onBlock: (link: DeviceLink, block: PushedBlock) => void
  /**
   * A reader's lookup resolves with its first holder (or none, once all
   * answered); holders answering later come here, within the lookup's time.
   */
  onLate: (holder: Holder) => void
}

interface Events {
  link: [link: DeviceLink]
  'link-gone': [link: DeviceLink]
  notice: [link: DeviceLink, notice: ManifestNotice]
}

/**
 * A command from a linked device (`cq`): `kind` names it, `body` is opaque
 * to the channel (the node checks and signs what it needs). The handler
 * answers with bytes or refuses with a one-line reason sent back (`cr`).
 */
export type CommandHandler = (body: Uint8Array, link: DeviceLink, kind: string) => Promise<CommandAnswer>
export type CommandAnswer = { body: Uint8Array } | { refused: string }

export class CommandError extends Error {
  override name = 'CommandError'
  constructor(
    readonly code: 'ERR_REFUSED' | 'ERR_TIMEOUT' | 'ERR_LINK_GONE',
    message: string,
  ) {
    super(message)
  }
}

export interface DeviceChannelOptions {
  peerPort: () => number
  /** The info dict of a track this device can serve to this link, or null. */
  answer: (sha256: string, link: DeviceLink) => Promise<Uint8Array | null>
  /** A manifest blob held here for this link, by SHA-256 (64 hex) or infohash (40 hex). */
  blob?: (id: string, link: DeviceLink) => Promise<Uint8Array | undefined>
  /**
   * The blocks of a track held here that a reader on this link asked to be
   * pushed (its share `part` of `parts`, from byte `from`); none when the
   * track is not served to this link.
   */
  push?: (sha256: string, link: DeviceLink, ask: { from: number; part: number; parts: number }) => Promise<PushedBlock[]>
  /** The largest blob asked for or served (default 8 MiB: manifests; backups are larger). */
  maxBlobBytes?: number
  /** ms a device we dialled has to send its hello before `ready` gives up (default HELLO_TIMEOUT). */
  helloTimeoutMs?: number
  /** More hello fields (this device relays; the address it sees the link at); older devices ignore them. */
  hello?: (link: DeviceLink) => Record<string, string | number>
  /** ms between round-trip pings on each link (default RTT_PING_INTERVAL). */
  rttPingMs?: number
}

/**
 * ms between pings on a linked device's link. A link's round trip is the
 * lowest sample seen: the first ones come while both devices start (a scan,
 * a busy event loop), and one busy moment must not keep a device "farther"
 * than another at the same distance for the life of the link (nearest first
 * would then leave it idle). A ping is 30 bytes either way.
 */
export const RTT_PING_INTERVAL = 15_000

/** ms for a dialled device's hello: it is sent right after the handshake, so this is generous. */
export const HELLO_TIMEOUT = 10_000

/** Bytes of a command's body or answer: one message, under the cap. */
export const MAX_COMMAND_BODY = 64 * 1024
const MAX_COMMAND_KIND = 32
const MAX_REFUSAL = 256
export const COMMAND_TIMEOUT = 10_000 // ms for an answer

type BlobAnswer = { size: number; data?: Uint8Array } | null

export class DeviceChannel extends EventEmitter<Events> {
  private readonly links = new Set<DeviceLink>()
  private nextId = 1
  private readonly waiting = new Map<number, { expect: Set<DeviceLink>; holders: Holder[]; done: () => void; sentAt: number }>()
  private readonly blobWaits = new Map<number, { link: DeviceLink; done: (a: BlobAnswer) => void }>()
  private readonly commandWaits = new Map<number, { link: DeviceLink; done: (a: CommandAnswer | Error) => void }>()
  private readonly commandHandlers = new Map<string, CommandHandler>()
  /** Lookups whose pushed blocks are still taken, by id. */
  private readonly pushSinks = new Map<number, { links: Set<DeviceLink>; onBlock: PushAsk['onBlock'] }>()
  /** Dials waiting for their link's hello (ready()). */
  private readonly helloWaits = new Map<DeviceLink, () => void>()
  private closed = false

  private readonly maxBlob: number

  constructor(private readonly opts: DeviceChannelOptions) {
    super()
    this.maxBlob = opts.maxBlobBytes ?? MAX_BLOB_BYTES
  }

  online(): DeviceLink[] {
    return [...this.links]
  }

  /**
   * Resolves once this link's device sent its hello (the link is online);
   * rejects (CommandError) when its wire closes first, or after the hello
   * timeout (the wire is then closed). A device killed between the handshake
   * and its hello must not leave the dialler waiting for ever.
   */
  ready(link: DeviceLink): Promise<DeviceLink> {
    if (this.links.has(link)) return Promise.resolve(link)
    const wire = link.session.wire
    if (wire.destroyed) return Promise.reject(new CommandError('ERR_LINK_GONE', `${link.name} closed the link before its hello`))
    const timeoutMs = this.opts.helloTimeoutMs ?? HELLO_TIMEOUT
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer)
        this.helloWaits.delete(link)
        wire.off('close', onClose)
        settle()
      }
      const onClose = () => finish(() => reject(new CommandError('ERR_LINK_GONE', `${link.name} closed the link before its hello`)))
      const timer = setTimeout(() => {
        finish(() => reject(new CommandError('ERR_TIMEOUT', `${link.name} sent no hello within ${timeoutMs} ms`)))
        wire.destroy()
      }, timeoutMs)
      // unref where timers have it (Node; a page's are numbers: docs/browser.md)
      timer.unref?.()
      // Per link, not a listener on the channel: many dials may wait at once.
      this.helloWaits.set(link, () => finish(() => resolve(link)))
      wire.on('close', onClose)
    })
  }

  /** Takes an authenticated session in; `path` says how it runs when it is not a direct connection. */
  add(session: PeerSession, path: { path: LinkPath; via?: string } = { path: 'direct' }): DeviceLink {
    const link: DeviceLink = {
      session,
      name: session.peer.certificate.name,
      device: Buffer.from(session.peer.certificate.device).toString('hex'),
      host: session.remote.host,
      ...path,
    }
    if (session.rttMs !== undefined) sample(link, session.rttMs)
    const { wire } = session
    let pending = 0
    /** Pings out (id -> performance.now()). */
    const pings = new Map<number, number>()
    const ping = () => {
      if (wire.destroyed) return
      const id = this.nextId++
      pings.set(id, performance.now())
      wire.extended(LOOKUP_EXTENSION, encode({ t: 'ping', id }))
    }
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
          if (m.seen !== undefined) link.seen = asString(m.seen, 'seen', 64)
          link.relays = m.relay === 1
          if (m.mapped !== undefined) link.mapped = asString(m.mapped, 'mapped', 64)
          if (!this.links.has(link)) {
            this.links.add(link)
            ping()
            // A ping still unanswered a whole interval on is forgotten (its pong would not be a round trip).
            const every = setInterval(() => (pings.clear(), ping()), this.opts.rttPingMs ?? RTT_PING_INTERVAL)
            every.unref?.()
            wire.once('close', () => clearInterval(every))
            this.emit('link', link)
            this.helloWaits.get(link)?.()
          }
        } else if (t === 'ping') {
          wire.extended(LOOKUP_EXTENSION, encode({ t: 'pong', id: asInt(m.id, 'id') }))
        } else if (t === 'pong') {
          const id = asInt(m.id, 'id')
          const at = pings.get(id)
          if (at === undefined) return
          pings.delete(id)
          sample(link, performance.now() - at)
          // An idle link (a punched or relayed one has no connect sample) pings again until its round trip counts.
          if ((samples.get(link)?.n ?? 0) < RTT_SAMPLES) ping()
        } else if (t === 'q') {
          const id = asInt(m.id, 'id')
          const sha = Buffer.from(asBytes(m.sha, 'sha', 32)).toString('hex')
          const ask = m.o === undefined ? null : { from: asInt(m.o, 'o'), part: asInt(m.k, 'k'), parts: asInt(m.n, 'n') }
          if (ask && (ask.from < 0 || ask.parts < 1 || ask.parts > MAX_PUSH_PARTS || ask.part < 0 || ask.part >= ask.parts)) return wire.destroy()
          if (++pending > MAX_PENDING_PER_LINK) return wire.destroy()
          this.opts.answer(sha, link)
            .then(async (info) => {
              if (wire.destroyed) return
              wire.extended(LOOKUP_EXTENSION, encode({ t: 'r', id, ...(info ? { info } : {}) }))
              if (!info || !ask || !this.opts.push) return
              for (const b of await this.opts.push(sha, link, ask)) {
                if (wire.destroyed) return
                wire.extended(LOOKUP_EXTENSION, encode({ t: 'd', id, i: b.index, o: b.offset, b: b.data }))
              }
            })
            .catch(() => {})
            .finally(() => pending--)
        } else if (t === 'bq') {
          const id = asInt(m.id, 'id')
          const key = Buffer.from(asBytes(m.k, 'k')).toString('hex')
          const off = asInt(m.off, 'off')
          if ((key.length !== 40 && key.length !== 64) || off < 0 || off > this.maxBlob) return wire.destroy()
          if (++pending > MAX_PENDING_PER_LINK) return wire.destroy()
          const blob = this.opts.blob ? this.opts.blob(key, link) : Promise.resolve(undefined)
          blob.then(
            (data) => {
              pending--
              if (wire.destroyed) return
              const reply = data && off < data.length ? { size: data.length, data: data.subarray(off, off + BLOB_CHUNK) } : {}
              wire.extended(LOOKUP_EXTENSION, encode({ t: 'br', id, ...reply }))
            },
            () => pending--,
          )
        } else if (t === 'cq') {
          const id = asInt(m.id, 'id')
          const kind = asString(m.k, 'k', MAX_COMMAND_KIND)
          const body = asBytes(m.b, 'b')
          if (body.length > MAX_COMMAND_BODY) return wire.destroy()
          if (++pending > MAX_PENDING_PER_LINK) return wire.destroy()
          const handler = this.commandHandlers.get(kind)
          const answer: Promise<CommandAnswer> = handler ? handler(body, link, kind) : Promise.resolve({ refused: `"${kind}" is not served here` })
          answer.then(
            (a) => {
              pending--
              if (wire.destroyed) return
              const reply = 'body' in a ? { b: a.body.subarray(0, MAX_COMMAND_BODY) } : { err: a.refused.slice(0, MAX_REFUSAL) }
              wire.extended(LOOKUP_EXTENSION, encode({ t: 'cr', id, ...reply }))
            },
            () => {
              pending--
              if (!wire.destroyed) wire.extended(LOOKUP_EXTENSION, encode({ t: 'cr', id, err: 'internal error' }))
            },
          )
        } else if (t === 'cr') {
          const id = asInt(m.id, 'id')
          const w = this.commandWaits.get(id)
          if (!w || w.link !== link) return
          this.commandWaits.delete(id)
          w.done(m.b !== undefined ? { body: asBytes(m.b, 'b') } : { refused: asString(m.err, 'err', MAX_REFUSAL) })
        } else if (t === 'br') {
          const id = asInt(m.id, 'id')
          const w = this.blobWaits.get(id)
          if (!w || w.link !== link) return
          this.blobWaits.delete(id)
          w.done(m.data === undefined ? null : { size: asInt(m.size, 'size'), data: asBytes(m.data, 'data') })
        } else if (t === 'm') {
          const notice: ManifestNotice = {
            kind: asString(m.kind, 'kind', 16),
            signer: Buffer.from(asBytes(m.signer, 'signer', 32)).toString('hex'),
            infoHash: Buffer.from(asBytes(m.ih, 'ih', 20)).toString('hex'),
            seq: asInt(m.seq, 'seq'),
          }
          if (m.name !== undefined) notice.name = asString(m.name, 'name', 256)
          if (m.sha !== undefined) notice.sha256 = Buffer.from(asBytes(m.sha, 'sha', 32)).toString('hex')
          this.emit('notice', link, notice)
        } else if (t === 'd') {
          const sink = this.pushSinks.get(asInt(m.id, 'id'))
          const data = asBytes(m.b, 'b')
          if (data.length > PUSH_BLOCK_MAX) return wire.destroy()
          // Late (the window closed) or not asked of this link: dropped, not punished.
          if (sink?.links.has(link)) sink.onBlock(link, { index: asInt(m.i, 'i'), offset: asInt(m.o, 'o'), data })
        } else if (t === 'r') {
          const w = this.waiting.get(asInt(m.id, 'id'))
          if (!w || !w.expect.delete(link)) return
          sample(link, performance.now() - w.sentAt)
          if (m.info !== undefined) w.holders.push({ link, info: asBytes(m.info, 'info') })
          w.done()
        }
      } catch {
        wire.destroy()
      }
    })
    wire.on('close', () => {
      for (const [id, w] of this.blobWaits) if (w.link === link) (this.blobWaits.delete(id), w.done(null))
      for (const [id, w] of this.commandWaits) {
        if (w.link === link) (this.commandWaits.delete(id), w.done(new CommandError('ERR_LINK_GONE', `the link to ${link.name} closed`)))
      }
      if (!this.links.delete(link)) return
      for (const w of this.waiting.values()) if (w.expect.delete(link)) w.done()
      this.emit('link-gone', link)
    })
    wire.extended(LOOKUP_EXTENSION, encode({ t: 'hello', port: this.opts.peerPort(), ...this.opts.hello?.(link) }))
    wire.resume()
    return link
  }

  /**
   * Asks every online own device (or `only` those); resolves with the holders
   * once all answered or the time is up. With `push`, the devices it names
   * push their share of the blocks from its byte on, for PUSH_WINDOW ms.
   */
  lookup(sha256: string, timeoutMs = LOOKUP_TIMEOUT, only?: DeviceLink[], push?: PushAsk): Promise<Holder[]> {
    const links = only ?? this.online()
    if (this.closed || links.length === 0) return Promise.resolve([])
    const id = this.nextId++
    const pushers = push ? push.pushers.filter((l) => links.includes(l)).slice(0, MAX_PUSH_PARTS) : []
    if (push && pushers.length > 0) {
      this.pushSinks.set(id, { links: new Set(pushers), onBlock: push.onBlock })
      setTimeout(() => this.pushSinks.delete(id), PUSH_WINDOW).unref?.()
    }
    return new Promise((resolve) => {
      // Called on every answer, a link gone, the timeout and close(). A reader's
      // lookup (push) settles on its first holder, unless a clearly nearer device
      // has yet to answer (nearest first: it is waited for, within the timeout);
      // later ones go to onLate.
      let settled = false
      const nearerPending = () => {
        const nearest = Math.min(...entry.holders.map((h) => h.link.rttMs ?? Infinity))
        return [...entry.expect].some((l) => clearlyNearer(l.rttMs, nearest === Infinity ? undefined : nearest))
      }
      const done = () => {
        if (!settled && (entry.expect.size === 0 || (push && entry.holders.length > 0 && !nearerPending()))) {
          settled = true
          resolve(entry.holders.splice(0))
        } else if (settled) for (const h of entry.holders.splice(0)) push!.onLate(h)
        if (entry.expect.size === 0) {
          clearTimeout(timer)
          this.waiting.delete(id)
        }
      }
      const entry = { expect: new Set(links), holders: [] as Holder[], done, sentAt: performance.now() }
      const timer = setTimeout(() => {
        entry.expect.clear()
        done()
      }, timeoutMs)
      timer.unref?.()
      this.waiting.set(id, entry)
      const q = encode({ t: 'q', id, sha: Buffer.from(sha256, 'hex') })
      for (const l of links) {
        const part = pushers.indexOf(l)
        const msg = part < 0 ? q : encode({ t: 'q', id, sha: Buffer.from(sha256, 'hex'), o: push!.from, k: part, n: pushers.length })
        l.session.wire.extended(LOOKUP_EXTENSION, msg)
      }
    })
  }

  /** Tells every online own device (or the ones given) that a manifest has a new version. */
  notify(n: ManifestNotice, links: DeviceLink[] = this.online()): void {
    const msg = encode({
      t: 'm',
      kind: n.kind,
      ...(n.name === undefined ? {} : { name: n.name }),
      ...(n.sha256 === undefined ? {} : { sha: Buffer.from(n.sha256, 'hex') }),
      signer: Buffer.from(n.signer, 'hex'),
      ih: Buffer.from(n.infoHash, 'hex'),
      seq: n.seq,
    })
    for (const l of links) if (!l.session.wire.destroyed) l.session.wire.extended(LOOKUP_EXTENSION, msg)
  }

  /**
   * Who answers one kind of command from linked devices (null: nobody); a
   * kind without a handler is refused. Each service registers its own kinds.
   */
  onCommand(kind: string, handler: CommandHandler | null): void {
    if (handler) this.commandHandlers.set(kind, handler)
    else this.commandHandlers.delete(kind)
  }

  /**
   * Sends a command to one linked device and resolves with its answer body;
   * rejects with CommandError: ERR_REFUSED (its reason), ERR_TIMEOUT, ERR_LINK_GONE.
   */
  command(link: DeviceLink, kind: string, body: Uint8Array, timeoutMs = COMMAND_TIMEOUT): Promise<Uint8Array> {
    if (body.length > MAX_COMMAND_BODY) return Promise.reject(new RangeError(`a command body is at most ${MAX_COMMAND_BODY} bytes`))
    if (this.closed || link.session.wire.destroyed) return Promise.reject(new CommandError('ERR_LINK_GONE', `${link.name} is not linked`))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.commandWaits.delete(id)
        reject(new CommandError('ERR_TIMEOUT', `${link.name} did not answer "${kind}" within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref?.()
      this.commandWaits.set(id, {
        link,
        done: (a) => {
          clearTimeout(timer)
          if (a instanceof Error) reject(a)
          else if ('body' in a) resolve(a.body)
          else reject(new CommandError('ERR_REFUSED', a.refused))
        },
      })
      link.session.wire.extended(LOOKUP_EXTENSION, encode({ t: 'cq', id, k: kind, b: body }))
    })
  }

  private askBlob(link: DeviceLink, key: Buffer, off: number): Promise<BlobAnswer> {
    if (link.session.wire.destroyed) return Promise.resolve(null)
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.blobWaits.delete(id)
        resolve(null)
      }, BLOB_TIMEOUT)
      timer.unref?.()
      this.blobWaits.set(id, {
        link,
        done: (a) => {
          clearTimeout(timer)
          resolve(a)
        },
      })
      link.session.wire.extended(LOOKUP_EXTENSION, encode({ t: 'bq', id, k: key, off }))
    })
  }

  /**
   * Fetches a blob (by SHA-256 or infohash, hex) from the first online own
   * device that has it, the given ones first (or only those). The caller checks the bytes.
   */
  async fetchBlob(id: string, prefer: DeviceLink[] = [], onlyThese = false): Promise<{ data: Buffer; link: DeviceLink } | null> {
    const key = Buffer.from(id, 'hex')
    const links = onlyThese ? prefer : [...new Set([...prefer, ...this.online()])]
    for (const link of links) {
      const first = await this.askBlob(link, key, 0)
      if (!first?.data || first.size <= 0 || first.size > this.maxBlob || first.data.length > first.size) continue
      const parts: Uint8Array[] = [first.data]
      let ok = true
      // The rest of a large blob is asked for in windows (the holder drops a wire with too many
      // queries open); answers come back in order on one wire.
      const offsets: number[] = []
      for (let off = first.data.length; off < first.size; off += BLOB_CHUNK) offsets.push(off)
      for (let i = 0; ok && i < offsets.length; i += BLOB_WINDOW) {
        const rest = offsets.slice(i, i + BLOB_WINDOW).map((off) => this.askBlob(link, key, off))
        for (const r of await Promise.all(rest)) {
          if (!r?.data || r.size !== first.size) ok = false
          else parts.push(r.data)
        }
      }
      const data = Buffer.concat(parts)
      if (ok && data.length === first.size) return { data, link }
    }
    return null
  }

  close(): void {
    this.closed = true
    for (const l of this.links) l.session.wire.destroy()
    for (const w of this.waiting.values()) {
      w.expect.clear()
      w.done()
    }
    for (const w of this.blobWaits.values()) w.done(null)
    this.blobWaits.clear()
    for (const w of this.commandWaits.values()) w.done(new CommandError('ERR_LINK_GONE', 'the device channel closed'))
    this.commandWaits.clear()
    this.pushSinks.clear()
  }
}
