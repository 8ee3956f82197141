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
/** ms an own device stays unlinked before this one reaches for it through a linked device (a punch, else a relay). */
export const REACH_AFTER = 4_000
/** ms after a failed reach before the next; doubled each time up to REACH_RETRY_MAX. */
export const REACH_RETRY = 15_000
const REACH_RETRY_MAX = 5 * 60_000
/** ms between tries to punch through to a device linked only through a relay (a direct link replaces it). */
export const UPGRADE_INTERVAL = 60_000
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
  /** ms an own device stays unlinked before a punch or relay is tried (default REACH_AFTER; the device with the higher key waits three times as long, so the two rarely both try). */
  reachAfterMs?: number
  /** ms after a failed reach before the next (default REACH_RETRY, doubling). */
  reachRetryMs?: number
  /** ms between tries to replace a relayed link by a punched one (default UPGRADE_INTERVAL). */
  upgradeMs?: number
  /**
   * The port announced to trackers and the DHT (default: the swarm's peer
   * port). With a port mapping it is the router's external port, so a
   * device behind it is dialled at the public address.
   */
  announcePort?: () => number
  onWarning?: (err: Error) => void
}

/** An own device this one could not reach, and why (shown by `djcloud devices`). */
export interface Unreachable {
  reason: string
  /** ms since the epoch of the last try. */
  at: number
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
  /** Own devices being reached through a linked device, and when each may be tried next. */
  private readonly reaching = new Set<string>()
  private readonly nextReach = new Map<string, { at: number; wait: number }>()
  /** Own devices that could not be reached, with the last reason. */
  readonly unreachable = new Map<string, Unreachable>()
  private startedAt = 0

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
    this.startedAt = performance.now()
    this.redial = setInterval(() => {
      for (const a of this.known.values()) this.dial(a)
      this.reachUnlinked()
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

  /**
   * Own devices on the roster not linked for a while are reached through a
   * linked device (Swarm.reachDevice: a punch, else a relay): behind NATs no
   * address of theirs answers a dial. A device linked only through a relay
   * is tried for a punch now and then; a punched link replaces the relayed one.
   * Browser devices are not reached: they link themselves, offering WebRTC.
   */
  private reachUnlinked(): void {
    if (this.stopped) return
    const now = performance.now()
    const roster = this.opts.roster()
    const revoked = new Set(roster.revoked.map((k) => Buffer.from(k).toString('hex')))
    const online = this.opts.swarm.devices.online()
    const after = this.opts.reachAfterMs ?? REACH_AFTER
    for (const cert of roster.devices) {
      const device = Buffer.from(cert.device).toString('hex')
      if (device === this.opts.self || revoked.has(device) || this.reaching.has(device)) continue
      // A browser has no peer port to punch to or be relayed to: it offers WebRTC links itself (docs/rtc.md).
      if (cert.role === 'browser') continue
      const links = online.filter((l) => l.device === device)
      const relayedOnly = links.length > 0 && links.every((l) => l.path === 'relayed')
      if (links.length > 0 && !relayedOnly) {
        // A direct or punched link makes relayed ones redundant (both ends reached at once, or one punched through meanwhile).
        for (const l of links) if (l.path === 'relayed') l.session.wire.destroy()
        this.unreachable.delete(device)
        this.nextReach.delete(device)
        continue
      }
      // Only the device with the lower key tries to upgrade a relayed link: two punches at once would leave two links.
      if (relayedOnly && device < this.opts.self) continue
      const next = this.nextReach.get(device)
      const first = this.startedAt + (device > this.opts.self ? after : 3 * after)
      if (now < (next?.at ?? first)) continue
      this.reach(device, cert.name, relayedOnly, next?.wait)
    }
  }

  private reach(device: string, name: string, upgrade: boolean, lastWait?: number): void {
    this.reaching.add(device)
    const retry = this.opts.reachRetryMs ?? REACH_RETRY
    this.opts.swarm.reachDevice(device, { relay: !upgrade }).then(
      (link) => {
        this.reaching.delete(device)
        this.unreachable.delete(device)
        if (link.path === 'relayed') {
          this.nextReach.set(device, { at: performance.now() + (this.opts.upgradeMs ?? UPGRADE_INTERVAL), wait: retry })
          return
        }
        this.nextReach.delete(device)
        // A punched link replaces the relayed one: its wires end, the next ones go direct.
        for (const l of this.opts.swarm.devices.online()) if (l.device === device && l.path === 'relayed') l.session.wire.destroy()
      },
      (err: Error) => {
        this.reaching.delete(device)
        if (this.opts.swarm.devices.online().some((l) => l.device === device)) {
          // Linked meanwhile (it dialled us, or it is relayed and the upgrade failed): try again later.
          this.nextReach.set(device, { at: performance.now() + (this.opts.upgradeMs ?? UPGRADE_INTERVAL), wait: retry })
          return
        }
        const wait = Math.min(REACH_RETRY_MAX, lastWait ? lastWait * 2 : retry)
        this.nextReach.set(device, { at: performance.now() + wait, wait })
        this.unreachable.set(device, { reason: `${name}: ${err.message}`, at: Date.now() })
        this.opts.onWarning?.(Object.assign(new Error(`cannot reach ${name}: ${err.message}`), { code: 'ERR_UNREACHABLE' }))
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
