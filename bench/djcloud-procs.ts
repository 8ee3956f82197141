// The djcloud processes the ui and gig benchmarks start: `djcloud serve` on
// 127.0.0.1 with ports from the OS (analysis off: it would load the two cores
// while timing), and one-shot commands.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from './common.ts'
import { startService, type Service } from './swarm/procs.ts'

const BIN = join(REPO, 'bin/djcloud.js')

/** What `djcloud serve --json` prints. */
export interface ServedNode {
  pid: number
  api: string
  tracker?: string
  dhtPort?: number
  bootstrap?: string
}

export function serveNode(name: string, home: string, extra: string[]): Promise<Service<ServedNode>> {
  const args = [BIN, 'serve', '--json', '--home', home, '--port', '0', '--api-port', '0', '--peer-host', '127.0.0.1', '--dht-port', '0', '--no-analyze', '--no-lan-discovery', ...extra] // loopback-bound: the LAN is not theirs
  return startService<ServedNode>(name, process.execPath, args, REPO, 60_000)
}

/** A djcloud command with --json on a home; its stdout, or an error with its stderr. */
export function djcloud(home: string, args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args, '--home', home, '--json'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout
}
