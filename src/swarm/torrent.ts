// One track's torrent among authenticated peers: serves the pieces it has,
// and when it is fetching, drives its own scheduler (docs/swarm.md: whole
// pieces per wire, a request queue per wire that follows its rate, requests
// batched into one socket write, SHA-1 on node:crypto, positional writes). Handles
// chokes, disconnects, request timeouts and end-game; a peer that sends a
// piece failing its hash alone is banned. A resumed download serves nothing
// of its earlier run before that piece's SHA-1 is checked again (resume()).
import { EventEmitter } from 'node:events'
import { createHash } from 'node:crypto'
import { Bitfield } from './bitfield.ts'
import { isPartial, PieceFileError, type PartialStore, type PieceSource } from './piece-store.ts'
import { BLOCK, pieceHash, pieceSize, type TorrentMeta } from './torrent-meta.ts'
import type { PeerSession } from './protocol/authenticate-wire.ts'
import { logger, type Logger } from '../log/index.ts'
import { byRtt, clearlyNearer } from './nearest.ts'

// Blocks outstanding per wire. A wire keeps about QUEUE_RTTS round trips of
// its own measured rate in flight (QUEUE_SECONDS when its round trip is not
// known: a wire this side did not dial), never fewer than QUEUE_MIN (32:
// bench/swarm found 32/16 faster and quicker to seek than 128/64 on
// loopback, where it allows ~500 MB/s) nor more than QUEUE_MAX. A fixed 32
// blocks (512 KiB) is about two round trips of a 20 Mbit/s uplink at 100 ms:
// under 1% loss, blocks held in the receiver's kernel behind a lost packet
// (~1 RTT each time) count against that queue and the seeder runs out of
// requested blocks (bench/wan: 11.7 Mbit/s a wire where a raw TCP flow got
// 18.2). Sized by time alone (half a second), a loopback or LAN wire kept
// 2 MiB queued at the seeder for a seek to wait behind (bench/swarm's seek
// p95 57-69 ms); sized by round trips it keeps what the path needs.
// libtorrent sizes its queue by time (3 s of rate, at most 500).
const QUEUE_MIN = 32
const QUEUE_MAX = 128 // 2 MiB: 0.8 s of a 20 Mbit/s uplink
const QUEUE_SECONDS = 0.5
const QUEUE_RTTS = 5
/** The request queue a wire delivering `bytesPerSecond` gets, in blocks, over a path of `rttMs` round trip when known. */
export function queueDepth(bytesPerSecond: number, rttMs?: number, min = QUEUE_MIN): number {
  const seconds = rttMs === undefined ? QUEUE_SECONDS : Math.min(QUEUE_SECONDS, (QUEUE_RTTS * rttMs) / 1000)
  return Math.max(min, Math.min(QUEUE_MAX, Math.ceil((bytesPerSecond * seconds) / BLOCK)))
}
export const REQUEST_TIMEOUT = 4_000 // ms without data while requests are outstanding
/**
 * The piece under a reader is pushed whole by every holder up to this size
 * (64 KiB, the smallest piece length: tracks under 64 MB); a larger one is
 * shared, as a whole copy from each would cost more than a lost packet.
 */
const WHOLE_FIRST_PIECE_MAX = 64 * 1024
const TICK = 500 // ms
const MAX_PEER_REQUESTS = 1024 // requests a peer may have queued with us
/** Verified pieces waiting for the disk, at most: beyond this, no new requests go out. */
const MAX_UNWRITTEN = 64 * 1024 * 1024 // bytes
const BLOCKS_PER_PIECE_MAX = 64 // 1 MiB / 16 KiB
/** A block's id: numbers, not strings, on the per-block hot path. */
const blockKey = (index: number, offset: number) => index * BLOCKS_PER_PIECE_MAX + offset / BLOCK

export interface TorrentOptions {
  /** ms without data from a peer with requests outstanding before its work goes elsewhere (default REQUEST_TIMEOUT); tests pass short ones. */
  requestTimeoutMs?: number
  /** The fewest blocks a wire keeps requested (default QUEUE_MIN, 32); a seek waits behind them. */
  queueMin?: number
}

