// The node's endpoints for the web UI, beside the library's: what is
// streaming (/api/streams), waveforms (/api/waveform), the circle of devices
// and friends (/api/circle) and pairing a new device from the page
// (/api/pair). One object, so the node can close what it holds (the stream
// sampler, an open pairing listener) when it stops.
import type { Identity } from '../identity/index.ts'
import { formatId, IdentityError, shortId, startPairingHost, type PairingHost } from '../identity/index.ts'
import type { LocalLibrary, ListOptions } from '../library/index.ts'
import { listUnion, type ManifestBook, type UnionEntry } from '../manifest/index.ts'
import { ApiError, queryParams, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import type { DeviceLink, Swarm } from '../swarm/index.ts'
import { qrSvg } from './qr-svg.ts'
import { StreamMonitor } from './stream-monitor.ts'

export const MAX_PAIR_TTL = 3600 // s, as `djcloud pair --ttl`

export interface UiRoutesOptions {
  identity: () => Identity
  swarm: Swarm
  book: ManifestBook
  library: LocalLibrary
  union: () => Promise<Map<string, UnionEntry>>
  /** Address the pairing listener binds (the node's peer host); default all interfaces. */
  pairListen?: string
  /** A device joined: the node takes in the roster the pairing wrote. */
  onPaired: () => Promise<void>
  /** ms a finished stream stays listed at /api/streams (default LINGER). */
  streamLingerMs?: number
  /** Own devices that could not be reached, and why (Discovery.unreachable). */
  unreachable?: () => ReadonlyMap<string, { reason: string; at: number }>
  onWarning?: (err: Error) => void
}

interface PairingSlot {
  ready: Promise<{ host: PairingHost; qrSvg: string }>
  /** Set once listening. */
  host?: PairingHost
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export class UiRoutes {
  readonly streams: StreamMonitor
  private pairing: PairingSlot | null = null
  private closed = false
  /** Listings of the current union by their options (the sort is the costly part). */
  private listed: { union: Map<string, UnionEntry>; byOptions: Map<string, UnionEntry[]> } | null = null
  /** Tracks held per device, for the current union. */
  private held = new WeakMap<Map<string, UnionEntry>, Map<string, number>>()

  constructor(private readonly opts: UiRoutesOptions) {
    this.streams = new StreamMonitor(() => opts.identity().certificate.name, Date.now, opts.streamLingerMs ? { lingerMs: opts.streamLingerMs } : {})
  }

  /** The union listed, as /api/library?view=compact reads it: entries as they are, no copies. */
  async entries(o: ListOptions): Promise<UnionEntry[]> {
    const union = await this.opts.union()
    if (this.listed?.union !== union) this.listed = { union, byOptions: new Map() }
    const key = JSON.stringify([o.query, o.sort, o.reverse, o.limit, o.includeMissing])
    let out = this.listed.byOptions.get(key)
    if (!out) {
      out = listUnion(union.values(), o)
      if (this.listed.byOptions.size >= 8) this.listed.byOptions.clear()
      this.listed.byOptions.set(key, out)
    }
    return out
  }

  routes(): Route[] {
    const get = (path: string, fn: (params: Readonly<Record<string, string>>) => Promise<unknown>): Route => ({
      methods: ['GET'],
      path,
      handle: async ({ res, params, query }) => {
        queryParams(query, [])
        sendJson(res, 200, await fn(params))
      },
    })
    return [
      get('/api/streams', async () => ({ streams: this.streams.list() })),
      get('/api/waveform/:audioHash', (p) => this.waveform(p.audioHash ?? '')),
      get('/api/circle', () => this.circle()),
      {
        methods: ['POST'],
        path: '/api/pair',
        ownerOnly: true,
        handle: async ({ req, res, query }) => {
          queryParams(query, [])
          sendJson(res, 200, await this.pair(pairTtl(await readJsonBody(req))))
        },
      },
    ]
  }

  /** Closes a pairing listener and the stream monitor. Idempotent. */
  stop(): Promise<void> {
    return this.close()
  }

  async close(): Promise<void> {
    this.closed = true
    this.streams.close()
    const slot = this.pairing
    this.pairing = null
    await slot?.ready.then((o) => o.host.close(), () => {})
  }

  /** This device's analysis (both levels), else the overview another own device's manifest carries. */
  private async waveform(audioHash: string): Promise<{ levels: Array<{ columns: number; secondsPerColumn: number; data: string }> }> {
    if (!SHA256_HEX.test(audioHash)) throw new ApiError(400, 'ERR_BAD_ID', 'an audio hash is 64 lowercase hex digits')
    const local = await this.opts.library.waveformOf(audioHash)
    if (local?.levels.length) return { levels: local.levels }
    const overview = this.opts.book.sharedAnalyses().get(audioHash)?.overview
    if (overview) {
      return { levels: [{ columns: overview.columns, secondsPerColumn: overview.secondsPerColumn, data: Buffer.from(overview.data).toString('base64') }] }
    }
    throw new ApiError(404, 'ERR_NOT_FOUND', 'no waveform of that recording on any own device')
  }

  private async circle() {
    const id = this.opts.identity()
    const self = hex(id.device.publicKey)
    const union = await this.opts.union()
    const held = this.heldBy(union)
    const links = new Map<string, DeviceLink>()
    // A device linked twice (a relayed link being replaced by a punched one): the better path shows.
    for (const l of this.opts.swarm.devices.online()) if (!links.has(l.device) || l.path !== 'relayed') links.set(l.device, l)
    const nameOf = (key: string | undefined) => (key ? links.get(key)?.name ?? shortId(Buffer.from(key, 'hex')) : undefined)
    const unreachable = this.opts.unreachable?.()
    const revoked = new Set(id.roster.revoked.map(hex))
    const device = (key: string, name: string, role: string | null) => {
      const l = links.get(key)
      return {
        device: key,
        name,
        role,
        online: key === self || !!l,
        self: key === self,
        revoked: revoked.has(key),
        tracks: held.get(key) ?? 0,
        // How the link runs (docs/reach.md) and its round trip; why it is missing when a reach failed.
        // A direct link we dialled to the address the other end's router maps for it is "mapped".
        link: l ? { path: l.path === 'direct' && l.mapped === `${l.host}:${l.session.remote.port}` ? 'mapped' : l.path, via: nameOf(l.via), rttMs: l.rttMs === undefined ? null : Math.round(l.rttMs * 10) / 10, setupMs: l.setupMs === undefined ? null : Math.round(l.setupMs), address: `${l.host}:${l.peerPort ?? 0}` } : null,
        unreachable: !l && key !== self ? unreachable?.get(key)?.reason ?? null : null,
      }
    }
    const devices = id.roster.devices.map((c) => device(hex(c.device), c.name, c.role))
    const listed = new Set(devices.map((d) => d.device))
    // Own devices that paired after this roster was made: their certificates are the owner's (checked on the wire).
    for (const [key, l] of links) {
      if (listed.has(key)) continue
      listed.add(key)
      devices.push(device(key, l.name, l.session.peer.certificate.role))
    }
    // Devices known only from a manifest, then revoked keys (their names went with their certificates).
    for (const r of this.opts.book.remoteLibraries()) {
      if (listed.has(r.device)) continue
      listed.add(r.device)
      devices.push(device(r.device, r.name, null))
    }
    for (const key of revoked) if (!listed.has(key)) devices.push(device(key, shortId(Buffer.from(key, 'hex')), null))
    // Friends' devices linked now, over either direction's share channel.
    const friendDevices = new Map<string, Set<string>>()
    for (const l of this.opts.swarm.friends.online()) {
      const owner = hex(l.session.peer.certificate.owner)
      if (!friendDevices.has(owner)) friendDevices.set(owner, new Set())
      friendDevices.get(owner)!.add(l.device)
    }
    // Where the other devices see this one (their hellos' `seen`, direct links only): its public address behind a NAT.
    const seenAt = [...new Set(this.opts.swarm.devices.online().flatMap((l) => (l.path === 'direct' && l.seen ? [l.seen] : [])))]
    return {
      owner: formatId('owner', id.roster.owner),
      self,
      seenAt,
      devices,
      friends: id.roster.friends.map((f) => ({
        owner: formatId('owner', f.owner),
        name: f.name,
        devicesOnline: friendDevices.get(hex(f.owner))?.size ?? 0,
      })),
    }
  }

  private heldBy(union: Map<string, UnionEntry>): Map<string, number> {
    let counts = this.held.get(union)
    if (!counts) {
      counts = new Map()
      for (const u of union.values()) for (const h of u.holders) counts.set(h.device, (counts.get(h.device) ?? 0) + 1)
      this.held.set(union, counts)
    }
    return counts
  }

  /** The pairing host `djcloud pair` runs, here in the node; the open one while it lasts. */
  private async pair(ttlMs: number | undefined) {
    const id = this.opts.identity()
    if (!id.owner) throw new ApiError(403, 'ERR_FORBIDDEN', 'pairing needs an admin device (one holding the owner key)')
    if (this.closed) throw new ApiError(503, 'ERR_INTERNAL', 'the node is stopping')
    const current = this.pairing
    // Two POSTs at once share one host: a second listener would be left open.
    if (!current || (current.host && current.host.expires <= Date.now())) this.pairing = this.openPairing(id, ttlMs)
    const slot = this.pairing!
    try {
      const { host, qrSvg: svg } = await slot.ready
      return { code: host.code, expiresAt: host.expires, qrSvg: svg, address: host.address, fingerprint: host.fingerprint }
    } catch (err) {
      if (this.pairing === slot) this.pairing = null
      if (err instanceof IdentityError && err.code === 'ERR_NOT_ADMIN') throw new ApiError(403, 'ERR_FORBIDDEN', err.message)
      throw err
    }
  }

  private openPairing(identity: Identity, ttlMs: number | undefined): PairingSlot {
    const slot: PairingSlot = { ready: Promise.resolve(null as never) }
    slot.ready = (async () => {
      const host = await startPairingHost({
        identity,
        ...(ttlMs !== undefined ? { ttlMs } : {}),
        ...(this.opts.pairListen ? { listen: this.opts.pairListen } : {}),
        onWarning: (w) => this.opts.onWarning?.(new Error(`pairing: refused ${w.address}: ${w.reason}`)),
      })
      slot.host = host
      if (this.closed) {
        await host.close()
        throw new ApiError(503, 'ERR_INTERNAL', 'the node is stopping')
      }
      host.done
        .then(
          () => this.opts.onPaired().catch((e: unknown) => this.opts.onWarning?.(e as Error)),
          () => {}, // expired, burned or closed: the next POST opens another
        )
        .finally(() => {
          if (this.pairing === slot) this.pairing = null
        })
      return { host, qrSvg: qrSvg(host.code) }
    })()
    return slot
  }
}

function pairTtl(body: unknown): number | undefined {
  if (body === undefined) return undefined
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body must be a JSON object')
  const unknown = Object.keys(body).filter((k) => k !== 'ttl')
  if (unknown.length) throw new ApiError(400, 'ERR_BAD_PARAM', `unknown field "${unknown[0]}" (known: ttl)`)
  const ttl = (body as { ttl?: unknown }).ttl
  if (ttl === undefined) return undefined
  if (typeof ttl !== 'number' || !(ttl >= 1 && ttl <= MAX_PAIR_TTL)) throw new ApiError(400, 'ERR_BAD_PARAM', `ttl must be a number of seconds from 1 to ${MAX_PAIR_TTL}`)
  return Math.round(ttl * 1000)
}
