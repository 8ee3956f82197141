// How this device reaches an own device it cannot dial: a hole punched
// through both NATs, brokered by a device both are linked to, else a relay
// circuit through a device that relays (src/reach/ does the mechanics; this
// file decides and speaks the device channel commands). Per-track wires to
// such a device take the same path again (docs/reach.md).
import { createHash } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { asInt, asString, decode, encode, asDict } from '../codec/index.ts'
import type { FriendRevoked, Roster } from '../identity/index.ts'
import { dialLink } from '../link/index.ts'
import { acceptCircuit, freePort, openCircuit, reflect, RelayServer, simultaneousOpen, PUNCH_TIMEOUT, type Address, type RelayPeer } from '../reach/index.ts'
import type { Logger } from '../log/index.ts'
import { createAuthMessage, verifyAuthMessage, type LocalCredentials } from './protocol/auth.ts'
import type { DeviceChannel, DeviceLink, LinkPath } from './device-channel.ts'
import { SwarmError } from './errors.ts'

/** The relay proof's "infohash": a constant no torrent has, so a relay proof is never a wire proof. */
const RELAY_PURPOSE = createHash('sha1').update('djcloud/relay/v1').digest()
const RELAY_TAG = Buffer.from('djcloud-relay')
const DAY = 24 * 3600_000
/**
 * ms a punch gets when either side's NAT changed its port (symmetric, or a
 * cone NAT that does not keep ports): it rarely works then, and a relay
 * should not wait the whole PUNCH_TIMEOUT; a SYN resent after 1 s still fits.
 */
export const DOUBTFUL_PUNCH_TIMEOUT = 2_000

export interface PathsOptions {
  self: string
  credentials: LocalCredentials
  roster: () => Roster
  friendRevoked?: FriendRevoked
  /** Own devices' links: the brokers and relays used, and the devices reached. */
  devices: DeviceChannel
  /** Hands a socket that reached this device (punched, or a relay circuit) to the link server, as if it had been accepted. */
  adopt: (sock: Duplex, from: string, path: LinkPath, via: string) => void
  /** Relay links between own devices (default: no). */
  relay?: boolean
  /** Bytes a day this device relays for each friend's devices (default 0: none). */
  relayFriendBytes?: number
  /** Try hole punches (default yes); off, only relays are tried. */
  punch?: boolean
  punchTimeoutMs?: number
  handshakeTimeoutMs?: number
  log: Logger
  now?: () => number
  /** Sees every chunk this device relays (tests: a relay must see only ciphertext). */
  tap?: (chunk: Buffer) => void
}

/** Why a device could not be reached, in one line. */
export class ReachError extends SwarmError {}

/** What a NAT did to a port, from a reflection: said in reasons and shown with links. */
export function describeNat(seen: Address, localPort: number): string {
  const local = Object.values(networkInterfaces()).flat().some((i) => i?.address === seen.host)
  if (local) return `no NAT (${seen.host})`
  return seen.port === localPort ? `a NAT at ${seen.host} that keeps ports (cone)` : `a NAT at ${seen.host} that changes ports (symmetric)`
}

export class Paths {
  readonly relayServer: RelayServer
  /** Bytes relayed per friend owner in the current day. */
  private readonly friendBytes = new Map<string, { day: number; bytes: number }>()
  private readonly now: () => number
  /** The router's public address for this device's peer port (a port mapping), told in hellos. */
  mapped: Address | null = null

  constructor(private readonly opts: PathsOptions) {
    this.now = opts.now ?? Date.now
    this.relayServer = new RelayServer({
      verify: (proof, binding, purpose) => this.verify(proof, binding, purpose),
      refuse: (from, to) => this.refuse(from, to),
      call: async (to, token, from) => {
        const link = this.linkTo(to)
        if (!link) throw new Error('it is not linked to the relay')
        await this.opts.devices.command(link, 'relay-in', encode({ t: Buffer.from(token, 'hex'), from: from.device }))
      },
      allowance: (from) => (from.own ? Infinity : Math.max(0, (this.opts.relayFriendBytes ?? 0) - this.usedToday(from.owner))),
      carried: (from, chunk) => {
        this.opts.tap?.(chunk)
        if (!from.own) this.dayEntry(from.owner).bytes += chunk.length
      },
    })
    const d = opts.devices
    d.onCommand('punch', (body, link) => this.broker(body, link))
    d.onCommand('punch-in', (body, link) => this.punchIn(body, link))
    d.onCommand('relay-in', (body, link) => this.relayIn(body, link))
  }

  /** Hello fields: whether this device relays, and where it sees the other end. */
  hello(link: DeviceLink): Record<string, string | number> {
    const out: Record<string, string | number> = {}
    if (this.opts.relay) out.relay = 1
    if (link.path === 'direct') out.seen = `${link.session.remote.host.replace(/^::ffff:/, '')}:${link.session.remote.port}`
    if (this.mapped) out.mapped = `${this.mapped.host}:${this.mapped.port}`
    return out
  }

