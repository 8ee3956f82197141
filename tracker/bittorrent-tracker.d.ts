// The part of bittorrent-tracker 11's server that tracker/ uses (the package
// ships no type declarations). Read from node_modules/bittorrent-tracker/
// server.js and lib/server/*.js at 11.2.3; `_onWebSocketRequest` is internal
// there, overridden on purpose (see server.ts) and pinned by the tests.
declare module 'bittorrent-tracker' {
  import type { EventEmitter } from 'node:events'
  import type { IncomingMessage, ServerResponse } from 'node:http'
  import type { Duplex } from 'node:stream'

  /**
   * An announce as lib/server/parse-http.js or parse-websocket.js leaves it:
   * `info_hash` and `peer_id` in hex, `type` 'http' | 'ws', every other HTTP
   * query parameter (strings, or arrays when repeated) or WebSocket JSON field.
   */
  export type AnnounceParams = Record<string, unknown>
  export type FilterCallback = (err?: Error | null) => void

  /** The swarm's peer store (the `lru` package). */
  export interface TrackerPeers {
    readonly keys: string[]
    readonly length: number
    /** Evicts the entry (a synthetic 'stopped') when it has expired. */
    peek(key: string): unknown
  }

  export interface TrackerSwarm {
    readonly infoHash: string
    complete: number
    incomplete: number
    readonly peers: TrackerPeers
    /** Applies one (parsed) announce; `event: 'stopped'` removes the peer `peer_id` (ws) or `addr` (http). */
    announce(params: AnnounceParams, cb?: (err: Error | null) => void): void
  }

  /** The `ws` package's WebSocket, as far as used here. */
  export interface TrackerWebSocket {
    readonly readyState: number
    send(data: string, cb?: (err?: Error) => void): void
    close(code?: number, reason?: string): void
    terminate(): void
    on(event: 'close', listener: () => void): this
  }

  export interface TrackerWebSocketServer extends EventEmitter {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: TrackerWebSocket) => void): void
    close(): void
  }

  export interface ServerOptions {
    /** Announce interval told to clients, ms (default 10 min). */
    interval?: number
    trustProxy?: boolean
    http?: boolean | object
    udp?: boolean | object
    ws?: boolean | { noServer?: boolean; maxPayload?: number; [option: string]: unknown }
    /** The built-in /stats and /stats.json pages (default true). */
    stats?: boolean
    filter?: (infoHash: string, params: AnnounceParams, cb: FilterCallback) => void
    peersCacheLength?: number
    /** ms */
    peersCacheTtl?: number
  }

  export class Server extends EventEmitter {
    constructor(opts?: ServerOptions)
    /** Swarms by hex infohash; never pruned by the library. */
    torrents: Record<string, TrackerSwarm>
    readonly ws: TrackerWebSocketServer | null
    destroyed: boolean
    onHttpRequest(req: IncomingMessage, res: ServerResponse, opts?: { action?: 'announce' | 'scrape'; trustProxy?: boolean }): void
    close(cb?: (err?: Error | null) => void): void
    /** Internal: one WebSocket message (raw JSON) from `socket`. */
    protected _onWebSocketRequest(socket: TrackerWebSocket, opts: object, raw: unknown): void
  }
}

// The server alone (the package root also loads the client and its WebRTC
// stack: ~7 MB more of resident memory for nothing here).
declare module 'bittorrent-tracker/server' {
  import { Server } from 'bittorrent-tracker'
  export default Server
}