export interface TorrentEvents {
  /** A piece is verified here: fetched, or resumed and checked again. */
  piece: [index: number]
  /** A resumed piece (or one on disk when the whole file failed) failed its SHA-1: it is fetched again. */
  corrupt: [index: number]
  done: [path: string]
  /** The whole file failed its SHA-256 (again, or with every piece passing its SHA-1): its partial file is deleted, the torrent serves nothing more. */
  failed: [err: Error]
  /** close() was called: nothing more is served or fetched. */
  closed: []
  banned: [peer: PeerSession, reason: string]
  /** A peer sent nothing for the request timeout with requests outstanding: its work went elsewhere. */
  stalled: [peer: PeerSession]
  warning: [err: Error]
  peer: [peer: PeerSession]
  /** The peer unchoked us and has pieces to give. */
  ready: [peer: PeerSession]
  'peer-gone': [peer: PeerSession]
}

interface Peer {
  session: PeerSession
  name: string
  has: Bitfield
  /** blockKey() of blocks requested from this peer. */
  outstanding: Set<number>
  lastData: number
  snubbed: boolean
  bytes: number
  uploads: number
  /** Bytes of blocks received since `sampledAt`: the wire's rate is measured each tick. */
  window: number
  sampledAt: number
  /** Smoothed bytes per second the wire delivered while it had requests out. */
  rate: number
  /** Its request queue now (queueDepth(rate)), in blocks. */
  depth: number
  /** Round trip to the device in ms, when known: nearer peers are asked first (nearest.ts). */
  rttMs?: number
}

interface Active {
  index: number
  buf: Buffer
  received: Set<number>
  blocks: number
  /** Peers a block was requested from, by offset. */
  requested: Map<number, Set<Peer>>
  sources: Set<Peer>
  /** Started by pushed blocks (gift): blocks nobody pushed are asked of the next wire filled. */
  gifted: boolean
}

interface Waiter {
  first: number
  last: number
  resolve: () => void
  reject: (err: Error) => void
}

export class Torrent extends EventEmitter<TorrentEvents> {
  readonly peers = new Set<Peer>()
  private readonly active = new Map<number, Active>()
  /**
   * Verified pieces on their way to disk: readers are served from these
   * buffers at once (a seek must not wait for the disk), and they are not
   * fetched again.
   */
  private readonly verified = new Map<number, Buffer>()
  private throttled = false
  private priority: number[] = []
  private cursor = 0
  /** Before this (performance.now()), only prioritized pieces are fetched: see holdBackground. */
  private backgroundFrom = 0
  private readonly holds = new Set<{ until: number }>()
  private holdTimer: NodeJS.Timeout | undefined
  private waiters = new Set<Waiter>()
  private readonly suspect = new Set<number>()
  private timer: NodeJS.Timeout | null = null
  private finishing = false
  /** The whole file failed its SHA-256 once and its pieces were checked again: a second failure is final. */
  private rechecked = false
  /** Pieces offered to peers and then found bad on disk: a request for one is left unanswered, not punished. */
  private readonly retracted = new Set<number>()
  destroyed = false
  /** DEBUG=djcloud:swarm:torrent: requests, pieces, peers, stalls, bans; lines start with the infohash. */
  private readonly log: Logger

  constructor(
    readonly meta: TorrentMeta,
    private store: PieceSource,
    private readonly opts: TorrentOptions = {},
  ) {
    super()
    this.log = logger('swarm:torrent').instance(meta.infoHash)
    if (isPartial(store) && store.unverifiedCount > 0) this.resume(store)
  }

  /**
   * A resumed download: pieces its sidecar lists are checked again in the
   * background (large sequential reads), and one a reader waits for is
   * checked at once (waitFor). Until then none is served, offered or
   * fetched; one that fails is fetched again. Once all are checked, a
   * download that had every piece runs its whole-file check.
   */
  private resume(store: PartialStore): void {
    store.onVerified = (index, ok) => {
      if (this.destroyed) return
      if (!ok) {
        this.emit('corrupt', index)
        for (const p of this.nearestFirst()) this.fill(p)
        return
      }
      this.resolveWaiters()
      this.announceHave(index)
      this.emit('piece', index)
      if (store.have.full) void this.finish()
    }
    store.reverify().catch((err: Error) => {
      if (!this.destroyed && !(err instanceof PieceFileError && err.code === 'ERR_CLOSED')) this.emit('warning', err)
    })
  }

  /** Resumed pieces still to check before they are served. */
  get unverified(): number {
    return isPartial(this.store) ? this.store.unverifiedCount : 0
  }

  get have(): Bitfield {
    return this.store.have
  }

  /** Wires open to peers now. */
  get peerCount(): number {
    return this.peers.size
  }

  get complete(): boolean {
    return this.store.have.full && !isPartial(this.store)
  }

