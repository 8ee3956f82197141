// Own devices on one LAN find each other with no tracker, DHT or internet
// (docs/node.md, "On the LAN"; decision record lan-discovery-multicast): each
// multicasts a sealed announcement (lan-packet.ts) to an administratively
// scoped group with TTL 1, at start (a short burst of queries, which devices
// already there answer at once) and every `intervalMs`. A packet that passes
// its checks hands (source address, peer port) to `onPeer`: the node's
// discovery dials it, and dj_auth on the device channel proves who is there.
// Everything else is dropped silently and counted (stats(), and
// DEBUG=djcloud:reach:lan).
import { createSocket, type Socket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import { once } from 'node:events'
import { logger, type Logger } from '../log/index.ts'
import { lanKey, openLanPacket, sealLanPacket, LAN_PACKET_BYTES, type LanKind } from './lan-packet.ts'

/** Organization-local scope (RFC 2365), not BEP 14's 239.192.152.143: see the decision record. */
export const LAN_GROUP = '239.192.74.65'
/** UDP, next to djcloud's 7461-7464; not BEP 14's 6771, so torrent clients' LSD and ours never parse each other's packets. */
export const LAN_PORT = 7465
export const LAN_INTERVAL = 30_000 // ms between announcements
/** ms after start (and after burst()) at which a query goes out: a lost datagram costs a second, not an interval. */
export const LAN_BURST = [0, 1_000, 3_000] as const
/** ms a packet's time may differ from ours, either way: clocks of own devices drift, a replay later than this is stale. */
export const LAN_WINDOW = 120_000
/** ms between answers to queries: a flood of (valid, replayed elsewhere) queries costs one packet a second at most. */
export const LAN_ANSWER_GAP = 1_000
/** Nonces remembered against replays (a valid packet's only): at one packet per device per 30 s, thousands of devices' worth. */
const REPLAY_CACHE_MAX = 4096

export interface LanDiscoveryOptions {
  circleSecret: Uint8Array
  /** This device's peer port now (TCP), announced in every packet. */
  peerPort: () => number
  /** A device of this circle announced itself at this address (its source address) and peer port. */
  onPeer: (a: { host: string; port: number }) => void
  /** Multicast group (default LAN_GROUP). */
  group?: string
  /** UDP port (default LAN_PORT; 0: any, for tests that send by unicast). */
  port?: number
  /** Address to bind (default all interfaces: multicast arrives on any). */
  bindHost?: string
  intervalMs?: number
  burstMs?: readonly number[]
  windowMs?: number
  answerGapMs?: number
  /** IPv4 addresses of the interfaces to join and send on (default: every non-loopback IPv4 interface, read again each interval); none: receive only. */
  interfaces?: () => string[]
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number
  onWarning?: (err: Error) => void
}

export interface LanStats {
  sent: number
  /** Announcements that passed every check and were handed to onPeer. */
  accepted: number
  /** Not 39 bytes. */
  size: number
  /** Failed the tag: another circle's, or made up. */
  forged: number
  /** Outside the time window. */
  stale: number
  /** A nonce seen before. */
  replayed: number
  /** Our own packets, looped back. */
  self: number
}

export class LanDiscovery {
  private socket: Socket | null = null
  private readonly key: Buffer
  private readonly log: Logger = logger('reach:lan')
  private readonly counts: LanStats = { sent: 0, accepted: 0, size: 0, forged: 0, stale: 0, replayed: 0, self: 0 }
  /** Nonces (hex) of valid packets and of our own, with when they expire; insertion order is age. */
  private readonly seen = new Map<string, { until: number; self: boolean }>()
  /** IPv4 interface addresses the group is joined on. */
  private readonly joined = new Set<string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private lastAnswer = -Infinity
  private started = false
  private stopped = false
  private readonly now: () => number

  constructor(private readonly opts: LanDiscoveryOptions) {
    this.key = lanKey(opts.circleSecret)
    this.now = opts.now ?? Date.now
  }

  /** The UDP port bound (after start). */
  get port(): number {
    return (this.socket?.address() as { port: number } | undefined)?.port ?? 0
  }

  stats(): LanStats {
    return { ...this.counts }
  }

  /** Binds, joins the group on every IPv4 interface, sends the start burst and starts the interval. Idempotent. */
  async start(): Promise<void> {
    if (this.started || this.stopped) return
    this.started = true
    const socket = createSocket({ type: 'udp4', reuseAddr: true })
    socket.on('error', (err) => this.opts.onWarning?.(err))
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address))
    socket.bind(this.opts.port ?? LAN_PORT, this.opts.bindHost)
    await once(socket, 'listening')
    if (this.stopped) return void socket.close()
    this.socket = socket
    socket.setMulticastTTL(1) // never past the first router
    socket.setMulticastLoopback(true) // two devices on one machine (and our own packets come back: counted as self)
    this.join()
    this.burst()
    const every = setInterval(() => {
      this.join() // an interface that came up since (Wi-Fi joined) is joined too
      this.send('announce')
    }, this.opts.intervalMs ?? LAN_INTERVAL)
    every.unref()
    this.timers.add(every)
  }

  /** Queries now and again after each of `burstMs`: at start, and when the network may have changed. */
  burst(): void {
    for (const ms of this.opts.burstMs ?? LAN_BURST) {
      if (ms <= 0) {
        this.send('query')
        continue
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        this.send('query')
      }, ms)
      timer.unref()
      this.timers.add(timer)
    }
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.socket?.close()
    this.socket = null
  }

  private interfaces(): string[] {
    if (this.opts.interfaces) return this.opts.interfaces()
    return Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((i) => i.family === 'IPv4' && !i.internal)
      .map((i) => i.address)
  }

  /**
   * Found no LAN interface (a machine with loopback only): the default one,
   * which may fail and then stays a warning. Interfaces given as an option
   * are taken as they are: none means receive only (tests).
   */
  private targets(addrs: string[]): string[] {
    return addrs.length || this.opts.interfaces ? addrs : ['']
  }

  private join(): void {
    const socket = this.socket
    if (!socket) return
    const group = this.opts.group ?? LAN_GROUP
    const addrs = this.interfaces()
    for (const addr of this.targets(addrs)) {
      if (this.joined.has(addr)) continue
      try {
        if (addr) socket.addMembership(group, addr)
        else socket.addMembership(group)
        this.joined.add(addr)
      } catch (err) {
        this.opts.onWarning?.(new Error(`LAN discovery: cannot join ${group}${addr ? ` on ${addr}` : ''}: ${(err as Error).message}`))
      }
    }
  }

  private send(kind: LanKind): void {
    const socket = this.socket
    const port = this.opts.peerPort()
    if (!socket || this.stopped || port <= 0) return
    const group = this.opts.group ?? LAN_GROUP
    const to = this.opts.port ?? LAN_PORT
    const addrs = this.interfaces()
    // One packet per interface, each with its own nonce: what goes out on one link says nothing about another.
    for (const addr of this.targets(addrs)) {
      const packet = sealLanPacket(this.key, { kind, time: this.now(), port })
      this.remember(packet.subarray(0, 12).toString('hex'), true)
      try {
        if (addr) socket.setMulticastInterface(addr)
        socket.send(packet, to, group, (err) => err && this.opts.onWarning?.(err))
        this.counts.sent++
      } catch (err) {
        this.opts.onWarning?.(err as Error)
      }
    }
    this.log('%s sent on %s', kind, addrs.join(', ') || 'the default interface')
  }

  private remember(nonce: string, self: boolean): void {
    const now = this.now()
    for (const [n, e] of this.seen) {
      if (e.until > now && this.seen.size < REPLAY_CACHE_MAX) break
      this.seen.delete(n) // expired, or the oldest when full
    }
    this.seen.set(nonce, { until: now + 2 * (this.opts.windowMs ?? LAN_WINDOW), self })
  }

  /** One datagram: checked, then handed on or counted as dropped. */
  private receive(msg: Buffer, host: string): void {
    if (this.stopped) return
    if (msg.length !== LAN_PACKET_BYTES) return this.drop('size', host)
    const a = openLanPacket(this.key, msg)
    if (a === 'size' || a === 'forged') return this.drop(a, host)
    const seen = this.seen.get(a.nonce)
    if (seen?.self) return void this.counts.self++
    if (seen) return this.drop('replayed', host)
    if (Math.abs(this.now() - a.time) > (this.opts.windowMs ?? LAN_WINDOW)) return this.drop('stale', host)
    this.remember(a.nonce, false)
    this.counts.accepted++
    this.log('%s from %s, peer port %d', a.kind, host, a.port)
    this.opts.onPeer({ host, port: a.port })
    if (a.kind === 'query' && this.now() - this.lastAnswer >= (this.opts.answerGapMs ?? LAN_ANSWER_GAP)) {
      this.lastAnswer = this.now()
      this.send('announce')
    }
  }

  private drop(why: 'size' | 'forged' | 'stale' | 'replayed', host: string): void {
    this.counts[why]++
    this.log('dropped a packet from %s: %s', host, why)
  }
}
