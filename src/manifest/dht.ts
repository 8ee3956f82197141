// A node of the BitTorrent DHT (BEP 5) that stores and finds BEP 44 mutable
// items holding BEP 46 pointers `{ih: <20-byte infohash>}`: how a device finds
// the newest signed manifest of another device. Wraps bittorrent-dht 11.
//
// What bittorrent-dht 11.0.12 does (client.js, read for this file):
// - get() of a mutable item never stops early: every node on the way to the
//   target is asked, each answer is verified (signature, and sha1(k ‖ salt)
//   must be the target) and the one with the highest seq is kept. But when
//   the node's own store holds the item it answers from there alone, unless
//   `cache: false`; getPointer passes that and compares with the store itself.
// - put() of a mutable item is NOT kept in the node's own store (immutable
//   ones are); putPointer keeps it there so that a node alone (or the first
//   in its circle) still serves what it published.
// - A storing node refuses a seq lower than or EQUAL to the one it holds
//   (error 302), so re-putting the same item counts 0 at nodes that have it;
//   `cas` (not used here) refuses with 301 unless it equals the held seq.
// - One malformed UDP packet (a `put` whose token is an integer, a `find_node`
//   whose target is one) throws inside its message handler and ends the
//   process. Every packet is therefore checked before it reaches the library.
// - The socket is udp4 and compact node/peer info is IPv4: no IPv6 here.
// - Its store is one LRU of `maxValues` items that any put lands in, and its
//   put handler caps only a byte-string `v` (a dict or list of 30 KB passes)
//   and never the salt. So the store is replaced (ItemStore: what this node
//   put or keeps on purpose is held apart from strangers' items, which are
//   bounded in entries and bytes), and every put goes through a rate limit
//   per source address and BEP 44's caps (v 1000 bytes bencoded, salt 64
//   bytes) before the library's handler sees it.
import type DHT from 'bittorrent-dht'
import type { DhtContact, StoredItem } from 'bittorrent-dht'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { lookup as dnsLookup } from 'node:dns/promises'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { isIP, isIPv4 } from 'node:net'
import { decode, encode, type BDict, type BValue } from '../codec/index.ts'
import { keyPairFromSeed, signBytes, verifyBytes } from '../identity/index.ts'
import { ItemStore } from './dht-store.ts'
import { PutLimiter, type PutLimits } from './put-limiter.ts'

/** How long start() waits for the first lookup of its own id (bootstrap nodes may be down). */
const READY_WAIT = 2_000
const SAVE_INTERVAL = 60_000
/** BEP 44: a salt is at most 64 bytes, a value at most 1000 bytes bencoded. */
const MAX_SALT_BYTES = 64
const MAX_VALUE_BYTES = 1000
/** BEP 44 error codes. */
const ERR_V_TOO_BIG = 205
const ERR_SALT_TOO_BIG = 207
const DEFAULT_MAX_VALUES = 1000
/** Bytes a stranger's item may take on average before the byte cap bites (the largest one takes about 1.2 KB). */
const BYTES_PER_VALUE = 1024
/** Targets kept on purpose at most: a circle's own items and its friends' backup pointers are far fewer. */
const MAX_KEPT = 10_000
const INFO_HASH_BYTES = 20
const NODE_ID_BYTES = 20
/** A k-bucket table of 20-node buckets rarely holds more than a few hundred. */
const MAX_SAVED_NODES = 1000
const STATE_VERSION = 1
const SALT_CONTEXT = 'djcloud/dht-salt/v1:'
/** A KRPC packet fits one UDP datagram. */
const PACKET_LIMITS = { maxBytes: 65_536, maxItems: 4096 }

