// <home>/node.json says a node runs on this home and how to reach it, so CLI
// commands for the home go through it (LevelDB takes one process).
import { readFile, rm, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { PortMapping } from '../reach/index.ts'

export interface NodeInfo {
  pid: number
  /** Local API base URL (https:// when the node serves the API over TLS). */
  api: string
  /** With TLS: the certificate the API serves (PEM, without its chain); clients on this machine trust exactly it (pinnedTls). */
  apiCert?: string
  peerPort: number
  tracker?: string
  /** UDP port of the node's DHT node. */
  dhtPort?: number
  /** host:port this node advertises as the circle's DHT bootstrap. */
  bootstrap?: string
  /** With port mapping on: the router's forward of the peer port, null while there is none (docs/reach.md). */
  portMapping?: PortMapping | null
}

const nodeFile = (home: string) => join(home, 'node.json')

export async function writeNodeInfo(home: string, info: NodeInfo): Promise<void> {
  const tmp = `${nodeFile(home)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, nodeFile(home))
}

export async function removeNodeInfo(home: string): Promise<void> {
  await rm(nodeFile(home), { force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The node running on this home, or null (a stale file from a killed node is ignored). */
export async function runningNode(home: string): Promise<NodeInfo | null> {
  try {
    const info = JSON.parse(await readFile(nodeFile(home), 'utf8')) as NodeInfo
    return Number.isInteger(info.pid) && typeof info.api === 'string' && alive(info.pid) ? info : null
  } catch {
    return null
  }
}
