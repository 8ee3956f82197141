// Port mapping: asks the router to forward the node's TCP peer port, so a
// device behind a home router is dialable at the router's public address.
// UPnP-IGD (SSDP, then SOAP; @achingbrain/nat-port-mapper) and NAT-PMP
// (RFC 6886, to the default gateway; ./nat-pmp.ts) are asked at once and the
// first that maps wins. The mapping is renewed at half its lease and removed
// on stop. Finding no gateway is the normal case on many networks: one debug
// line. A gateway that refuses is one warning with its reason.
import { EventEmitter } from 'node:events'
import { createSocket } from 'node:dgram'
import type { Gateway } from '@achingbrain/nat-port-mapper'
import { logger } from '../log/index.ts'
import { PortMappingError } from './errors.ts'
import { NatPmpClient, defaultGateway } from './nat-pmp.ts'

export const DEFAULT_LEASE = 2 * 60 * 60_000 // ms: RFC 6886 §3.3's recommended lifetime
export const UPNP_MIN_LEASE = 60 * 60_000 // ms: the library asks UPnP gateways for at least an hour
export const UPNP_TIMEOUT = 5_000 // ms: SSDP answers on a home LAN come within a second or two
export const NAT_PMP_TIMEOUT = 2_000 // ms: retransmits at 250, 500, 1000 ms fit
export const STOP_TIMEOUT = 2_000 // ms: removal on stop is best-effort, a shutdown must not hang on it
const WAN_IP_CONNECTION_2 = 'urn:schemas-upnp-org:service:WANIPConnection:2'
const MIN_RENEW = 1_000 // ms: no renewal sooner than this, and no retry closer to the end
const MAX_TIMER = 2 ** 31 - 1 // ms: setTimeout's ceiling

const log = logger('reach:port-mapping')

/** The router's forward of our peer port, as others dial it. */
export interface PortMapping {
  protocol: 'upnp' | 'nat-pmp'
  /** The router's external (public) address. */
  externalHost: string
  externalPort: number
  /** ms since the epoch: the lease ends then unless renewed (it is renewed at half). */
  expiresAt: number
}

export interface PortMapperOptions {
  /**
   * The NAT-PMP gateway to ask (default: the default route's gateway, read
   * from the kernel on Linux). Naming one also turns UPnP off unless `upnp` is true.
   */
  gateway?: string
  /** The NAT-PMP gateway's UDP port (default 5351; tests run a fake gateway elsewhere). */
  gatewayPort?: number
  /** Search for UPnP-IGD gateways (default true, false when `gateway` is given). */
  upnp?: boolean
  /** Ask the gateway over NAT-PMP (default true). */
  natPmp?: boolean
  /** ms to wait for UPnP gateways to answer the SSDP search (default UPNP_TIMEOUT). */
  upnpTimeoutMs?: number
  /** ms one NAT-PMP request may take, retransmissions included (default NAT_PMP_TIMEOUT). */
  natPmpTimeoutMs?: number
  /** ms of lease asked for (default DEFAULT_LEASE; UPnP gets at least an hour). */
  leaseMs?: number
  /** ms the removal on stop may take (default STOP_TIMEOUT). */
  stopTimeoutMs?: number
  /** What the router's UPnP table shows (default 'djcloud'). */
  description?: string
  onWarning?: (err: Error) => void
}

interface Events {
  /** The current mapping, or null once it is gone (lost, or removed on stop). */
  mapping: [PortMapping | null]
}

/** A mapping held at one gateway, by one protocol. */
interface Held {
  protocol: PortMapping['protocol']
  /** Maps again (asking for `externalPort`): the new lease. */
  renew(externalPort: number, signal: AbortSignal): Promise<Lease>
  remove(externalPort: number, signal: AbortSignal): Promise<void>
  close(): void
}

interface Lease {
  externalHost: string
  externalPort: number
  lifetimeMs: number
}

/** Maps one TCP port at the router; start, stop, and the current mapping. */
export class PortMapper extends EventEmitter<Events> {
  private current: PortMapping | null = null
  private held: Held | null = null
  private port = 0
  private timer: NodeJS.Timeout | null = null
  private started = false
  private stopped = false
  private finding: Promise<void> = Promise.resolve()
  private readonly abort = new AbortController()
  private readonly opts: Required<Omit<PortMapperOptions, 'gateway' | 'gatewayPort' | 'onWarning'>> & PortMapperOptions

  constructor(opts: PortMapperOptions = {}) {
    super()
    this.opts = {
      upnp: opts.gateway === undefined,
      natPmp: true,
      upnpTimeoutMs: UPNP_TIMEOUT,
      natPmpTimeoutMs: NAT_PMP_TIMEOUT,
      leaseMs: DEFAULT_LEASE,
      stopTimeoutMs: STOP_TIMEOUT,
      description: 'djcloud',
      ...opts,
    }
  }