  // ---- the side that reaches ------------------------------------------------

  /**
   * A link socket (TLS done, dj_auth not yet) to own device `device`: a punch
   * brokered by each linked device in turn, then a circuit through each
   * linked relay. Rejects with one line naming what each way found.
   */
  async connect(device: string, opts: { relay?: boolean } = {}): Promise<{ socket: TLSSocket; path: LinkPath; via: string }> {
    const brokers = this.opts.devices.online().filter((l) => l.device !== device && l.path === 'direct' && l.peerPort !== undefined)
    if (brokers.length === 0) throw new ReachError('ERR_UNREACHABLE', 'no linked device can broker a punch or relay (none is linked)')
    const found: string[] = []
    let known = this.opts.punch === false
    for (const via of this.opts.punch === false ? [] : brokers) {
      try {
        return { socket: await this.punch(device, via), path: 'punched', via: via.device }
      } catch (err) {
        if ((err as ReachError).code === 'ERR_NOT_LINKED') continue
        known = true
        found.push((err as Error).message)
        break // one broker's answer says what the NATs do; another would find the same
      }
    }
    if (!known) found.push(`it is not linked to any device linked here (offline, or not reachable by them either: ${brokers.map((l) => l.name).join(', ')})`)
    if (opts.relay === false) throw new ReachError('ERR_UNREACHABLE', found.join('; '))
    const relays = brokers.filter((l) => l.relays)
    if (relays.length === 0) found.push('and no linked device relays (serve --relay)')
    for (const via of relays) {
      try {
        return { socket: await this.relayed(device, via), path: 'relayed', via: via.device }
      } catch (err) {
        found.push(`relay ${via.name}: ${(err as Error).message}`)
      }
    }
    throw new ReachError('ERR_UNREACHABLE', found.join('; '))
  }

  /** Another link socket to a device reached before, the same way (a track's wire). */
  open(device: string, path: LinkPath, via: string): Promise<TLSSocket> {
    const link = this.opts.devices.online().find((l) => l.device === via && l.path === 'direct')
    if (!link) return Promise.reject(new ReachError('ERR_UNREACHABLE', `the device that ${path === 'relayed' ? 'relays' : 'brokered'} the link is gone`))
    return path === 'relayed' ? this.relayed(device, link) : this.punch(device, link)
  }

  private async punch(device: string, via: DeviceLink): Promise<TLSSocket> {
    const localPort = await freePort()
    const mine = await reflect(via.host, via.peerPort!, { localPort, timeoutMs: this.opts.handshakeTimeoutMs })
    let answer
    try {
      answer = asDict(decode(await this.opts.devices.command(via, 'punch', encode({ to: device, h: mine.host, p: mine.port, lp: localPort }))), 'punch')
    } catch (err) {
      const reason = (err as Error).message
      throw new ReachError(/not linked/.test(reason) ? 'ERR_NOT_LINKED' : 'ERR_UNREACHABLE', `${via.name} could not broker a punch: ${reason}`)
    }
    const theirs = { host: asString(answer.h, 'h', 64), port: asInt(answer.p, 'p') }
    const theirLocal = asInt(answer.lp, 'lp')
    const nats = `this device: ${describeNat(mine, localPort)}; the other: ${describeNat(theirs, theirLocal)}`
    const t0 = performance.now()
    // Both NATs change ports: each side's SYN leaves from a port the other was not told, so no punch can meet.
    if (mine.port !== localPort && theirs.port !== theirLocal) throw new ReachError('ERR_UNREACHABLE', `no direct path (${nats}): both NATs change ports, no punch can pass`)
    const raw = await simultaneousOpen(localPort, theirs, { timeoutMs: this.punchTimeout(mine.port !== localPort || theirs.port !== theirLocal) }).catch((err: Error) => {
      throw new ReachError('ERR_UNREACHABLE', `no direct path (${nats}): ${err.message}`)
    })
    this.opts.log('punched %s:%d in %d ms (%s)', theirs.host, theirs.port, Math.round(performance.now() - t0), nats)
    return dialLink(theirs.host, theirs.port, { socket: raw, handshakeTimeoutMs: this.opts.handshakeTimeoutMs })
  }

  /** A link socket to `device` through a circuit at `via`'s device (a relay of ours, or a friend's that opted in). */
  async relayed(device: string, via: DeviceLink): Promise<TLSSocket> {
    const outer = await openCircuit(via.host, via.peerPort!, device, (b, p) => this.prove(b, p))
    return dialLink(via.host, via.peerPort!, { socket: outer, handshakeTimeoutMs: this.opts.handshakeTimeoutMs })
  }

  private punchTimeout(doubtful: boolean): number {
    const t = this.opts.punchTimeoutMs ?? PUNCH_TIMEOUT
    return doubtful ? Math.min(t, DOUBTFUL_PUNCH_TIMEOUT) : t
  }

