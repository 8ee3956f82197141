// How a node finds its other own devices: signed announces of the device
// channel to every circle tracker, the same channel announced on the DHT
// (BEP 5; the channel's infohash is keyed by the circle secret), plus the
// addresses it learned before (<home>/peers.json), so a tracker outage does
// not cut devices that already know each other.
import { readFile, writeFile, rename } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { announce, type AnnounceSigner, type Swarm } from '../swarm/index.ts'
import type { Roster } from '../identity/index.ts'
import type { DhtNode } from '../manifest/index.ts'

export const ANNOUNCE_INTERVAL = 60_000 // ms
export const REDIAL_INTERVAL = 3_000 // ms: known addresses not connected are dialled again
const MAX_REMEMBERED = 64
const MAX_KNOWN = 256 // addresses learned from trackers: peer-controlled, capped

export interface Address {
  host: string
  port: number
}

export interface DiscoveryOptions {
  swarm: Swarm
  home: string
  /**
   * Tracker announce URLs. Only https:// ones are announced to: a tracker's
   * key must be a device on `roster`; a plain http:// one is skipped with a
   * warning (ERR_TRACKER_INSECURE), as it would show the proof to the network.
   */
  trackers: () => string[]
  /** The roster that pins the trackers' keys. */
  roster: () => Roster
  /** When given, the device channel is announced and looked up on the DHT too. */
  dht?: DhtNode | null
  signer: AnnounceSigner
  /** This device's key (hex): a tracker lists us too, and we do not dial ourselves. */
  self: string
  /** Extra device addresses to dial (djcloud serve --peer). */
  peers?: Address[]
  /** ms between dials of known addresses not connected (default REDIAL_INTERVAL). */
  redialMs?: number
  /** ms between announces (default ANNOUNCE_INTERVAL). */
  announceMs?: number
  /**
   * The port announced to trackers and the DHT (default: the swarm's peer
   * port). With a port mapping it is the router's external port, so a
   * device behind it is dialled at the public address.
   */
  announcePort?: () => number
  onWarning?: (err: Error) => void
}

const key = (a: Address) => `${a.host}:${a.port}`

export class Discovery {
  private timer: NodeJS.Timeout | null = null
  private redial: NodeJS.Timeout | null = null
  private readonly dialing = new Set<string>()
  /** Every device address learned (trackers, memory, flags), dialled until connected. */
  private readonly known = new Map<string, Address>()
  /** Addresses that turned out to be this device. */
  private readonly selves = new Set<string>()
  private remembered: Address[] = []
  private stopped = false
  private readonly file: string

  constructor(private readonly opts: DiscoveryOptions) {
    this.file = join(opts.home, 'peers.json')
    opts.swarm.on('device', (link) => {
      if (link.device === opts.self) return void link.session.wire.destroy()
      if (link.peerPort !== undefined) void this.remember({ host: link.host, port: link.peerPort })
    })
  }

  private started = false

  /** Reads remembered addresses, announces and starts the timers. Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started || this.stopped) return
    this.started = true
    this.remembered = await readFile(this.file, 'utf8').then((t) => (JSON.parse(t) as Address[]).slice(0, MAX_REMEMBERED), () => [])
    for (const a of [...(this.opts.peers ?? []), ...this.remembered]) this.learn(a)
    await this.announceAll('started')
    if (this.stopped || signal?.aborted) return
    this.timer = setInterval(() => void this.announceAll(), this.opts.announceMs ?? ANNOUNCE_INTERVAL)
    this.timer.unref()
    // A dial that failed (a device restarting, a busy machine) is tried again soon,
    // not only at the next announce.
    this.redial = setInterval(() => {
      for (const a of this.known.values()) this.dial(a)
    }, this.opts.redialMs ?? REDIAL_INTERVAL)
    this.redial.unref()
  }

  /** Announces again now if running: the announced port changed (a port mapping came or went). */
  reannounce(): void {
    if (this.started && !this.stopped) void this.announceAll()
  }

  /** Announces to every tracker (and the DHT) now and dials the devices they list. */
  async announceAll(event?: 'started'): Promise<void> {
    const port = this.opts.announcePort?.() ?? this.opts.swarm.port
    // Not awaited: a DHT lookup takes up to seconds and must not hold up start-up.
    const dht = this.opts.dht
    if (dht) {
      void (async () => {
        try {
          await dht.announce(this.opts.swarm.channel, port)
          for (const p of await dht.lookup(this.opts.swarm.channel)) this.learn(p)
        } catch (err) {
          this.opts.onWarning?.(err as Error)
        }
      })()
    }
    await Promise.all([
      ...this.opts.trackers().map(async (url) => {
        try {
          const r = await announce(url, {
            infoHash: this.opts.swarm.channel,
            peerId: randomBytes(20),
            port,
            event,
            signer: this.opts.signer,
            roster: this.opts.roster(),
            timeoutMs: 5_000,
          })
          for (const p of r.peers) this.learn(p)
        } catch (err) {
          this.opts.onWarning?.(err as Error)
        }
      }),
    ])
  }

  /** Remembers a device address to dial until it is linked. */
  learn(a: Address): void {
    if (this.known.size < MAX_KNOWN || this.known.has(key(a))) this.known.set(key(a), a)
    this.dial(a)
  }

  private connected(a: Address): boolean {
    return this.opts.swarm.devices.online().some((l) => l.host === a.host && l.peerPort === a.port)
  }

  private dial(a: Address): void {
    if (this.stopped || a.port === 0 || this.selves.has(key(a)) || this.dialing.has(key(a)) || this.connected(a)) return
    this.dialing.add(key(a))
    this.opts.swarm.connectDevice(a.host, a.port).then(
      (link) => {
        this.dialing.delete(key(a))
        if (link.device === this.opts.self) {
          this.selves.add(key(a))
          link.session.wire.destroy()
        }
      },
      (err: { code?: string }) => {
        this.dialing.delete(key(a))
        if (err.code === 'ERR_SELF') this.selves.add(key(a)) // not dialled again
      },
    )
  }

  private saving: Promise<void> = Promise.resolve()

  private remember(a: Address): Promise<void> {
    if (this.remembered.some((r) => key(r) === key(a))) return this.saving
    this.remembered = [a, ...this.remembered].slice(0, MAX_REMEMBERED)
    // One write at a time (they share the temp file); a failed save only loses the memory.
    this.saving = this.saving.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`
      try {
        await writeFile(tmp, JSON.stringify(this.remembered) + '\n', { mode: 0o600 })
        await rename(tmp, this.file)
      } catch (err) {
        this.opts.onWarning?.(err as Error)
      }
    })
    return this.saving
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    if (this.redial) clearInterval(this.redial)
  }
}