  /** The mapping now, or null (none yet, none found, lost or stopped). */
  get mapping(): PortMapping | null {
    return this.current
  }

  /** Looks for a gateway and maps `port` (TCP) in the background; returns at once. Idempotent. */
  start(port: number): void {
    if (this.started || this.stopped) return
    this.started = true
    this.port = port
    this.finding = this.find().catch((err: Error) => this.opts.onWarning?.(err))
  }

  /** Stops renewing and removes the mapping at the gateway (best-effort, within stopTimeoutMs). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.abort.abort()
    if (this.timer) clearTimeout(this.timer)
    await this.finding
    const held = this.held
    this.held = null
    if (held) {
      const ext = this.current?.externalPort ?? this.port
      await held.remove(ext, AbortSignal.timeout(this.opts.stopTimeoutMs)).then(
        () => log('removed the %s mapping of port %d (external %d)', held.protocol, this.port, ext),
        (err: Error) => log('could not remove the %s mapping of port %d: %s', held.protocol, this.port, err.message),
      )
      held.close()
    }
    this.set(null)
  }

  private async find(): Promise<void> {
    // The first mapping ends the other attempt (a router speaking both protocols holds one table).
    const race = new AbortController()
    const signal = AbortSignal.any([this.abort.signal, race.signal])
    const attempts: Array<Promise<{ held: Held; lease: Lease }>> = []
    const pmpGateway = this.opts.natPmp ? (this.opts.gateway ?? (await defaultGateway())) : null
    if (pmpGateway) attempts.push(this.tryNatPmp(pmpGateway, signal))
    if (this.opts.upnp) attempts.push(this.tryUpnp(signal))
    if (attempts.length === 0) return void log('no gateway to ask (no default route)')
    let winner: Lease | null = null
    // An attempt that maps anyway, after the first (its answer was on its way), is let go of:
    // removed at another gateway, only closed at the same port (a router speaking both
    // protocols keeps one rule per port, and removing it would remove the winner's).
    for (const a of attempts) {
      a.then(({ held, lease }) => {
        if (!winner || this.held === held) return
        if (lease.externalPort === winner.externalPort) return held.close()
        void held.remove(lease.externalPort, AbortSignal.timeout(this.opts.stopTimeoutMs)).catch(() => {}).finally(() => held.close())
      }, () => {})
    }
    let first: { held: Held; lease: Lease }
    try {
      first = await Promise.any(attempts)
    } catch (err) {
      if (this.stopped) return
      const errors = (err as AggregateError).errors as Error[]
      const refusals = errors.filter((e) => e instanceof PortMappingError && e.code === 'ERR_GATEWAY_REFUSED')
      if (refusals.length) this.opts.onWarning?.(new PortMappingError('ERR_GATEWAY_REFUSED', `port mapping: ${refusals.map((e) => e.message).join('; ')}`))
      else log('no port mapping: %s', errors.map((e) => e.message).join('; '))
      return
    }
    winner = first.lease
    race.abort()
    if (this.stopped) {
      // Stopped while the answer was on its way: stop() finds it in `held` and removes it.
      this.held = first.held
      return
    }
    this.held = first.held
    this.leased(first.lease)
  }

  /** A lease granted (first or renewed): the mapping now, and the renewal at half of it. */
  private leased(lease: Lease): void {
    const now = Date.now()
    this.set({ protocol: this.held!.protocol, externalHost: lease.externalHost, externalPort: lease.externalPort, expiresAt: now + lease.lifetimeMs })
    log('mapped port %d at %s:%d over %s for %d s', this.port, lease.externalHost, lease.externalPort, this.held!.protocol, Math.round(lease.lifetimeMs / 1000))
    this.schedule(lease.lifetimeMs / 2)
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    // Bounded both ways: a gateway granting 0 s must not make a busy loop, nor one granting
    // years a timer that overflows (and fires at once).
    this.timer = setTimeout(() => void this.renew(), Math.min(Math.max(ms, MIN_RENEW), MAX_TIMER))
    this.timer.unref()
  }

  private async renew(): Promise<void> {
    const held = this.held
    const current = this.current
    if (!held || !current || this.stopped) return
    try {
      const lease = await held.renew(current.externalPort, this.abort.signal)
      if (this.stopped) return
      this.leased(lease)
    } catch (err) {
      if (this.stopped) return
      const left = current.expiresAt - Date.now()
      log('renewing the %s mapping failed (%d ms left): %s', held.protocol, left, (err as Error).message)
      if (left / 2 >= MIN_RENEW) return this.schedule(left / 2)
      // The lease runs out: the mapping is gone, and so is what announced it.
      this.timer = setTimeout(() => {
        if (this.stopped) return
        this.held = null
        held.close()
        this.set(null)
        this.opts.onWarning?.(new Error(`port mapping lost: the ${held.protocol} gateway did not renew it (${(err as Error).message})`))
      }, Math.max(0, left))
      this.timer.unref()
    }
  }

