// A home router that speaks UPnP-IGD and NAT-PMP, in network namespaces:
// Debian's miniupnpd (2.3.1, iptables backend) in a router namespace between
// a LAN namespace (192.168.77.0/24, its default route through the router) and
// a WAN namespace (11.0.0.0/24). The router masquerades LAN traffic and
// drops unsolicited inbound packets; only what miniupnpd maps gets through.
//
// Why 11.0.0.1 as the router's WAN address: miniupnpd 2.3.1 refuses to map
// on a reserved or private external address (RFC 1918, 100.64/10, the
// TEST-NETs, 198.18/15 are all on its list; `ext_ip=` is checked the same way,
// and `ext_allow_private_ipv4` came in a later version). The address lives
// only inside namespaces this helper makes, which have no link to the host's
// network: nothing is sent to the real 11.0.0.0/8.
//
// miniupnpd 2.3.1 drives the legacy iptables tables (libiptc), so the chains
// it expects are made with iptables-legacy. Names are djpm-<pid>-<n>-*;
// everything is removed at teardown, and at process exit if a test dies.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { sh, shSync } from './wan-lab/sh.ts'
import { tempDir } from './temp.ts'
import { until } from './until.ts'

export const ROUTER_LAN = '192.168.77.1'
export const HOST_LAN = '192.168.77.2'
export const ROUTER_WAN = '11.0.0.1'
export const OUTSIDE = '11.0.0.2'

const TOOLS = ['ip', 'iptables-legacy', 'miniupnpd'] as const

function onPath(tool: string): boolean {
  return [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Why the router lab cannot run here, in one line; null when it can. */
export function upnpLabUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the UPnP lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the UPnP lab needs root (network namespaces, iptables)'
  const missing = TOOLS.filter((t) => !onPath(t))
  if (missing.length) return `the UPnP lab needs ${missing.join(', ')} (Debian iproute2, iptables, miniupnpd-iptables)`
  return null
}

export interface UpnpLab {
  lan: string
  router: string
  wan: string
  /** The router's NAT rules for mappings (`iptables-legacy -t nat -S MINIUPNPD`), one per line. */
  natRules(): Promise<string[]>
  /** Runs `cmd args` in a namespace, as a child process. */
  spawnIn(ns: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess
  /** miniupnpd's log so far (for failure messages). */
  log(): string
}

export interface UpnpLabOptions {
  /** miniupnpd permission rules before the final allow of the LAN (e.g. a deny of some internal ports). */
  rules?: string[]
}

let count = 0

export async function createUpnpLab(t: ExecutionContext, opts: UpnpLabOptions = {}): Promise<UpnpLab> {
  const id = `${process.pid}-${count++}`
  const ns = { lan: `djpm-${id}-lan`, router: `djpm-${id}-rtr`, wan: `djpm-${id}-wan` }
  // Interface names: at most 15 characters.
  const tag = `${process.pid.toString(36)}${count}`
  const ifs = { lan: `pl${tag}`, rlan: `pr${tag}`, wan: `pw${tag}`, rwan: `pv${tag}` }
  const children: ChildProcess[] = []
  const remove = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const n of Object.values(ns)) shSync('ip', ['netns', 'del', n])
  }
  process.once('exit', remove)
  t.teardown(async () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue
      c.kill('SIGTERM')
      await Promise.race([once(c, 'exit'), new Promise((r) => setTimeout(r, 5_000))])
    }
    remove()
    process.off('exit', remove)
  })

  const run = (n: string, ...args: string[]) => sh('ip', ['netns', 'exec', n, ...args])
  for (const n of Object.values(ns)) await sh('ip', ['netns', 'add', n])
  await sh('ip', ['link', 'add', ifs.lan, 'netns', ns.lan, 'type', 'veth', 'peer', 'name', ifs.rlan, 'netns', ns.router])
  await sh('ip', ['link', 'add', ifs.wan, 'netns', ns.wan, 'type', 'veth', 'peer', 'name', ifs.rwan, 'netns', ns.router])
  const up = async (n: string, dev: string, addr: string) => {
    await sh('ip', ['-n', n, 'addr', 'add', addr, 'dev', dev])
    await sh('ip', ['-n', n, 'link', 'set', dev, 'up'])
  }
  for (const n of Object.values(ns)) await sh('ip', ['-n', n, 'link', 'set', 'lo', 'up'])
  await up(ns.lan, ifs.lan, `${HOST_LAN}/24`)
  await up(ns.router, ifs.rlan, `${ROUTER_LAN}/24`)
  await up(ns.router, ifs.rwan, `${ROUTER_WAN}/24`)
  await up(ns.wan, ifs.wan, `${OUTSIDE}/24`)
  await sh('ip', ['-n', ns.lan, 'route', 'add', 'default', 'via', ROUTER_LAN])
  await run(ns.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
  const ipt = (...args: string[]) => run(ns.router, 'iptables-legacy', ...args)
  await ipt('-t', 'nat', '-N', 'MINIUPNPD')
  await ipt('-t', 'nat', '-A', 'PREROUTING', '-i', ifs.rwan, '-j', 'MINIUPNPD')
  await ipt('-t', 'nat', '-N', 'MINIUPNPD-POSTROUTING')
  await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', ifs.rwan, '-j', 'MINIUPNPD-POSTROUTING')
  await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', ifs.rwan, '-j', 'MASQUERADE')
  await ipt('-t', 'mangle', '-N', 'MINIUPNPD')
  await ipt('-N', 'MINIUPNPD')
  await ipt('-P', 'FORWARD', 'DROP')
  await ipt('-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
  await ipt('-A', 'FORWARD', '-i', ifs.rlan, '-o', ifs.rwan, '-j', 'ACCEPT')
  await ipt('-A', 'FORWARD', '-i', ifs.rwan, '-o', ifs.rlan, '-j', 'MINIUPNPD')
  // The router's own ports are closed to the outside (a connection to an unmapped port is refused).
  await ipt('-A', 'INPUT', '-i', ifs.rwan, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset')

  const dir = await tempDir(t, 'djpm-')
  const conf = join(dir, 'miniupnpd.conf')
  await writeFile(conf, [
    `ext_ifname=${ifs.rwan}`,
    `listening_ip=${ifs.rlan}`,
    'port=0',
    'enable_natpmp=yes',
    'enable_upnp=yes',
    'secure_mode=yes',
    'notify_interval=60',
    'clean_ruleset_interval=0',
    'uuid=3f1d2a10-0000-4000-8000-000000000001',
    ...(opts.rules ?? []),
    'allow 1024-65535 192.168.77.0/24 1024-65535',
    'deny 0-65535 0.0.0.0/0 0-65535',
  ].join('\n') + '\n')

  const spawnIn = (n: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const c = spawn('ip', ['netns', 'exec', n, cmd, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(c)
    return c
  }
  let log = ''
  const daemon = spawnIn(ns.router, 'miniupnpd', ['-d', '-f', conf, '-P', join(dir, 'miniupnpd.pid')])
  daemon.stdout!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-16_384)))
  daemon.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-16_384)))
  await until(async () => (log.includes('Listening for NAT-PMP') && log.includes('HTTP listening') ? true : undefined), 10_000, 20).catch(() => {
    throw new Error(`miniupnpd did not start: ${log}`)
  })

  return {
    ...ns,
    natRules: async () => (await run(ns.router, 'iptables-legacy', '-t', 'nat', '-S', 'MINIUPNPD')).split('\n').filter((l) => l.startsWith('-A')),
    spawnIn,
    log: () => log,
  }
}
