// Whether this machine can build a lab: root (namespaces, iptables, tc),
// the commands the lab runs, and the headers the delay line compiles
// against. Tests register as skipped with this reason in their title when it
// is not null.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const TOOLS = ['ip', 'tc', 'iptables', 'ethtool', 'gcc', 'tcpdump'] as const
const HEADER = '/usr/include/libnetfilter_queue/libnetfilter_queue.h' // Debian libnetfilter-queue-dev

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
  return dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Why a WAN lab cannot be built here, in one line; null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the WAN lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the WAN lab needs root (network namespaces, tc, iptables)'
  const missing = TOOLS.filter((t) => !onPath(t))
  if (missing.length) return `the WAN lab needs ${missing.join(', ')} (Debian iproute2, iptables, ethtool, gcc, tcpdump)`
  try {
    accessSync(HEADER, constants.R_OK)
  } catch {
    return 'the WAN lab needs libnetfilter-queue-dev (the delay line is built against it)'
  }
  return null
}