  private set(mapping: PortMapping | null): void {
    if (mapping === null && this.current === null) return
    this.current = mapping
    this.emit('mapping', mapping)
  }

  private async tryNatPmp(gateway: string, signal: AbortSignal): Promise<{ held: Held; lease: Lease }> {
    const client = new NatPmpClient(gateway, { timeoutMs: this.opts.natPmpTimeoutMs, ...(this.opts.gatewayPort ? { port: this.opts.gatewayPort } : {}) })
    const lease = async (externalPort: number, s: AbortSignal): Promise<Lease> => {
      const m = await client.mapTcp(this.port, externalPort, this.opts.leaseMs, s)
      // Asked at every lease: the router's public address may change (a new DHCP lease upstream).
      return { externalHost: await client.externalAddress(s), externalPort: m.externalPort, lifetimeMs: m.lifetimeMs }
    }
    try {
      const first = await lease(this.port, signal)
      return {
        held: {
          protocol: 'nat-pmp',
          renew: lease,
          remove: (_ext, s) => client.unmapTcp(this.port, s),
          close: () => client.close(),
        },
        lease: first,
      }
    } catch (err) {
      client.close()
      throw err
    }
  }

  private async tryUpnp(signal: AbortSignal): Promise<{ held: Held; lease: Lease }> {
    const search = AbortSignal.any([signal, AbortSignal.timeout(this.opts.upnpTimeoutMs)])
    // Loaded on first use (SSDP, an XML parser): processes that map nothing do not pay for it.
    const { upnpNat } = await import('@achingbrain/nat-port-mapper')
    const client = upnpNat({ autoRefresh: false, description: this.opts.description })
    let refused: Error | null = null
    for await (const gw of client.findGateways({ signal: search })) {
      if (gw.family !== 'IPv4') continue
      try {
        const internalHost = await localAddressTo(gw.host)
        const lease = async (externalPort: number, s: AbortSignal): Promise<Lease> => {
          // Each request within the timeout: a gateway that stops answering must not hold a renewal forever.
          const signal = AbortSignal.any([s, AbortSignal.timeout(this.opts.upnpTimeoutMs)])
          const m = await gw.map(this.port, internalHost, { externalPort, protocol: 'tcp', ttl: this.opts.leaseMs, autoRefresh: false, signal })
          return { externalHost: m.externalHost, externalPort: m.externalPort, lifetimeMs: Math.max(this.opts.leaseMs, UPNP_MIN_LEASE) }
        }
        const first = await lease(this.port, signal)
        return {
          held: { protocol: 'upnp', renew: lease, remove: (ext, s) => deleteUpnpMapping(gw, ext, s), close: () => closeUpnp(gw) },
          lease: first,
        }
      } catch (err) {
        if (signal.aborted) break
        closeUpnp(gw)
        const e = err as Error
        refused = e.name === 'TimeoutError' || e.name === 'AbortError'
          ? new PortMappingError('ERR_NO_GATEWAY', `the UPnP gateway ${gw.host} did not answer within ${this.opts.upnpTimeoutMs} ms`)
          : new PortMappingError('ERR_GATEWAY_REFUSED', `the UPnP gateway ${gw.host} refused: ${e.message}`)
      }
    }
    if (signal.aborted) throw new PortMappingError('ERR_ABORTED', 'port mapping stopped')
    throw refused ?? new PortMappingError('ERR_NO_GATEWAY', `no UPnP gateway answered within ${this.opts.upnpTimeoutMs} ms`)
  }
}

/** Our address on the interface that reaches `host` (what the router forwards to). */
async function localAddressTo(host: string): Promise<string> {
  const s = createSocket('udp4')
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.connect(9, host, () => resolve())
    })
    return s.address().address
  } finally {
    s.close()
  }
}

/**
 * The library's own unmap deletes the internal port with an empty protocol
 * (gateways answer 402 Invalid Args), so the delete is sent here, through its
 * device (pinned version 4.0.5).
 */
async function deleteUpnpMapping(gw: Gateway, externalPort: number, signal: AbortSignal): Promise<void> {
  const device = await (gw as unknown as { getGateway(o: { signal: AbortSignal }): Promise<UpnpDevice> }).getGateway({ signal })
  await device.run(WAN_IP_CONNECTION_2, 'DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', 'TCP']], { signal })
}

interface UpnpDevice {
  run(service: string, action: string, args: Array<[string, string | number]>, o: { signal: AbortSignal }): Promise<unknown>
  close(): void
}

/** Cancels the gateway's network operations without the library's stop() (which would send its broken deletes). */
function closeUpnp(gw: Gateway): void {
  ;(gw as unknown as { gateway?: UpnpDevice }).gateway?.close()
}
