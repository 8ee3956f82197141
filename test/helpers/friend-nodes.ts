// Nodes of separate circles on one loopback network, as the friend tests run
// them: each node has a tracker of its own (circles share no tracker), and
// the first node's DHT node is the bootstrap the others join through, so
// circles meet over the DHT alone, as friends do.
import type { ExecutionContext } from 'ava'
import { serveNode, type NodeProcess, type ServeOptions } from './node-process.ts'

const OWN_TRACKER = ['--tracker-port', '0', '--tracker-host', '127.0.0.1']

/** The first node of the network (its `info.bootstrap` is what the others join through). */
export function serveFirst(t: ExecutionContext, home: string, opts: ServeOptions = {}): Promise<NodeProcess> {
  return serveNode(t, home, OWN_TRACKER, opts)
}

/** A node joining the DHT through `bootstrap` (host:port). */
export function serveJoining(t: ExecutionContext, home: string, bootstrap: string, opts: ServeOptions = {}): Promise<NodeProcess> {
  return serveNode(t, home, [...OWN_TRACKER, '--bootstrap', bootstrap], opts)
}
