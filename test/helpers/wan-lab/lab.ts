// A small WAN of network namespaces (docs/wan-lab.md): hosts joined through
// one router namespace by veth pairs; in the router each host's uplink is
// capped (its port's ingress redirected to an IFB with a tbf), a random
// share of forwarded packets is dropped (iptables statistic) and every
// forwarded packet is held for half the round trip (NFQUEUE to the
// delayer). A NAT is a router namespace attached to the core router as a
// host is, with its hosts on one bridged LAN behind it (MASQUERADE, and no
// unsolicited inbound). Nothing is created outside the lab's own namespaces:
// the links are made inside them, and the test reaches a host's ports
// through a unix socket (forward()).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDelayer } from './delayer.ts'
import { startCapture, type Capture } from './capture.ts'
import { buildNat } from './nat.ts'
import { offloadsOff, sh, shSync, stopProcess } from './sh.ts'

export interface HostSpec {
  /** Short name (letters, digits, -): the namespace is `<lab>-<name>`. */
  name: string
  /** The host's uplink in Mbit/s (what leaves it, counted in Ethernet frames as tbf does); none: uncapped. Not for a host behind a NAT: cap the NAT. */
  uplinkMbit?: number
  /** The NAT whose LAN the host is on; none: a public WAN host. */
  behind?: string
}

export interface NatSpec {
  /** Short name (letters, digits, -), distinct from every host's: the namespace is `<lab>-<name>`. */
  name: string
  /** cone: MASQUERADE (keeps the source port, so one mapping serves every peer); symmetric: MASQUERADE --random-fully (a new port per destination). */
  kind: 'cone' | 'symmetric'
  /** The NAT's uplink in Mbit/s, shared by every host behind it; none: uncapped. */
  uplinkMbit?: number
}