export interface DhtStartOptions {
  /** UDP port; 0 lets the OS pick. */
  port?: number
  /** IPv4 address to bind (default 0.0.0.0; "::" is taken as 0.0.0.0, with a warning). */
  host?: string
  /** 'host:port' entries; [] means none (never the public routers). */
  bootstrap: string[]
  /** The IPv4 address others reach this node at (its own announces then list it in its own peer store). */
  advertise?: string
  /** The routing table as JSON: loaded at start, saved every minute and on close. */
  stateFile?: string
  /** Strangers' items this node stores (least recently used out first; default 1000). */
  maxValues?: number
  /** Bytes of strangers' items stored at most (default 1 KiB per maxValues). */
  maxValueBytes?: number
  /** Puts accepted per source address: a token bucket (default 5 a second, bursts of 200). */
  putLimits?: Partial<PutLimits>
  onWarning?: (err: Error) => void
}

export interface PointerPut {
  /** 32-byte Ed25519 seed of the publishing key. */
  seed: Uint8Array
  /** 1-64 bytes; see manifestSalt. */
  salt: Uint8Array
  seq: number
  infoHash: Uint8Array
}

/** 32 bytes naming one item of a circle (kind, name) without publishing the name. */
export function manifestSalt(circleSecret: Uint8Array, kind: string, name?: string): Buffer {
  if (circleSecret.length < 16) throw new RangeError('the circle secret is at least 16 bytes')
  // A colon in kind would make ('a:b', 'c') and ('a', 'b:c') one salt.
  if (!/^[a-z0-9-]+$/.test(kind)) throw new RangeError(`salt kind must be lowercase letters, digits or "-", not ${JSON.stringify(kind)}`)
  return createHmac('sha256', circleSecret).update(`${SALT_CONTEXT}${kind}:${name ?? ''}`).digest()
}

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/** 'host:port', '1.2.3.4:port' or '[v6]:port' (port 1-65535); throws a one-line Error otherwise. */
export function parseHostPort(text: string): { host: string; port: number } {
  const quoted = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text)
  if (!m) throw new Error(`${quoted} is not HOST:PORT (an IPv6 address goes in brackets: [::1]:7464)`)
  const port = Number(m[3])
  if (port < 1 || port > 65535) throw new Error(`${quoted}: the port must be 1-65535`)
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) throw new Error(`${quoted}: not an IPv6 address in the brackets`)
    return { host: m[1], port }
  }
  const host = m[2]!
  const ok = /^[0-9.]+$/.test(host) ? isIPv4(host) : host.length <= 253 && host.split('.').every((l) => HOST_LABEL.test(l))
  if (!ok) throw new Error(`${quoted}: not a host name or IPv4 address`)
  return { host, port }
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest()
const closedError = () => new Error('the DHT node is closed')

/** The bytes BEP 44 signs: the bencoded dict {salt, seq, v} without its 'd' and 'e'. */
function signedBytes(salt: Uint8Array, seq: number, v: BDict): Uint8Array {
  const dict = encode({ salt, seq, v })
  return dict.subarray(1, dict.length - 1)
}

/**
 * Whether `sig` is the BEP 44 signature of (salt, seq, v) under `publicKey`:
 * how an item handed over outside the DHT (a friend's kept copy) is checked.
 */
export function verifySignedItem(p: { publicKey: Uint8Array; salt: Uint8Array; seq: number; v: BDict; sig: Uint8Array }): boolean {
  if (p.publicKey.length !== 32 || p.sig.length !== 64 || !Number.isSafeInteger(p.seq) || p.seq < 0) return false
  try {
    return verifyBytes(p.publicKey, signedBytes(p.salt, p.seq, p.v), p.sig)
  } catch {
    return false
  }
}

function checkValue(v: BDict): void {
  if (encode(v).length > MAX_VALUE_BYTES) throw new RangeError(`a BEP 44 value is at most ${MAX_VALUE_BYTES} bytes bencoded`)
}

function checkBytes(b: Uint8Array, what: string, min: number, max = min): void {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max) {
    throw new RangeError(`${what} must be ${min === max ? min : `${min}-${max}`} bytes`)
  }
}