  // ---- the broker and the reached side ---------------------------------------

  /** A device asks this one to broker a punch to another own device linked here. */
  private async broker(body: Uint8Array, from: DeviceLink): Promise<{ body: Uint8Array } | { refused: string }> {
    const d = asDict(decode(body), 'punch')
    const to = asString(d.to, 'to', 64)
    const target = this.opts.devices.online().find((l) => l.device === to && l.path === 'direct')
    if (!target) return { refused: 'not linked here' }
    const fwd = encode({ from: from.device, h: d.h!, p: d.p!, lp: d.lp! })
    try {
      return { body: await this.opts.devices.command(target, 'punch-in', fwd) }
    } catch (err) {
      return { refused: `${target.name}: ${(err as Error).message}` }
    }
  }

  /** A broker says device `from` punches towards us from h:p: reflect, answer, and punch back. */
  private async punchIn(body: Uint8Array, broker: DeviceLink): Promise<{ body: Uint8Array } | { refused: string }> {
    const d = asDict(decode(body), 'punch-in')
    const from = asString(d.from, 'from', 64)
    const theirs = { host: asString(d.h, 'h', 64), port: asInt(d.p, 'p') }
    if (broker.peerPort === undefined) return { refused: 'the broker has no peer port' }
    const localPort = await freePort()
    const mine = await reflect(broker.host, broker.peerPort, { localPort, timeoutMs: this.opts.handshakeTimeoutMs })
    const changed = [mine.port !== localPort, theirs.port !== asInt(d.lp, 'lp')]
    // As the other side decides (Paths.punch): when both NATs change ports it does not punch, and neither do we.
    if (!(changed[0] && changed[1])) {
      simultaneousOpen(localPort, theirs, { timeoutMs: this.punchTimeout(changed[0]! || changed[1]!) }).then(
        (sock) => this.opts.adopt(sock, from, 'punched', broker.device),
        (err: Error) => this.opts.log('punch from %s failed: %s', from.slice(0, 12), err.message),
      )
    }
    return { body: encode({ h: mine.host, p: mine.port, lp: localPort }) }
  }

  /** A relay calls us to a circuit another device opened: join it and take the inner link. */
  private async relayIn(body: Uint8Array, relay: DeviceLink): Promise<{ body: Uint8Array } | { refused: string }> {
    const d = asDict(decode(body), 'relay-in')
    const token = Buffer.from(d.t as Uint8Array).toString('hex')
    const from = asString(d.from, 'from', 64)
    if (!relay.relays || relay.peerPort === undefined) return { refused: 'not a relay' }
    const outer = await acceptCircuit(relay.host, relay.peerPort, token, (b, p) => this.prove(b, p))
    this.opts.adopt(outer, from, 'relayed', relay.device)
    return { body: encode({}) }
  }

  // ---- relay admission ------------------------------------------------------

  /** This device's proof to a relay, bound to that TLS session, for `purpose` (the device asked for, or a circuit's token). */
  prove(binding: Uint8Array, purpose: Uint8Array): Uint8Array {
    return createAuthMessage(this.opts.credentials, RELAY_PURPOSE, purpose, RELAY_TAG, binding)
  }

  private verify(proof: Uint8Array, binding: Uint8Array, purpose: Uint8Array): RelayPeer {
    const p = verifyAuthMessage(proof, {
      roster: this.opts.roster(), friendRevoked: this.opts.friendRevoked, infoHash: RELAY_PURPOSE, theirPeerId: purpose, myPeerId: RELAY_TAG, binding,
    })
    return { device: Buffer.from(p.certificate.device).toString('hex'), owner: Buffer.from(p.certificate.owner).toString('hex'), own: p.kind === 'own' }
  }

  private refuse(from: RelayPeer, to: string): string | null {
    if (!this.opts.relay) return 'this device does not relay'
    if (!from.own && (this.opts.relayFriendBytes ?? 0) === 0) return 'this device relays only for its own devices'
    if (!from.own && this.usedToday(from.owner) >= (this.opts.relayFriendBytes ?? 0)) return "today's relay quota for your devices is used up"
    if (to === from.device || to === this.opts.self) return 'nothing to relay'
    if (!this.linkTo(to)) return 'that device is not linked to the relay'
    return null
  }

  private linkTo(device: string): DeviceLink | undefined {
    // Only own devices are called to a circuit: a friend's devices reach this circle's devices through it, nothing else.
    return this.opts.devices.online().find((l) => l.device === device && l.path === 'direct')
  }

  private dayEntry(owner: string): { day: number; bytes: number } {
    const day = Math.floor(this.now() / DAY)
    let e = this.friendBytes.get(owner)
    if (!e || e.day !== day) this.friendBytes.set(owner, (e = { day, bytes: 0 }))
    return e
  }

  private usedToday(owner: string): number {
    return this.dayEntry(owner).bytes
  }

  close(): void {
    this.relayServer.close()
  }
}