export interface LabOptions {
  hosts: HostSpec[]
  /** NAT routers; hosts name theirs in `behind`. */
  nats?: NatSpec[]
  /** Round trip between any two hosts in ms: each direction is held rttMs / 2 in the router. */
  rttMs: number
  /** Share of packets the router drops, in each direction, in percent (0-100). */
  lossPercent?: number
  /** Router buffer of a capped uplink, in ms at its rate (default 100). */
  bufferMs?: number
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface LabHost {
  name: string
  /** The host's network namespace. */
  ns: string
  /** Its one address (IPv4): a public host's is reachable from every host; a NATed host's is its LAN address (192.168.k.x). */
  address: string
  /** The NAT it is behind, if any. */
  behind?: string
  /** Starts `cmd args` in the host's namespace; the lab stops it at destroy() if it still runs. */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess
  /** Runs `cmd args` in the host's namespace to its end. */
  run(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>
  /** An http://127.0.0.1:PORT in the test's namespace that reaches 127.0.0.1:`port` in this host. */
  forward(port: number): Promise<string>
}

export interface LabNat {
  name: string
  kind: 'cone' | 'symmetric'
  /** The NAT router's namespace. */
  ns: string
  /** Its WAN address (10.200.<i>.2): what hosts behind it are seen from, and reached at, on the WAN. */
  publicAddress: string
  /** Its LAN address (192.168.<k>.1), the default route of the hosts behind it. */
  lanAddress: string
}

export interface Lab {
  id: string
  /** The router's namespace. */
  router: string
  hosts: LabHost[]
  nats: LabNat[]
  host(name: string): LabHost
  nat(name: string): LabNat
  /** Every namespace of the lab (router first, then hosts, then NATs). */
  namespaces(): string[]
  /** iptables counters of the router's rules for a public host or a NAT: packets forwarded from it and those dropped as loss. */
  counters(name: string): Promise<{ forwarded: number; dropped: number }>
  /** Takes the NAT's link to the core router down: its LAN is cut off from the WAN, its hosts still reach each other. */
  cutWan(nat: string): Promise<void>
  /** Brings the NAT's link to the core router back up. */
  restoreWan(nat: string): Promise<void>
  /**
   * A packet capture (tcpdump) in a host's or NAT's namespace, on `iface`
   * (default: the host's eth0, the NAT's wan0); resolves once tcpdump listens.
   */
  capture(name: string, opts?: { iface?: string }): Promise<Capture>
  /** Stops every process, then removes rules, IFBs, links and namespaces. Idempotent. */
  destroy(): Promise<void>
}

const PREFIX = 'djlab' // namespace names: djlab-<pid>-<random>-<host>
const NAME = /^[a-z0-9][a-z0-9-]{0,14}$/
const BRIDGE = fileURLToPath(new URL('./bridge.mjs', import.meta.url))
const FRAME = 1514 // bytes tbf counts for a full-size TCP segment on Ethernet

/** Router side p<i> 10.200.<i>.1/24, host (or NAT) side 10.200.<i>.2/24 (namespaces are separate: every lab uses the same). */
const hostAddress = (i: number) => `10.200.${i}.2`
const routerAddress = (i: number) => `10.200.${i}.1`
/** NAT k's LAN: 192.168.<k>.0/24, the NAT on .1, its hosts from .2 in the order given. */
const lanAddress = (k: number, j: number) => `192.168.${k}.${j}`

/** One link to the core router: a public host or a NAT, numbered 1.. (public hosts in the order given, then NATs). */
interface WanSlot {
  name: string
  ns: string
  /** The interface in `ns` facing the router. */
  dev: string
  uplinkMbit?: number
}

/** What a tbf of `mbit` carries as TCP payload (1448 of each 1514-byte frame), Mbit/s: a capped link's physical limit. */
export function payloadMbit(mbit: number): number {
  return (mbit * 1448) / FRAME
}

/** Builds the lab; on any failure removes what it made and rethrows. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  if (!opts.hosts.length) throw new Error('a lab needs hosts')
  const nats = opts.nats ?? []
  for (const h of opts.hosts) if (!NAME.test(h.name)) throw new Error(`bad lab host name "${h.name}"`)
  for (const n of nats) {
    if (!NAME.test(n.name)) throw new Error(`bad lab NAT name "${n.name}"`)
    if (n.kind !== 'cone' && n.kind !== 'symmetric') throw new Error(`NAT "${n.name}": kind must be cone or symmetric, not "${String(n.kind)}"`)
  }
  const names = [...opts.hosts, ...nats].map((x) => x.name)
  if (new Set(names).size !== names.length) throw new Error('lab host and NAT names must differ')
  if (names.includes('r')) throw new Error('"r" is the router\'s name in a lab')
  for (const h of opts.hosts) {
    if (h.behind === undefined) continue
    if (!nats.some((n) => n.name === h.behind)) throw new Error(`host "${h.name}" is behind "${h.behind}", which is no NAT of the lab`)
    if (h.uplinkMbit !== undefined) throw new Error(`host "${h.name}" is behind NAT "${h.behind}": its uplink cap goes on the NAT's uplinkMbit`)
  }
  const loss = opts.lossPercent ?? 0
  if (!(loss >= 0 && loss <= 100)) throw new Error(`bad loss ${loss}%`)
  if (!(opts.rttMs >= 0)) throw new Error(`bad RTT ${opts.rttMs} ms`)
  sweepDeadLabs()
  const id = `${PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`
  const lab = new WanLab(id, opts, await mkdtemp(join(tmpdir(), `${id}-`)))
  try {
    await lab.build()
  } catch (err) {
    await lab.destroy()
    throw err
  }
  return lab
}

class WanLab implements Lab {
  readonly router: string
  readonly hosts: LabHost[]
  readonly nats: LabNat[]
  /** What is linked to the core router: public hosts, then NATs; slot i is p<i>, ifb<i>, queue i, 10.200.<i>.0/24. */
  private readonly wan: WanSlot[]
  private readonly procs = new Set<ChildProcess>()
  private readonly servers = new Set<Server>()
  private delayer: ChildProcess | null = null
  private bridges = 0
  private captures = 0
  private destroying: Promise<void> | null = null
  private readonly onExit = () => removeNamespacesSync(this.namespaces())

  constructor(readonly id: string, private readonly opts: LabOptions, private readonly dir: string) {
    this.router = `${id}-r`
    const natSpecs = opts.nats ?? []
    const publicHosts = opts.hosts.filter((h) => h.behind === undefined)
    this.wan = [
      ...publicHosts.map((h) => ({ name: h.name, ns: `${id}-${h.name}`, dev: 'eth0', uplinkMbit: h.uplinkMbit })),
      ...natSpecs.map((n) => ({ name: n.name, ns: `${id}-${n.name}`, dev: 'wan0', uplinkMbit: n.uplinkMbit })),
    ]
    this.nats = natSpecs.map((n, k) => ({
      name: n.name,
      kind: n.kind,
      ns: `${id}-${n.name}`,
      publicAddress: hostAddress(publicHosts.length + k + 1),
      lanAddress: lanAddress(k + 1, 1),
    }))
    this.hosts = opts.hosts.map((h) => {
      if (h.behind === undefined) return this.makeHost(h.name, `${id}-${h.name}`, hostAddress(publicHosts.indexOf(h) + 1))
      const k = natSpecs.findIndex((n) => n.name === h.behind)
      const j = opts.hosts.filter((x) => x.behind === h.behind).indexOf(h)
      return this.makeHost(h.name, `${id}-${h.name}`, lanAddress(k + 1, j + 2), h.behind)
    })
    // If the process ends without destroy() (a crash, an ava timeout), the namespaces go with it.
    process.once('exit', this.onExit)
  }

  namespaces(): string[] {
    return [this.router, ...this.hosts.map((h) => h.ns), ...this.nats.map((n) => n.ns)]
  }

  host(name: string): LabHost {
    const h = this.hosts.find((x) => x.name === name)
    if (!h) throw new Error(`no lab host "${name}"`)
    return h
  }

  nat(name: string): LabNat {
    const n = this.nats.find((x) => x.name === name)
    if (!n) throw new Error(`no lab NAT "${name}"`)
    return n
  }

  async build(): Promise<void> {
    const r = this.router
    const ipR = (...a: string[]) => sh('ip', ['-n', r, ...a])
    const inR = (cmd: string, ...a: string[]) => sh('ip', ['netns', 'exec', r, cmd, ...a])
    for (const ns of this.namespaces()) {
      await sh('ip', ['netns', 'add', ns])
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      // IPv4 only: no router solicitations or DAD in the measurements.
      await sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
    }
    await inR('sysctl', '-qw', 'net.ipv4.ip_forward=1')
    const queues = new Map<number, number>()
    for (const [k, slot] of this.wan.entries()) {
      const i = k + 1
      const port = `p${i}`
      // Both ends are made inside the lab's namespaces: nothing appears in the test's own.
      await ipR('link', 'add', port, 'type', 'veth', 'peer', 'name', slot.dev, 'netns', slot.ns)
      await ipR('addr', 'add', `${routerAddress(i)}/24`, 'dev', port)
      await sh('ip', ['-n', slot.ns, 'addr', 'add', `${hostAddress(i)}/24`, 'dev', slot.dev])
      await ipR('link', 'set', port, 'up')
      await sh('ip', ['-n', slot.ns, 'link', 'set', slot.dev, 'up'])
      await sh('ip', ['-n', slot.ns, 'route', 'add', 'default', 'via', routerAddress(i)])
      // Offloads off: else the router sees 3-64 KB bundles and one loss drops a whole burst.
      await offloadsOff(r, port)
      await offloadsOff(slot.ns, slot.dev)
      if (slot.uplinkMbit !== undefined) await this.capUplink(i, slot.uplinkMbit)
      queues.set(i, this.opts.rttMs / 2)
    }
    for (const nat of this.nats) await buildNat(nat, this.hosts.filter((h) => h.behind === nat.name))
    // NFQUEUE fails closed: the delayer listens before any rule sends it packets.
    this.delayer = await startDelayer(r, queues)
    const loss = (this.opts.lossPercent ?? 0) / 100
    for (const i of queues.keys()) {
      // Loss first (its counter is what the self-test reads), then the delay line.
      // (At 0% too: the rule's counters are the lab's loss tally either way.)
      await inR('iptables', '-w', '-A', 'FORWARD', '-i', `p${i}`, '-m', 'statistic', '--mode', 'random', '--probability', String(loss), '-j', 'DROP')
      await inR('iptables', '-w', '-A', 'FORWARD', '-i', `p${i}`, '-j', 'NFQUEUE', '--queue-num', String(i))
    }
  }

  /** Slot i's uplink: what arrives on the router's p<i> goes through ifb<i>, whose tbf is the bottleneck. */
  private async capUplink(i: number, mbit: number): Promise<void> {
    if (!(mbit > 0)) throw new Error(`bad uplink ${mbit} Mbit/s`)
    const r = this.router
    const bytesPerSec = (mbit * 1e6) / 8
    const burst = Math.max(2 * FRAME, Math.round(bytesPerSec * 0.002)) // 2 ms of line rate
    const limit = Math.max(16 * FRAME, Math.round((bytesPerSec * (this.opts.bufferMs ?? 100)) / 1000))
    await sh('ip', ['-n', r, 'link', 'add', `ifb${i}`, 'type', 'ifb'])
    await sh('ip', ['-n', r, 'link', 'set', `ifb${i}`, 'up'])
    await offloadsOff(r, `ifb${i}`)
    const tc = (...a: string[]) => sh('ip', ['netns', 'exec', r, 'tc', ...a])
    await tc('qdisc', 'add', 'dev', `ifb${i}`, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'limit', String(limit))
    // This kernel has no `ingress` qdisc nor matchall: clsact with a match-all u32 does the redirect.
    await tc('qdisc', 'add', 'dev', `p${i}`, 'clsact')
    await tc('filter', 'add', 'dev', `p${i}`, 'ingress', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', `ifb${i}`)
  }

  private slot(name: string): number {
    const i = this.wan.findIndex((s) => s.name === name) + 1
    if (i === 0) {
      const h = this.hosts.find((x) => x.name === name)
      throw new Error(h ? `lab host "${name}" is behind NAT "${h.behind}": ask for the NAT` : `no lab host or NAT "${name}"`)
    }
    return i
  }

  async counters(name: string): Promise<{ forwarded: number; dropped: number }> {
    const i = this.slot(name)
    const out = await sh('ip', ['netns', 'exec', this.router, 'iptables', '-w', '-L', 'FORWARD', '-v', '-x', '-n'])
    let dropped = 0
    let queued = 0
    for (const line of out.split('\n')) {
      const f = line.trim().split(/\s+/)
      if (f[5] !== `p${i}`) continue // pkts bytes target prot opt in ...
      if (f[2] === 'DROP') dropped = Number(f[0])
      if (f[2] === 'NFQUEUE') queued = Number(f[0])
    }
    return { forwarded: queued, dropped }
  }

  async cutWan(nat: string): Promise<void> {
    // The router's end goes down: the NAT keeps its address and default route (a carrier loss, as an unplugged modem).
    await sh('ip', ['-n', this.router, 'link', 'set', `p${this.slot(this.nat(nat).name)}`, 'down'])
  }

  async restoreWan(nat: string): Promise<void> {
    const port = `p${this.slot(this.nat(nat).name)}`
    await sh('ip', ['-n', this.router, 'link', 'set', port, 'up'])
  }

  async capture(name: string, opts: { iface?: string } = {}): Promise<Capture> {
    const host = this.hosts.find((h) => h.name === name)
    const ns = host ? host.ns : this.nat(name).ns
    const iface = opts.iface ?? (host ? 'eth0' : 'wan0')
    return startCapture((args) => this.spawnIn(ns, 'tcpdump', args), iface, join(this.dir, `${name}-${++this.captures}.pcap`))
  }

  private spawnIn(ns: string, cmd: string, args: string[], o: SpawnOptions = {}): ChildProcess {
    if (this.destroying) throw new Error('the lab is being destroyed')
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...o })
    this.procs.add(child)
    child.once('exit', () => this.procs.delete(child))
    return child
  }