/** The infohash of a BEP 46 pointer, or null for any other value. */
function pointerOf(v: unknown): Buffer | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return null
  // Exactly {ih}: a signed item with more in it is not a pointer of ours.
  if (Object.keys(v).length !== 1) return null
  const ih = (v as Record<string, unknown>).ih
  return ih instanceof Uint8Array && ih.length === INFO_HASH_BYTES ? Buffer.from(ih) : null
}

// ---- the packet check ----------------------------------------------------

const isDict = (v: unknown): v is BDict => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array
const ID_FIELDS = ['id', 'target', 'info_hash']
const BYTE_FIELDS = ['token', 'k', 'salt', 'sig', 'nodes']
const INT_FIELDS = ['seq', 'cas', 'port', 'implied_port']

function fieldsOk(d: BDict): boolean {
  if (!isBytes(d.id)) return false
  for (const f of ID_FIELDS) if (f in d && !(isBytes(d[f]) && d[f].length === NODE_ID_BYTES)) return false
  for (const f of BYTE_FIELDS) if (f in d && !isBytes(d[f])) return false
  for (const f of INT_FIELDS) if (f in d && typeof d[f] !== 'number' && typeof d[f] !== 'bigint') return false
  return !('values' in d) || (Array.isArray(d.values) && d.values.every(isBytes))
}

/**
 * True for a KRPC packet whose fields bittorrent-dht may use unchecked: every
 * node id, target, token, key, salt and signature is a byte string, every
 * number an integer. Canonical bencode only (BEP 3; every DHT writes it).
 */
export function wellFormedKrpc(packet: Uint8Array): boolean {
  let m: BValue
  try {
    m = decode(packet, PACKET_LIMITS)
  } catch {
    return false
  }
  if (!isDict(m) || !isBytes(m.t) || !isBytes(m.y) || m.y.length !== 1) return false
  switch (String.fromCharCode(m.y[0]!)) {
    case 'q':
      return isBytes(m.q) && isDict(m.a) && fieldsOk(m.a)
    case 'r':
      return isDict(m.r) && fieldsOk(m.r)
    case 'e':
      return true
    default:
      return false
  }
}

/** Puts wellFormedKrpc and a catch-all in front of the library's UDP handler. */
function guardPackets(dht: DHT, warn: (err: Error) => void): void {
  const udp = dht._rpc?.socket?.socket
  if (!udp || typeof udp.listeners !== 'function' || udp.listenerCount('message') !== 1) {
    throw new Error('bittorrent-dht internals changed: cannot guard its UDP handler (see src/manifest/dht.ts)')
  }
  const handler = udp.listeners('message')[0] as (buf: Buffer, rinfo: unknown) => void
  udp.removeAllListeners('message')
  udp.on('message', (buf: Buffer, rinfo: { address: string; port: number }) => {
    if (!wellFormedKrpc(buf)) return warn(new Error(`dropped a malformed DHT packet from ${rinfo.address}:${rinfo.port}`))
    try {
      handler.call(udp, buf, rinfo)
    } catch (err) {
      warn(new Error(`DHT packet from ${rinfo.address}:${rinfo.port}: ${(err as Error).message}`))
    }
  })
}

/**
 * Puts the rate limit and BEP 44's caps in front of the library's put
 * handler: a put over the rate is dropped unanswered (an answer would be
 * more traffic for the flood), an oversize one refused with BEP 44's error
 * and not stored.
 */
function guardPuts(dht: DHT, limiter: PutLimiter): void {
  const onput = dht._onput
  if (typeof onput !== 'function' || typeof dht._rpc?.error !== 'function') {
    throw new Error('bittorrent-dht internals changed: cannot guard its put handler (see src/manifest/dht.ts)')
  }
  dht._onput = (query, peer) => {
    if (!limiter.take(peer.address ?? peer.host ?? '')) return
    const a = query.a
    if (a && a.v !== undefined) {
      let size: number
      try {
        size = encode(a.v as BValue).length
      } catch {
        size = Infinity
      }
      if (size > MAX_VALUE_BYTES) return dht._rpc.error(peer, query, [ERR_V_TOO_BIG, 'message (v field) too big'])
    }
    if (a?.salt !== undefined && (!isBytes(a.salt) || a.salt.length > MAX_SALT_BYTES)) {
      return dht._rpc.error(peer, query, [ERR_SALT_TOO_BIG, 'salt (salt field) too big'])
    }
    onput.call(dht, query, peer)
  }
}