  /** Bytes received per device name. */
  sources(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const p of this.peers) if (p.bytes) out[p.name] = (out[p.name] ?? 0) + p.bytes
    for (const [name, bytes] of Object.entries(this.gone)) out[name] = (out[name] ?? 0) + bytes
    for (const [name, bytes] of Object.entries(this.pushed)) out[name] = (out[name] ?? 0) + bytes
    return out
  }

  private gone: Record<string, number> = {}

  /**
   * A wire to a peer. `rttMs`: the round trip to its device, for nearest
   * first (the swarm passes the device link's: the lowest of several samples,
   * measured end to end); without it the peer is not ranked. Not the wire's
   * own connect: one sample, which a busy event loop can stretch.
   */
  addPeer(session: PeerSession, rttMs?: number): void {
    if (this.destroyed) return void session.wire.destroy()
    const peer: Peer = {
      ...(rttMs === undefined ? {} : { rttMs }),
      session,
      name: session.peer.certificate.name,
      has: new Bitfield(this.meta.pieceCount),
      outstanding: new Set(),
      lastData: Date.now(),
      snubbed: false,
      bytes: 0,
      uploads: 0,
      window: 0,
      sampledAt: Date.now(),
      rate: 0,
      depth: queueDepth(0, undefined, this.opts.queueMin),
    }
    this.peers.add(peer)
    this.log('peer %s (%s:%d) added, %d peers', peer.name, session.remote.host, session.remote.port, this.peers.size)
    const { wire } = session
    wire.on('close', () => this.removePeer(peer))
    // 'ready': the peer lets us ask and has something to give (a whole fetch waits for every holder's).
    let ready = false
    const checkReady = () => {
      if (ready || wire.peerChoking || peer.has.count === 0) return
      ready = true
      this.emit('ready', session)
    }
    wire.on('bitfield', (bits) => {
      peer.has = new Bitfield(this.meta.pieceCount, bits)
      this.updateInterest(peer)
      checkReady()
    })
    wire.on('have', (i) => {
      peer.has.set(i)
      this.updateInterest(peer)
      checkReady()
    })
    wire.on('unchoke', () => {
      checkReady()
      this.fill(peer)
    })
    wire.on('choke', () => {
      this.log('%s choked us, %d requests given back', peer.name, peer.outstanding.size)
      this.release(peer)
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('not-interested', () => wire.choke())
    wire.on('request', (i, off, len) => this.onRequest(peer, i, off, len))
    wire.on('piece', (i, off, block) => this.onBlock(peer, i, off, block))
    if (this.store.have.count > 0) {
      wire.bitfield(this.store.have.bytes)
      // Every peer here proved itself and is served whatever it asks: unchoked
      // now, not a round trip later when its `interested` comes.
      wire.unchoke()
    }
    this.ensureTimer()
    this.emit('peer', session)
    wire.resume()
  }

  // ---- serving ---------------------------------------------------------

  private onRequest(peer: Peer, index: number, offset: number, length: number): void {
    const { wire } = peer.session
    if (wire.amChoking) return
    if (this.retracted.has(index) && !this.store.have.get(index)) return // the peer's request times out; it asks elsewhere
    if (!this.store.have.get(index) || offset + length > pieceSize(this.meta, index)) {
      return this.ban(peer, 'requested a piece that is not offered')
    }
    if (++peer.uploads > MAX_PEER_REQUESTS) return this.ban(peer, 'too many queued requests')
    ;(this.swap ? this.swap.then(() => this.store.read(index, offset, length)) : this.store.read(index, offset, length)).then(
      (block) => {
        peer.uploads--
        if (!wire.destroyed && !wire.amChoking) wire.piece(index, offset, block)
      },
      (err: Error) => {
        peer.uploads--
        this.emit('warning', err)
        wire.destroy()
      },
    )
  }

  // ---- fetching --------------------------------------------------------

  private updateInterest(peer: Peer): void {
    if (this.store.have.full) return
    peer.session.wire.interested()
    if (!peer.session.wire.peerChoking) this.fill(peer)
  }

  /** Pieces covering [start, end] come first; what follows is prefetched in order. */
  prioritize(start: number, end: number): void {
    const first = Math.floor(start / this.meta.pieceLength)
    const last = Math.min(this.meta.pieceCount - 1, Math.floor(end / this.meta.pieceLength))
    const wanted: number[] = []
    for (let i = first; i <= last; i++) if (!this.store.have.get(i)) wanted.push(i)
    this.priority = [...wanted, ...this.priority.filter((i) => i < first || i > last)]
    this.cursor = last + 1
    for (const p of this.nearestFirst()) this.fill(p)
  }

  /**
   * For `ms`, fetch only prioritized pieces (what a player asked for), not
   * the rest of the file: a player starting up shares the machine with this
   * download, and fetching the whole file at full speed then delays the
   * start of playback (bench/ui: click-to-playing p50 102 -> 68 ms).
   */
  holdBackground(ms: number): () => void {
    const hold = { until: performance.now() + ms }
    this.holds.add(hold)
    this.rehold()
    // Ends this hold early (others keep theirs).
    return () => {
      if (this.holds.delete(hold)) this.rehold()
    }
  }

  /** The rest waits for the latest running hold; when none is left, every wire is filled again. */
  private rehold(): void {
    // A timer may fire a fraction of a ms before performance.now() reaches a hold's end.
    const now = performance.now() + 1
    for (const h of this.holds) if (h.until <= now) this.holds.delete(h)
    this.backgroundFrom = Math.max(0, ...[...this.holds].map((h) => h.until))
    clearTimeout(this.holdTimer)
    if (this.backgroundFrom === 0) {
      for (const p of this.nearestFirst()) this.fill(p)
      return
    }
    this.holdTimer = setTimeout(() => this.rehold(), Math.max(0, this.backgroundFrom - performance.now()))
    // unref where timers have it (Node; a page's are numbers: docs/browser.md)
    this.holdTimer.unref?.()
  }

  /**
   * The file's last `bytes` come right after the first piece wanted now: a
   * media player reads the start and then the tail (ID3v1 and APE tags,
   * chunks after a WAV's data, an MP4's moov) before it plays. As torrent
   * clients do for media, so that read does not wait behind the whole file.
   */
  prioritizeTail(bytes: number): void {
    const first = Math.max(0, Math.floor((this.meta.size - bytes) / this.meta.pieceLength))
    const tail: number[] = []
    for (let i = first; i < this.meta.pieceCount; i++) if (!this.store.have.get(i)) tail.push(i)
    if (tail.length === 0) return
    const rest = this.priority.filter((i) => !tail.includes(i))
    this.priority = [...rest.slice(0, 1), ...tail, ...rest.slice(1)]
    for (const p of this.nearestFirst()) this.fill(p)
  }

  /** Resolves when every piece under [start, end] (inclusive) is verified. */
  waitFor(start: number, end: number, signal?: AbortSignal): Promise<void> {
    const first = Math.floor(start / this.meta.pieceLength)
    const last = Math.min(this.meta.pieceCount - 1, Math.floor(end / this.meta.pieceLength))
    if (this.hasRange(first, last)) return Promise.resolve()
    if (this.destroyed) return Promise.reject(new Error('torrent closed'))
    this.log('waiting for pieces %d-%d', first, last)
    // Resumed pieces under the range are checked now, ahead of the background pass.
    const store = this.store
    if (isPartial(store)) {
      for (let i = first; i <= last; i++) if (store.isUnverified(i)) store.verifyPiece(i).catch(() => {})
    }
    this.prioritize(start, end)
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(w)
        reject(signal!.reason as Error)
      }
      // The listener goes when the wait ends: one signal serves a whole stream.
      const w: Waiter = {
        first,
        last,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      this.waiters.add(w)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * Bytes of verified pieces, from memory while a piece waits for the disk.
   * Reads wait out the switch from the cache file to the finished file.
   */
  async readAt(position: number, length: number): Promise<Buffer> {
    const L = this.meta.pieceLength
    const first = Math.floor(position / L)
    const last = Math.floor((position + length - 1) / L)
    let inMemory = false
    for (let i = first; i <= last && !inMemory; i++) inMemory = this.verified.has(i)
    if (!inMemory) {
      if (this.swap) await this.swap
      return this.store.readAt(position, length)
    }
    const parts: Buffer[] = []
    for (let i = first; i <= last; i++) {
      const from = Math.max(position, i * L)
      const to = Math.min(position + length, (i + 1) * L)
      const buf = this.verified.get(i)
      if (buf) parts.push(buf.subarray(from - i * L, to - i * L))
      else {
        if (this.swap) await this.swap
        parts.push(await this.store.readAt(from, to - from))
      }
    }
    return Buffer.concat(parts)
  }

  private swap: Promise<void> | null = null

  private hasRange(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.store.have.get(i) && !this.verified.has(i)) return false
    return true
  }

  private outstandingTotal(peer: Peer): number {
    return peer.outstanding.size
  }

  private pick(peer: Peer, urgentOnly: boolean): number {
    const store = isPartial(this.store) ? this.store : null
    const free = (i: number) =>
      !this.store.have.get(i) && !this.active.has(i) && !this.verified.has(i) && peer.has.get(i) && !store?.isUnverified(i)
    for (const i of this.priority) {
      if (!free(i)) continue
      // What a reader waits for goes to a clearly nearer peer that can send it now.
      const nearer = this.nearerFor(peer, i)
      if (!nearer) return i
      this.deferred.add(nearer)
    }
    if (urgentOnly || performance.now() < this.backgroundFrom) return -1
    const n = this.meta.pieceCount
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n
      if (free(i)) return i
    }
    return -1
  }

  /** Peers clearly nearer than the one being filled that were left work: filled next. */
  private readonly deferred = new Set<Peer>()

  /** Peers nearest first (nearest.ts): where every wire is filled, the nearest picks first. */
  private nearestFirst(): Peer[] {
    return byRtt(this.peers, (p) => p.rttMs)
  }

  /** Whether `p` can be asked for piece `index` now. */
  private canSend(p: Peer, index: number): boolean {
    const w = p.session.wire
    return !w.destroyed && !w.peerChoking && !p.snubbed && p.has.get(index)
  }

  /** The nearest peer clearly nearer than `peer` that can send piece `index` now, if any. */
  private nearerFor(peer: Peer, index: number): Peer | undefined {
    let best: Peer | undefined
    for (const p of this.peers) {
      if (p === peer || !clearlyNearer(p.rttMs, peer.rttMs) || !this.canSend(p, index)) continue
      if (!best || (p.rttMs ?? 0) < (best.rttMs ?? 0)) best = p
    }
    return best
  }

  private fill(peer: Peer): void {
    this.fillOne(peer)
    // Work left for nearer peers (a reader's pieces, pushed pieces' holes) is asked of them now.
    while (this.deferred.size > 0) {
      const next = [...this.deferred]
      this.deferred.clear()
      for (const p of next) this.fillOne(p)
    }
  }

  private fillOne(peer: Peer): void {
    const { wire } = peer.session
    if (this.store.have.full || wire.destroyed || wire.peerChoking || peer.snubbed) return
    // The disk is behind: let it catch up before asking for more (memory stays bounded).
    this.throttled = this.verified.size * this.meta.pieceLength >= MAX_UNWRITTEN
    if (this.throttled && this.priority.length === 0) return
    wire.batch(() => {
      this.adoptGifts(peer)
      // Urgent pieces go out even to a full queue: a seek must not wait for prefetch.
      for (let i = this.pick(peer, true); i >= 0; i = this.pick(peer, true)) this.startPiece(peer, i)
      while (this.outstandingTotal(peer) < peer.depth) {
        const i = this.pick(peer, false)
        if (i < 0) {
          this.endgame(peer)
          break
        }
        this.startPiece(peer, i)
      }
    })
  }

  private activate(index: number, gifted: boolean): Active {
    const size = pieceSize(this.meta, index)
    const a: Active = { index, buf: Buffer.allocUnsafe(size), received: new Set(), blocks: Math.ceil(size / BLOCK), requested: new Map(), sources: new Set(), gifted }
    this.active.set(index, a)
    this.priority = this.priority.filter((i) => i !== index)
    return a
  }

  private startPiece(peer: Peer, index: number): void {
    const a = this.activate(index, false)
    const size = a.buf.length
    this.log('piece %d requested from %s (%d blocks, %d outstanding)', index, peer.name, a.blocks, peer.outstanding.size)
    for (let off = 0; off < size; off += BLOCK) this.requestBlock(peer, a, off)
  }

  private requestBlock(peer: Peer, a: Active, offset: number): void {
    const length = Math.min(BLOCK, a.buf.length - offset)
    const key = blockKey(a.index, offset)
    if (peer.outstanding.has(key)) return
    peer.outstanding.add(key)
    let set = a.requested.get(offset)
    if (!set) a.requested.set(offset, (set = new Set()))
    set.add(peer)
    peer.session.wire.request(a.index, offset, length)
  }

  /** Blocks of pushed pieces that nobody pushed (a pusher without the track, or gone) and nobody was asked for. */
  private adoptGifts(peer: Peer): void {
    for (const a of this.active.values()) {
      if (!a.gifted || !peer.has.get(a.index)) continue
      const nearer = this.nearerFor(peer, a.index)
      if (nearer) {
        this.deferred.add(nearer)
        continue
      }
      for (let off = 0; off < a.buf.length; off += BLOCK) {
        if (!a.received.has(off) && !a.requested.get(off)?.size) this.requestBlock(peer, a, off)
      }
    }
  }

  /**
   * A block an own device pushed over the device channel before any wire of
   * this torrent was up (docs/swarm.md, "Pushed first blocks"): taken like a
   * requested one, and its piece is SHA-1-checked whole as always. Blocks
   * already here, of pieces held, or of the wrong size are ignored.
   */
  gift(from: string, index: number, offset: number, block: Uint8Array): void {
    if (this.destroyed || !Number.isInteger(index) || index < 0 || index >= this.meta.pieceCount) return
    if (offset % BLOCK !== 0 || this.store.have.get(index) || this.verified.has(index)) return
    if (isPartial(this.store) && this.store.isUnverified(index)) return
    const size = pieceSize(this.meta, index)
    if (offset < 0 || offset >= size || block.length !== Math.min(BLOCK, size - offset)) return
    const a = this.active.get(index) ?? this.activate(index, true)
    if (a.received.has(offset)) return
    Buffer.from(block.buffer, block.byteOffset, block.length).copy(a.buf, offset)
    a.received.add(offset)
    this.pushed[from] = (this.pushed[from] ?? 0) + block.length
    const key = blockKey(index, offset)
    a.requested.get(offset)?.forEach((p) => {
      if (p.outstanding.delete(key)) p.session.wire.cancel(index, offset, block.length)
    })
    if (a.received.size === a.blocks) this.onPieceComplete(a)
  }

  /** Bytes pushed to this torrent, by device name. */
  private readonly pushed: Record<string, number> = {}

  /**
   * The blocks this device pushes for a reader starting at byte `from`, held
   * here, up to `bytes` of pieces from the one under `from` (at least that
   * piece). The piece under `from` comes whole from every pusher when it is
   * small (WHOLE_FIRST_PIECE_MAX), each starting at its own block: the reader
   * has it once each block came from any one of them, so a packet lost on one
   * link does not hold the first byte (bench/wan). The rest is shared: this
   * pusher's `part` of `parts` is every parts-th block.
   */
  async pushBlocks(from: number, bytes: number, part: number, parts: number): Promise<Array<{ index: number; offset: number; data: Uint8Array }>> {
    const out: Array<{ index: number; offset: number; data: Uint8Array }> = []
    if (this.swap) await this.swap
    const L = this.meta.pieceLength
    const first = Math.floor(from / L)
    const read = async (i: number, off: number) => out.push({ index: i, offset: off, data: await this.store.read(i, off, Math.min(BLOCK, pieceSize(this.meta, i) - off)) })
    let n = 0
    for (let i = first; i < this.meta.pieceCount && (i - first) * L < Math.max(bytes, L); i++) {
      if (!this.store.have.get(i)) break
      const blocks = Math.ceil(pieceSize(this.meta, i) / BLOCK)
      if (i === first && L <= WHOLE_FIRST_PIECE_MAX) {
        const start = Math.floor((part * blocks) / parts)
        for (let j = 0; j < blocks; j++) await read(i, ((start + j) % blocks) * BLOCK)
        continue
      }
      for (let b = 0; b < blocks; b++, n++) if (n % parts === part) await read(i, b * BLOCK)
    }
    return out
  }

  /** Nothing left to start: ask this peer too for blocks still missing elsewhere. */
  private endgame(peer: Peer): void {
    for (const a of this.active.values()) {
      // A piece that failed its hash with blocks from several peers is fetched from one only.
      if (!peer.has.get(a.index) || this.suspect.has(a.index)) continue
      for (let off = 0; off < a.buf.length && peer.outstanding.size < peer.depth; off += BLOCK) {
        if (a.received.has(off)) continue
        // A block a clearly nearer peer is sending is not raced from farther away: if that peer
        // stalls, the request timeout gives its work back (release) and it is asked elsewhere.
        const askedOf = a.requested.get(off)
        if (askedOf && [...askedOf].some((q) => !q.snubbed && clearlyNearer(q.rttMs, peer.rttMs))) continue
        this.requestBlock(peer, a, off)
      }
    }
  }

  private onBlock(peer: Peer, index: number, offset: number, block: Buffer): void {
    if (offset % BLOCK !== 0) return
    const key = blockKey(index, offset)
    if (!peer.outstanding.delete(key)) return // not asked of this peer (late after a timeout, or a cancel race)
    peer.lastData = Date.now()
    peer.snubbed = false
    peer.window += block.length
    const a = this.active.get(index)
    if (a && !a.received.has(offset)) {
      if (block.length !== Math.min(BLOCK, a.buf.length - offset)) return this.ban(peer, 'sent a block of the wrong size')
      block.copy(a.buf, offset)
      a.received.add(offset)
      a.sources.add(peer)
      peer.bytes += block.length
      a.requested.get(offset)?.forEach((other) => {
        if (other !== peer && other.outstanding.delete(key)) other.session.wire.cancel(index, offset, block.length)
      })
      if (a.received.size === a.blocks) this.onPieceComplete(a)
    }
    // Refilled as soon as a whole piece fits (at half the depth at the latest),
    // so the queue stays near its depth.
    const low = Math.max(peer.depth >> 1, peer.depth - Math.ceil(this.meta.pieceLength / BLOCK))
    if (peer.outstanding.size < low) this.fill(peer)
  }

  private onPieceComplete(a: Active): void {
    this.active.delete(a.index)
    const ok = Buffer.from(createHash('sha1').update(a.buf).digest()).equals(pieceHash(this.meta, a.index))
    if (!ok) {
      this.log('piece %d failed its hash (from %s)', a.index, [...a.sources].map((p) => p.name).join(', '))
      // Blame is certain only when one peer sent the whole piece.
      if (a.sources.size === 1) this.ban([...a.sources][0]!, `sent piece ${a.index} with a bad hash`)
      else this.suspect.add(a.index)
      this.priority.unshift(a.index)
      for (const p of this.nearestFirst()) this.fill(p)
      return
    }
    const store = this.store as PartialStore
    this.verified.set(a.index, a.buf)
    if (this.log.enabled) this.log('piece %d verified (from %s)', a.index, [...a.sources].map((p) => p.name).join(', '))
    this.resolveWaiters()
    store.writePiece(a.index, a.buf).then(
      () => {
        this.verified.delete(a.index)
        if (this.destroyed) return
        this.announceHave(a.index)
        this.emit('piece', a.index)
        if (store.have.full) void this.finish()
        else if (this.throttled) for (const p of this.nearestFirst()) this.fill(p)
      },
      (err: Error) => {
        this.verified.delete(a.index)
        this.emit('warning', err)
      },
    )
  }

  /**
   * HAVE to the peers that lack the piece. A holder of it learns nothing
   * from one (have suppression, as libtorrent does): a page fetching from
   * two seeders otherwise sends two data channel messages a piece for
   * nothing (bench/browser).
   */
  private announceHave(index: number): void {
    for (const p of this.peers) if (!p.session.wire.destroyed && !p.has.get(index)) p.session.wire.have(index)
  }

  private resolveWaiters(): void {
    for (const w of this.waiters) {
      if (this.hasRange(w.first, w.last)) {
        this.waiters.delete(w)
        w.resolve()
      }
    }
  }

  private async finish(): Promise<void> {
    if (this.finishing || this.destroyed) return
    this.finishing = true
    const partial = this.store as PartialStore
    let path = ''
    this.swap = (async () => {
      const done = await partial.complete()
      path = done.path
      this.store = done.source
    })()
    try {
      await this.swap
      this.swap = null
      if (this.destroyed) return
      for (const p of this.peers) p.session.wire.notInterested()
      this.donePath = path
      this.log('done: %s', path)
      this.emit('done', path)
    } catch (err) {
      this.swap = null
      // Stopped (a shutdown): the partial file stays, and the next run checks it again.
      if (this.destroyed || (err instanceof PieceFileError && err.code === 'ERR_CLOSED')) return
      // Every piece passed its SHA-1 when it came, yet the whole file fails:
      // a piece went bad on disk since. Check them all once; bad ones are fetched again.
      if (err instanceof PieceFileError && err.code === 'ERR_VERIFY' && !this.rechecked) {
        this.rechecked = true
        const bad = await partial.recheck().catch(() => [] as number[])
        if (this.destroyed) return
        if (bad.length > 0) {
          this.finishing = false
          for (const i of bad) {
            this.retracted.add(i)
            this.emit('corrupt', i)
          }
          this.priority = [...bad, ...this.priority]
          for (const p of this.nearestFirst()) {
            p.session.wire.interested()
            this.fill(p)
          }
          return
        }
      }
      if (err instanceof PieceFileError && err.code === 'ERR_VERIFY') await partial.discard().catch(() => {})
      this.failure = err as Error
      this.log('failed: %s', (err as Error).message)
      this.emit('warning', err as Error)
      this.emit('failed', err as Error)
      this.failWaiters(err as Error)
    }
  }

  /** The finished file, once 'done' was emitted (a listener added late still learns it). */
  donePath: string | null = null
  /** Why the download failed, once 'failed' was emitted. */
  failure: Error | null = null

  /** Gives back what was asked of a peer that choked us, went quiet or left. */
  private release(peer: Peer): void {
    const orphans: Array<[Active, number]> = []
    for (const key of peer.outstanding) {
      const index = Math.floor(key / BLOCKS_PER_PIECE_MAX)
      const offset = (key % BLOCKS_PER_PIECE_MAX) * BLOCK
      const a = this.active.get(index)
      const set = a?.requested.get(offset)
      set?.delete(peer)
      if (a && set && set.size === 0 && !a.received.has(offset)) orphans.push([a, offset])
    }
    peer.outstanding.clear()
    for (const [a, offset] of orphans) {
      if (this.active.get(a.index) !== a) continue
      // Someone else holding the piece takes the block over; with nobody, the
      // piece goes back to the pool and starts again.
      const heir = this.bestPeerFor(a.index, peer)
      if (heir) this.requestBlock(heir, a, offset)
      else {
        this.log('piece %d back in the queue: no other peer can take it over', a.index)
        this.active.delete(a.index)
        if (!this.priority.includes(a.index)) this.priority.unshift(a.index)
      }
    }
    for (const p of this.nearestFirst()) if (p !== peer) this.fill(p)
  }

  private bestPeerFor(index: number, except: Peer): Peer | undefined {
    let best: Peer | undefined
    for (const p of this.peers) {
      const w = p.session.wire
      if (p === except || w.destroyed || w.peerChoking || p.snubbed || !p.has.get(index)) continue
      if (!best || p.outstanding.size < best.outstanding.size) best = p
    }
    return best
  }

  private removePeer(peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.release(peer)
    if (peer.bytes) this.gone[peer.name] = (this.gone[peer.name] ?? 0) + peer.bytes
    this.log('peer %s gone (%d bytes from it), %d peers', peer.name, peer.bytes, this.peers.size)
    this.emit('peer-gone', peer.session)
  }

  private ban(peer: Peer, reason: string): void {
    this.log('ban %s (%s): %s', peer.name, peer.session.remote.host, reason)
    this.emit('banned', peer.session, reason)
    peer.session.wire.destroy()
  }

  private ensureTimer(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.tick(), TICK)
    this.timer.unref?.()
  }

  private tick(): void {
    const now = Date.now()
    for (const p of this.peers) {
      this.sampleRate(p, now)
      if (p.outstanding.size > 0 && now - p.lastData > (this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT) && !p.snubbed) {
        p.snubbed = true // stop giving it work until it sends something
        this.log('%s stalled: no data for %d ms with %d requests out; its work goes elsewhere', p.name, now - p.lastData, p.outstanding.size)
        this.release(p)
        this.emit('stalled', p.session)
      }
    }
  }

  /**
   * The wire's delivery rate over the last tick sets its queue depth; an idle
   * wire keeps its last one. A higher sample counts at once (a queue that
   * caps the rate must not also slow its own growth), a lower one by half.
   */
  private sampleRate(p: Peer, now: number): void {
    const ms = now - p.sampledAt
    if (ms <= 0) return
    const sample = (p.window * 1000) / ms
    p.window = 0
    p.sampledAt = now
    if (sample === 0 && p.outstanding.size === 0) return
    p.rate = sample > p.rate ? sample : (p.rate + sample) / 2
    // The wire's own round trip (its TCP connect); a WebRTC wire has none, and takes its link's (addPeer's).
    const depth = queueDepth(p.rate, p.session.rttMs ?? p.rttMs, this.opts.queueMin)
    if (depth !== p.depth) this.log('%s: %d kB/s, request queue %d -> %d blocks', p.name, Math.round(p.rate / 1000), p.depth, depth)
    p.depth = depth
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters) w.reject(err)
    this.waiters.clear()
  }

  async close(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    if (this.timer) clearInterval(this.timer)
    clearTimeout(this.holdTimer)
    for (const p of this.peers) p.session.wire.destroy()
    this.failWaiters(new Error('torrent closed'))
    this.emit('closed')
    await this.store.close()
  }
}
