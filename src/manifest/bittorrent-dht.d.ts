// The part of bittorrent-dht 11 that src/manifest/dht.ts uses (the package
// ships no type declarations). Read from node_modules/bittorrent-dht/client.js
// at 11.0.12, with k-rpc 5.1.0 and k-rpc-socket 1.11.1 underneath. The `_`
// fields are internal there, used on purpose (see dht.ts) and pinned by the
// tests.
declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events'
  import type { Socket as UdpSocket } from 'node:dgram'

  export interface DhtContact {
    id?: Buffer
    host: string
    port: number
  }

  export interface DhtOptions {
    /** Our node id (20 bytes); random when absent. */
    nodeId?: Buffer
    /** `false` or `[]`: none. Absent: the public routers (never wanted here). */
    bootstrap?: DhtContact[] | false
    /** BEP 44 signature check: (signature, message, publicKey) => valid. */
    verify?: (sig: Buffer, msg: Buffer, publicKey: Buffer) => boolean
    /** Items kept in the store (an LRU; default 1000). */
    maxValues?: number
    /** Our own address: announce() then lists us in our own peer store too. */
    host?: string
  }

  /** A BEP 44 item as the store keeps it (decoded bencode in `v`). */
  export interface StoredItem {
    v: unknown
    k?: Buffer
    salt?: Buffer
    sig?: Buffer
    seq?: number
    id: Buffer
  }

  /** What `get` answers: a verified item, the highest seq seen. */
  export interface GetResponse {
    id: Buffer
    v: unknown
    k?: Buffer
    sig?: Buffer
    seq?: number
  }

  export interface MutablePut {
    k: Buffer
    salt?: Buffer
    seq: number
    v: unknown
    sig: Buffer
  }

  /** A decoded KRPC query as the library hands it to its handlers. */
  export interface KrpcQuery {
    t: Buffer
    q: Buffer
    a?: { id?: Buffer; token?: Buffer; v?: unknown; k?: Buffer; salt?: unknown; sig?: Buffer; seq?: number; cas?: number }
  }

  export interface KrpcPeer {
    address?: string
    host?: string
    port: number
  }

  /** k-bucket's routing table. */
  export interface RoutingTable {
    count(): number
    toArray(): Array<{ id: Buffer; host: string; port: number }>
  }

  /** The `lru` package, as used for the item store. */
  export interface ValueStore {
    get(key: string): StoredItem | undefined
    set(key: string, value: StoredItem): void
  }

  export default class DHT extends EventEmitter {
    constructor(opts?: DhtOptions)
    readonly nodeId: Buffer
    readonly nodes: RoutingTable
    readonly ready: boolean
    readonly destroyed: boolean
    listen(port: number, host: string): void
    address(): { address: string; family: string; port: number }
    /** With an id it goes into the table at once; without one it is pinged first. */
    addNode(node: DhtContact): void
    /** cb(err, target, number of nodes that answered the put without an error). */
    put(opts: MutablePut, cb: (err: (Error & { code?: number }) | null, target: Buffer, n?: number) => void): Buffer
    /** `cache: false` skips the short cut that answers from the local store alone. */
    get(target: Buffer, opts: { salt?: Buffer; cache?: boolean }, cb: (err: Error | null, value: GetResponse | null) => void): void
    announce(infoHash: Buffer, port: number, cb: (err: Error | null) => void): void
    /** Peers arrive as 'peer' events; returns an abort function. */
    lookup(infoHash: Buffer, cb: (err: Error | null) => void): () => void
    destroy(cb?: () => void): void

    /** Internal: the item store that answers `get` queries and takes puts (replaced by dht.ts). */
    _values: ValueStore
    /** Internal: the handler of a `put` query (wrapped by dht.ts); `peer` is the sender's rinfo. */
    _onput(query: KrpcQuery, peer: KrpcPeer): void
    /** Internal: k-rpc (its bootstrap list as taken) over k-rpc-socket over this UDP socket. */
    readonly _rpc: {
      bootstrap: DhtContact[]
      socket: { socket: UdpSocket }
      /** Sends a KRPC error [code, message] in answer to a query. */
      error(peer: KrpcPeer, query: KrpcQuery, error: [number, string]): void
    }
  }
}
