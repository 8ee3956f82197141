// The standalone bootstrap node: a plain DHT node at an address the circle
// knows (the roster's `bootstrap` list), which devices start their routing
// tables from and which stores BEP 44 items like any other node (anyone's:
// items are signed, so it needs no identity). It keeps its node id and
// routing table in a state file, so after a restart it still knows the
// network even when no other bootstrap node is up. It has the caps of every
// DhtNode (BEP 44's sizes, a put rate per source address, strangers' items
// bounded in entries and bytes); all it stores is strangers' items.
import { join } from 'node:path'
import { DhtNode, type PutLimits } from '../src/manifest/index.ts'

/** UDP; next to the node's defaults (peers 7461, API 7462, tracker 7463). */
export const DEFAULT_BOOTSTRAP_PORT = 7464
export const BOOTSTRAP_STATE_FILE = 'dht-bootstrap.json'
/** Items stored for others (a DhtNode's default is 1000); a circle publishes a handful per device. */
const MAX_ITEMS = 10_000
/** Their bytes: 1 KiB each on average (the largest BEP 44 item is about 1.2 KB). */
const MAX_ITEM_BYTES = MAX_ITEMS * 1024

export const bootstrapStatePath = (home: string) => join(home, BOOTSTRAP_STATE_FILE)

export interface BootstrapNodeOptions {
  /** UDP port; 0 lets the OS pick. */
  port: number
  /** IPv4 address to bind (default 0.0.0.0). */
  host?: string
  /** Where the routing table is kept (see bootstrapStatePath). */
  stateFile: string
  /** Other bootstrap nodes, 'host:port' (default none). */
  bootstrap?: string[]
  /** Puts per source address (default DhtNode's: 5 a second, bursts of 200). */
  putLimits?: Partial<PutLimits>
  onWarning?: (err: Error) => void
}

export type BootstrapNode = DhtNode

export function startBootstrapNode(opts: BootstrapNodeOptions): Promise<BootstrapNode> {
  return DhtNode.start({
    port: opts.port,
    host: opts.host ?? '0.0.0.0',
    bootstrap: opts.bootstrap ?? [],
    stateFile: opts.stateFile,
    maxValues: MAX_ITEMS,
    maxValueBytes: MAX_ITEM_BYTES,
    ...(opts.putLimits ? { putLimits: opts.putLimits } : {}),
    onWarning: opts.onWarning,
  })
}