  private makeHost(name: string, ns: string, address: string, behind?: string): LabHost {
    const spawnIn = (cmd: string, args: string[], o: SpawnOptions = {}): ChildProcess => this.spawnIn(ns, cmd, args, o)
    return {
      name,
      ns,
      address,
      ...(behind === undefined ? {} : { behind }),
      spawn: spawnIn,
      run: async (cmd, args, o = {}) => {
        const child = spawnIn(cmd, args, { env: o.env ?? process.env })
        let stdout = ''
        let stderr = ''
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
        const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : null
        const [code] = (await once(child, 'exit')) as [number | null]
        if (timer) clearTimeout(timer)
        return { code, stdout, stderr }
      },
      forward: async (port) => {
        const socketPath = join(this.dir, `${name}-${port}-${++this.bridges}.sock`) // a new one per call: a restarted device is forwarded again
        const bridge = spawnIn(process.execPath, [BRIDGE, socketPath, String(port)])
        await new Promise<void>((resolve, reject) => {
          bridge.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve())
          bridge.once('exit', (code) => reject(new Error(`bridge to ${name}:${port} exited (${code})`)))
        })
        const server = createServer((a) => {
          const b = connect(socketPath)
          a.pipe(b).pipe(a)
          a.on('error', () => b.destroy())
          b.on('error', () => a.destroy())
        })
        this.servers.add(server)
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        return `http://127.0.0.1:${(server.address() as { port: number }).port}`
      },
    }
  }

  destroy(): Promise<void> {
    return (this.destroying ??= this.teardown())
  }

  private async teardown(): Promise<void> {
    // 1. Processes: a namespace outlives `ip netns del` while anything runs in it.
    await Promise.all([...this.procs].map((p) => stopProcess(p)))
    for (const s of this.servers) s.close()
    for (const ns of this.namespaces()) killNamespacePids(ns)
    // 2. Rules (the router's, each NAT's filter and nat tables), then the delay line they feed
    //    (NFQUEUE without a listener would drop, but nothing sends any more).
    const r = this.router
    const present = new Set(listNamespaces())
    for (const ns of [r, ...this.nats.map((n) => n.ns)]) {
      if (!present.has(ns)) continue
      for (const table of ns === r ? ['filter'] : ['filter', 'nat']) {
        await sh('ip', ['netns', 'exec', ns, 'iptables', '-w', '-t', table, '-F']).catch(() => {})
        await sh('ip', ['netns', 'exec', ns, 'iptables', '-w', '-t', table, '-X']).catch(() => {})
      }
    }
    if (this.delayer) await stopProcess(this.delayer)
    // 3. IFBs, veth pairs (deleting one end removes both) and bridges, then the namespaces.
    if (present.has(r)) {
      for (let i = 1; i <= this.wan.length; i++) {
        await sh('ip', ['-n', r, 'link', 'del', `ifb${i}`]).catch(() => {})
        await sh('ip', ['-n', r, 'link', 'del', `p${i}`]).catch(() => {})
      }
    }
    for (const nat of this.nats) {
      if (!present.has(nat.ns)) continue
      const lans = this.hosts.filter((h) => h.behind === nat.name).length
      for (let j = 1; j <= lans; j++) await sh('ip', ['-n', nat.ns, 'link', 'del', `l${j}`]).catch(() => {})
      await sh('ip', ['-n', nat.ns, 'link', 'del', 'br0']).catch(() => {})
    }
    for (const ns of this.namespaces()) if (present.has(ns)) await sh('ip', ['netns', 'del', ns]).catch(() => {})
    process.removeListener('exit', this.onExit)
    await rm(this.dir, { recursive: true, force: true })
    const left = listNamespaces().filter((ns) => ns.startsWith(this.id + '-'))
    if (left.length) throw new Error(`lab ${this.id}: namespaces left after teardown: ${left.join(' ')}`)
  }
}

/** The lab namespaces that exist now. */
export function listNamespaces(): string[] {
  return shSync('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(PREFIX + '-'))
}

function killNamespacePids(ns: string): void {
  for (const pid of shSync('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Kills what runs in the namespaces and deletes them, synchronously (the process is exiting). */
function removeNamespacesSync(namespaces: string[]): void {
  for (const ns of namespaces) killNamespacePids(ns)
  for (const ns of namespaces) shSync('ip', ['netns', 'del', ns])
}

/** Labs of processes that died without cleaning up (a SIGKILLed test worker): their pid is in the name. */
function sweepDeadLabs(): void {
  const dead = listNamespaces().filter((ns) => {
    const pid = Number(ns.split('-')[1])
    if (!pid || pid === process.pid) return false
    try {
      process.kill(pid, 0)
      return false
    } catch {
      return true
    }
  })
  if (dead.length) removeNamespacesSync(dead)
}