// ---- the state file ------------------------------------------------------

interface LoadedState {
  id?: Buffer
  nodes: DhtContact[]
}

async function loadState(file: string, warn: (err: Error) => void): Promise<LoadedState> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(new Error(`cannot read ${file}: ${(err as Error).message}`))
    return { nodes: [] }
  }
  try {
    const s = JSON.parse(text) as { version?: unknown; id?: unknown; nodes?: unknown }
    if (s.version !== STATE_VERSION || !Array.isArray(s.nodes)) throw new Error('unknown format')
    const hex40 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{40}$/.test(v)
    const nodes: DhtContact[] = []
    for (const n of s.nodes.slice(0, MAX_SAVED_NODES) as Array<Record<string, unknown>>) {
      if (typeof n !== 'object' || n === null || !hex40(n.id) || typeof n.host !== 'string' || !isIPv4(n.host)) continue
      if (!Number.isInteger(n.port) || (n.port as number) < 1 || (n.port as number) > 65535) continue
      nodes.push({ id: Buffer.from(n.id as string, 'hex'), host: n.host, port: n.port as number })
    }
    return { id: hex40(s.id) ? Buffer.from(s.id as string, 'hex') : undefined, nodes }
  } catch {
    warn(new Error(`${file} is not a DHT state file; starting with an empty routing table`))
    return { nodes: [] }
  }
}

/** Bootstrap entries as IPv4 contacts; names are resolved once, now. */
async function resolveBootstrap(entries: Array<{ host: string; port: number }>, warn: (err: Error) => void): Promise<DhtContact[]> {
  const resolved = await Promise.all(
    entries.map(async ({ host, port }): Promise<DhtContact | null> => {
      if (isIPv4(host)) return { host, port }
      if (isIP(host) === 6) {
        warn(new Error(`skipping bootstrap node [${host}]:${port}: the DHT runs over IPv4 only`))
        return null
      }
      try {
        return { host: (await dnsLookup(host, { family: 4 })).address, port }
      } catch (err) {
        warn(new Error(`skipping bootstrap node ${host}:${port}: ${(err as Error).message}`))
        return null
      }
    }),
  )
  const unique = new Map<string, DhtContact>()
  for (const c of resolved) if (c) unique.set(`${c.host}:${c.port}`, c)
  return [...unique.values()]
}

// ---- the node ------------------------------------------------------------

export class DhtNode {
  readonly port: number
  readonly #dht: DHT
  readonly #store: ItemStore
  readonly #limiter: PutLimiter
  readonly #address: { host: string; port: number }
  readonly #warn: (err: Error) => void
  readonly #stateFile: string | undefined
  readonly #timer: NodeJS.Timeout | undefined
  /** Rejects every operation still waiting when the node closes (a destroyed DHT never calls back). */
  readonly #inflight = new Set<() => void>()
  #closing: Promise<void> | null = null
  #saving: Promise<void> = Promise.resolve()
  /** An empty table never replaces saved nodes: a device offline for a while would forget them all. */
  #haveSavedNodes: boolean

  private constructor(dht: DHT, store: ItemStore, limiter: PutLimiter, warn: (err: Error) => void, stateFile: string | undefined, haveSavedNodes: boolean) {
    this.#dht = dht
    this.#store = store
    this.#limiter = limiter
    this.#warn = warn
    this.#stateFile = stateFile
    this.#haveSavedNodes = haveSavedNodes
    const a = dht.address()
    this.#address = { host: a.address, port: a.port }
    this.port = a.port
    if (stateFile) this.#timer = setInterval(() => void this.#save(), SAVE_INTERVAL).unref()
  }

