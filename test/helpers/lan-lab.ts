// One LAN segment of network namespaces, for tests that need real multicast
// (LAN discovery): a switch namespace with a bridge (multicast snooping off,
// so the group floods as on a plain switch) and hosts, each joined to it by
// a veth pair made inside the switch namespace (nothing is created in the
// test's own namespace). Host i is 10.201.0.<i+1>/24 on its eth0, with the
// multicast route on eth0; no router, no internet. Names are
// djlan-<pid>-<random>-<host>. destroy() stops every process started in the
// lab, then removes the namespaces; tests call it in teardown, so it runs on
// failure too.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { delimiter, join } from 'node:path'

export interface LanHost {
  name: string
  ns: string
  address: string
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess
  run(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>
}

export interface LanLab {
  hosts: LanHost[]
  host(name: string): LanHost
  destroy(): Promise<void>
}

/** Why a LAN lab cannot be built here (one line), or null. */
export function lanLabUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the LAN lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the LAN lab needs root (network namespaces)'
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
  const has = (tool: string) => dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
  const missing = ['ip', 'iptables'].filter((t) => !has(t))
  return missing.length ? `the LAN lab needs ${missing.join(', ')} (Debian iproute2, iptables)` : null
}

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)))
  })
}

export async function createLanLab(names: string[]): Promise<LanLab> {
  const id = `djlan-${process.pid}-${randomBytes(3).toString('hex')}`
  const sw = `${id}-sw`
  const made: string[] = []
  const procs = new Set<ChildProcess>()
  let destroying: Promise<void> | undefined
  const destroy = () =>
    (destroying ??= (async () => {
      await Promise.all(
        [...procs].map(async (p) => {
          if (p.exitCode !== null || p.signalCode !== null) return
          const exited = once(p, 'exit')
          p.kill('SIGTERM')
          const timer = setTimeout(() => p.kill('SIGKILL'), 5_000)
          await exited
          clearTimeout(timer)
        }),
      )
      // Anything still running in a namespace keeps it alive after `ip netns del`.
      for (const ns of made) {
        const pids = (await sh('ip', ['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean)
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL')
          } catch {
            // gone
          }
        }
      }
      for (const ns of made.reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => {})
    })())
  const hosts: LanHost[] = []
  try {
    await sh('ip', ['netns', 'add', sw])
    made.push(sw)
    const inSw = (...args: string[]) => sh('ip', ['-n', sw, ...args])
    await inSw('link', 'set', 'lo', 'up')
    await inSw('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    await inSw('link', 'set', 'br0', 'up')
    for (const [i, name] of names.entries()) {
      const ns = `${id}-${name}`
      const address = `10.201.0.${i + 1}`
      await sh('ip', ['netns', 'add', ns])
      made.push(ns)
      await inSw('link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await inSw('link', 'set', `p${i}`, 'master', 'br0')
      await inSw('link', 'set', `p${i}`, 'up')
      const inNs = (...args: string[]) => sh('ip', ['-n', ns, ...args])
      await inNs('link', 'set', 'lo', 'up')
      await inNs('addr', 'add', `${address}/24`, 'dev', 'eth0')
      await inNs('link', 'set', 'eth0', 'up')
      await inNs('route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      const spawnIn = (cmd: string, args: string[], o: SpawnOptions = {}): ChildProcess => {
        const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...o })
        procs.add(child)
        child.once('exit', () => procs.delete(child))
        return child
      }
      hosts.push({
        name,
        ns,
        address,
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
      })
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return {
    hosts,
    host: (name) => {
      const h = hosts.find((x) => x.name === name)
      if (!h) throw new Error(`no host ${name} in the LAN lab`)
      return h
    },
    destroy,
  }
}