  static async start(opts: DhtStartOptions): Promise<DhtNode> {
    const port = opts.port ?? 0
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`DHT port must be 0-65535, not ${port}`)
    const warn = opts.onWarning ?? (() => {})
    let host = opts.host ?? '0.0.0.0'
    if (host === '::') {
      // A node told "every interface" gets every IPv4 one: bittorrent-dht is UDP/IPv4 only.
      warn(new Error('the DHT listens on 0.0.0.0 instead of "::": it runs over IPv4 only'))
      host = '0.0.0.0'
    }
    if (!isIPv4(host)) throw new Error(`the DHT binds an IPv4 address (bittorrent-dht is UDP/IPv4 only), not ${JSON.stringify(host)}`)
    const entries = opts.bootstrap.map(parseHostPort)
    const state = opts.stateFile ? await loadState(opts.stateFile, warn) : { nodes: [] }
    const bootstrap = await resolveBootstrap(entries, warn)

    // Loaded here: commands that run no DHT node do not load it.
    const { default: Dht } = await import('bittorrent-dht')
    const dht = new Dht({
      nodeId: state.id,
      bootstrap,
      // With our address known, an announce also lists us in our own peer
      // store, so the announcing node itself answers get_peers (in a small
      // DHT it may be the only node that ever hears of the infohash).
      ...(opts.advertise ? { host: opts.advertise } : {}),
      verify: (sig, msg, k) => verifyBytes(k, msg, sig),
    })
    const maxValues = opts.maxValues ?? DEFAULT_MAX_VALUES
    const store = new ItemStore({ maxValues, maxValueBytes: opts.maxValueBytes ?? maxValues * BYTES_PER_VALUE, maxKept: MAX_KEPT, onWarning: warn })
    const limiter = new PutLimiter(opts.putLimits)
    let bindError: ((err: Error) => void) | null = null
    dht.on('error', (err: Error) => (bindError ? bindError(err) : warn(err)))
    dht.on('warning', (err: Error) => warn(err))
    try {
      // k-rpc falls back to the public routers for a missing list; make sure [] stayed [].
      if (dht._rpc.bootstrap.length !== bootstrap.length) throw new Error('bittorrent-dht did not take the bootstrap list as given')
      if (typeof dht._values?.get !== 'function') throw new Error('bittorrent-dht internals changed: no item store (see src/manifest/dht.ts)')
      dht._values = store
      guardPackets(dht, warn)
      guardPuts(dht, limiter)
      // Saved nodes go in with their ids before the library's first lookup of
      // its own id (next tick), so that lookup checks them: dead ones drop out.
      for (const n of state.nodes) dht.addNode(n)
      await new Promise<void>((resolve, reject) => {
        bindError = reject
        dht.once('listening', resolve)
        dht.listen(port, host)
      })
    } catch (err) {
      dht.destroy()
      throw new Error(`cannot start the DHT on ${host}:${port}: ${(err as Error).message}`)
    } finally {
      bindError = null
    }
    if (bootstrap.length || state.nodes.length) await waitReady(dht, READY_WAIT)
    return new DhtNode(dht, store, limiter, warn, opts.stateFile, state.nodes.length > 0)
  }

  address(): { host: string; port: number } {
    return { ...this.#address }
  }

  /** Nodes in the routing table. */
  nodeCount(): number {
    return this.#dht.nodes.count()
  }

  /**
   * Publishes `{ih: infoHash}` under (public key of seed, salt) at `seq`. Kept
   * in this node's own store too (unless it holds a higher or equal seq);
   * `stored` counts the other nodes that took it: 0 on an empty network, and
   * nodes that hold this seq or a higher one already refuse it (302) and are
   * not counted, so a re-put of the same seq counts only new holders.
   */
  async putPointer(p: PointerPut): Promise<{ stored: number }> {
    this.#checkOpen()
    checkBytes(p.seed, 'seed', 32)
    checkBytes(p.salt, 'salt', 1, MAX_SALT_BYTES)
    checkBytes(p.infoHash, 'infoHash', INFO_HASH_BYTES)
    if (!Number.isSafeInteger(p.seq) || p.seq < 0) throw new RangeError(`seq must be a non-negative integer, not ${p.seq}`)
    return this.#signAndPut(p.seed, p.salt, p.seq, { ih: Buffer.from(p.infoHash) })
  }

  /** Signs `v` under the seed's key and puts it (putPointer, putItem). */
  #signAndPut(seed: Uint8Array, salt: Uint8Array, seq: number, v: BDict): Promise<{ stored: number }> {
    const k = Buffer.from(keyPairFromSeed(seed).publicKey)
    const sig = Buffer.from(signBytes(seed, signedBytes(Buffer.from(salt), seq, v)))
    return this.#keepAndPut(k, Buffer.from(salt), seq, v, sig)
  }

  /**
   * Keeps a signed item in this node's kept store (unless it holds a higher or
   * equal seq there), where no stranger's put evicts it, and puts it on the
   * network; `stored` counts the nodes that took it.
   */
  #keepAndPut(k: Buffer, salt: Buffer, seq: number, v: BDict, sig: Buffer): Promise<{ stored: number }> {
    const key = sha1(Buffer.concat([k, salt])).toString('hex')
    this.#store.putKept(key, { v: v as never, k, salt, sig, seq, id: this.#dht.nodeId })
    return this.#op((done) => {
      this.#dht.put({ k, salt, seq, v: v as never, sig }, (err, _target, n) => {
        // No nodes, or all refused the seq (302: what a re-put of the same item gets): not worth a warning.
        if (err && err.message !== 'No nodes to query' && err.code !== 302) this.#warn(new Error(`DHT put (seq ${seq}): ${err.message}`))
        done({ stored: err ? 0 : (n ?? 0) })
      })
    })
  }

  /**
   * The verified items under (publicKey, salt) held here and found on the
   * network, highest seq first. With `keep`, the target is kept from now on
   * (see ItemStore) and the newest item found is held in the kept store.
   */
  async #find(publicKey: Uint8Array, saltBytes: Uint8Array, keep: boolean): Promise<Array<{ v: unknown; seq: number; sig?: Buffer; where: string }>> {
    this.#checkOpen()
    checkBytes(publicKey, 'publicKey', 32)
    checkBytes(saltBytes, 'salt', 1, MAX_SALT_BYTES)
    const k = Buffer.from(publicKey)
    const salt = Buffer.from(saltBytes)
    const target = sha1(Buffer.concat([k, salt]))
    const key = target.toString('hex')
    if (keep) this.#store.keep(key)
    const found: Array<{ v: unknown; seq: number; sig?: Buffer; where: string }> = []
    const held: StoredItem | undefined = this.#store.get(key)
    if (held?.k && k.equals(held.k)) found.push({ v: held.v, seq: held.seq ?? 0, ...(held.sig ? { sig: Buffer.from(held.sig) } : {}), where: 'this node' })
    const remote = await this.#op<{ v: unknown; seq?: number; k?: Buffer; sig?: Buffer } | null>((done) => {
      this.#dht.get(target, { salt, cache: false }, (err, value) => {
        if (err) this.#warn(new Error(`DHT get: ${err.message}`))
        done(err ? null : value)
      })
    })
    if (remote?.k && k.equals(remote.k)) {
      found.push({ v: remote.v, seq: remote.seq ?? 0, ...(remote.sig ? { sig: Buffer.from(remote.sig) } : {}), where: 'the network' })
      // Verified by the library (signature, and sha1(k ‖ salt) is the target).
      if (keep && remote.sig && typeof remote.seq === 'number') {
        this.#store.putKept(key, { v: remote.v, k, salt, sig: Buffer.from(remote.sig), seq: remote.seq, id: this.#dht.nodeId })
      }
    }
    return found.sort((a, b) => b.seq - a.seq)
  }

  /**
   * The pointer with the highest seq under (publicKey, salt) in this node's
   * store or on the network, verified; null when there is none. A value that
   * is not `{ih: <20 bytes>}` is skipped with a warning. With `keep`, this
   * node keeps the item from now on and serves it (see #find).
   */
  async getPointer(p: { publicKey: Uint8Array; salt: Uint8Array; keep?: boolean }): Promise<{ infoHash: Buffer; seq: number } | null> {
    for (const item of await this.#find(p.publicKey, p.salt, p.keep === true)) {
      const infoHash = pointerOf(item.v)
      if (infoHash) return { infoHash, seq: item.seq }
      this.#warn(new Error(`ignoring a BEP 44 item from ${item.where} that is not a pointer {ih} (seq ${item.seq})`))
    }
    return null
  }

  /**
   * Publishes any small bencoded dict `v` (BEP 44 caps it at 1000 bytes
   * encoded) under (public key of seed, salt) at `seq`: the backup pointer,
   * which names several versions. Kept in this node's store as putPointer does.
   */
  async putItem(p: { seed: Uint8Array; salt: Uint8Array; seq: number; v: BDict }): Promise<{ stored: number }> {
    this.#checkOpen()
    checkBytes(p.seed, 'seed', 32)
    checkBytes(p.salt, 'salt', 1, MAX_SALT_BYTES)
    checkValue(p.v)
    if (!Number.isSafeInteger(p.seq) || p.seq < 0) throw new RangeError(`seq must be a non-negative integer, not ${p.seq}`)
    return this.#signAndPut(p.seed, p.salt, p.seq, p.v)
  }

  /**
   * The verified item with the highest seq under (publicKey, salt), here or
   * on the network; null when none. With `keep`, as getPointer.
   */
  async getItem(p: { publicKey: Uint8Array; salt: Uint8Array; keep?: boolean }): Promise<{ v: unknown; seq: number; sig?: Buffer } | null> {
    const best = (await this.#find(p.publicKey, p.salt, p.keep === true))[0]
    return best ? { v: best.v, seq: best.seq, ...(best.sig ? { sig: best.sig } : {}) } : null
  }

  /**
   * Puts again an item someone else signed (as got from getItem): how a
   * friend keeps an owner's backup pointer alive while the owner's devices
   * are offline. The signature is checked first; a bad one throws. The item
   * is kept here as this node's own are.
   */
  async putSigned(p: { publicKey: Uint8Array; salt: Uint8Array; seq: number; v: BDict; sig: Uint8Array }): Promise<{ stored: number }> {
    this.#checkOpen()
    checkBytes(p.publicKey, 'publicKey', 32)
    checkBytes(p.salt, 'salt', 1, MAX_SALT_BYTES)
    checkBytes(p.sig, 'sig', 64)
    checkValue(p.v)
    if (!Number.isSafeInteger(p.seq) || p.seq < 0) throw new RangeError(`seq must be a non-negative integer, not ${p.seq}`)
    const k = Buffer.from(p.publicKey)
    const salt = Buffer.from(p.salt)
    const sig = Buffer.from(p.sig)
    if (!verifyBytes(k, signedBytes(salt, p.seq, p.v), sig)) throw new RangeError('the item\'s signature does not verify')
    return this.#keepAndPut(k, salt, p.seq, p.v, sig)
  }

  /** What this node's item store holds, and puts refused by the rate limit so far. */
  storeStats(): { kept: number; strangers: number; strangerBytes: number; putsRefused: number } {
    return { ...this.#store.stats(), putsRefused: this.#limiter.refused }
  }

  /**
   * BEP 5 announce_peer: `port` (1-65535) of this device serves `infoHash`.
   * Each announce walks to the infohash first (get_peers) for fresh tokens
   * from the nodes closest now: the library would otherwise announce to the
   * nodes of its first walk for good, with their tokens, which a node that
   * restarted (or rotated its secret) refuses, so the announce reached nobody.
   */
  async announce(infoHash: Uint8Array, port: number): Promise<void> {
    this.#checkOpen()
    checkBytes(infoHash, 'infoHash', INFO_HASH_BYTES)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`announce port must be 1-65535, not ${port}`)
    const ih = Buffer.from(infoHash)
    await this.#op<void>((done) => {
      const announce = () =>
        this.#dht.announce(ih, port, (err) => {
          if (err && err.message !== 'No nodes to query') this.#warn(new Error(`DHT announce: ${err.message}`))
          done()
        })
      this.#dht.lookup(ih, (err) => {
        if (err && err.message !== 'No nodes to query') this.#warn(new Error(`DHT lookup before an announce: ${err.message}`))
        if (this.#closing) return done()
        announce()
      })
    })
  }

  /** BEP 5 get_peers: the peers found within `timeoutMs`, each once. */
  async lookup(infoHash: Uint8Array, timeoutMs = 2000): Promise<Array<{ host: string; port: number }>> {
    this.#checkOpen()
    checkBytes(infoHash, 'infoHash', INFO_HASH_BYTES)
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError(`timeoutMs must be >= 0, not ${timeoutMs}`)
    const ih = Buffer.from(infoHash)
    const peers = new Map<string, { host: string; port: number }>()
    // The library reports peers as events on the DHT, for every lookup at once.
    const onPeer = (peer: { host: string; port: number }, hash: Uint8Array) => {
      if (ih.equals(hash)) peers.set(`${peer.host}:${peer.port}`, { host: peer.host, port: peer.port })
    }
    this.#dht.on('peer', onPeer)
    try {
      await this.#op<void>((done) => {
        const timer = setTimeout(() => {
          abort()
          done()
        }, timeoutMs)
        const abort = this.#dht.lookup(ih, (err) => {
          clearTimeout(timer)
          if (err) this.#warn(new Error(`DHT lookup: ${err.message}`))
          done()
        })
      })
    } finally {
      this.#dht.off('peer', onPeer)
    }
    return [...peers.values()]
  }

  /** Saves the routing table and leaves the DHT; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer)
      await this.#save()
      await new Promise<void>((resolve) => this.#dht.destroy(resolve))
      for (const fail of this.#inflight) fail()
      this.#inflight.clear()
    })()
    return this.#closing
  }

  #checkOpen(): void {
    if (this.#closing) throw closedError()
  }

  /** A library call as a promise that also settles (rejects) when the node closes under it. */
  #op<T>(run: (done: (value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = () => reject(closedError())
      this.#inflight.add(fail)
      run((value) => {
        this.#inflight.delete(fail)
        if (this.#dht.destroyed) reject(closedError())
        else resolve(value)
      })
    })
  }

  /** One save at a time, written to a temp file and renamed so a crash never leaves half a file. */
  #save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      const file = this.#stateFile
      if (!file || this.#dht.destroyed) return
      const nodes = this.#dht.nodes.toArray().filter((n) => isIPv4(n.host)).slice(0, MAX_SAVED_NODES)
      if (nodes.length === 0 && this.#haveSavedNodes) return
      const state = {
        version: STATE_VERSION,
        id: this.#dht.nodeId.toString('hex'),
        nodes: nodes.map((n) => ({ id: Buffer.from(n.id).toString('hex'), host: n.host, port: n.port })),
      }
      const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`
      try {
        await writeFile(tmp, JSON.stringify(state) + '\n', { mode: 0o600 })
        await rename(tmp, file)
        if (nodes.length) this.#haveSavedNodes = true
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => {})
        this.#warn(new Error(`cannot save the DHT routing table to ${file}: ${(err as Error).message}`))
      }
    })
    return this.#saving
  }
}

function waitReady(dht: DHT, ms: number): Promise<void> {
  if (dht.ready) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      dht.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    dht.once('ready', done)
  })
}
