// A real `djcloud serve` in a child process, with its --json line parsed.
import { firstLine } from './first-line.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'
import { BIN } from './cli.ts'
import { until } from './until.ts'
import type { NodeInfo, NodeTimings } from '../../src/node/index.ts'

export interface NodeProcess {
  child: ChildProcess
  info: NodeInfo
  stderr: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface ServeOptions {
  analyze?: boolean
  /** Leave LAN discovery on (off by default: test nodes on one machine would all hear each other's multicast). */
  lan?: boolean
  timings?: Partial<NodeTimings>
  /** More environment for the node (e.g. DEBUG=djcloud:... to trace a part). */
  env?: Record<string, string>
}

/**
 * Starts `djcloud serve` on loopback with ports from the OS. LAN discovery
 * is off unless `lan` is set, background analysis unless `analyze` is: it would load every test's
 * machine with work the test is not about. `timings` (ms) go to the node as
 * DJCLOUD_TIMINGS, over any the test's environment sets.
 */
export async function serveNode(t: ExecutionContext, home: string, args: string[], opts: ServeOptions = {}): Promise<NodeProcess> {
  const base = ['serve', '--json', '--port', '0', '--api-port', '0', '--peer-host', '127.0.0.1', '--dht-port', '0', ...(opts.lan ? [] : ['--no-lan-discovery']), ...(opts.analyze ? [] : ['--no-analyze'])]
  const envTimings = process.env.DJCLOUD_TIMINGS ? (JSON.parse(process.env.DJCLOUD_TIMINGS) as Partial<NodeTimings>) : {}
  // Links ping each second (not 15 s): on a machine loaded by other tests a loopback link's first
  // samples can say one holder is "farther" than another, and nearest first would then idle it.
  const timings = { rttPing: 1_000, ...envTimings, ...opts.timings }
  const child = spawn(process.execPath, [BIN, ...base, ...args], {
    env: { ...process.env, ...opts.env, DJCLOUD_HOME: home, DJCLOUD_DEBUG: '1', ...(Object.keys(timings).length ? { DJCLOUD_TIMINGS: JSON.stringify(timings) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = once(child, 'exit')
  let nodePid: number | undefined // the node's own process (serve runs it in a child)
  const killNode = () => {
    try {
      if (nodePid) process.kill(nodePid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    // A crash is a crash of the node itself, not only of the process that started it.
    if (signal === 'SIGKILL') killNode()
    child.kill(signal)
    const [code] = await exited
    // SIGKILL lands asynchronously: a node started next on this home must not see this one alive.
    if (signal === 'SIGKILL' && nodePid) await until(async () => (pidAlive(nodePid!) ? undefined : true), 5_000, 20)
    return code as number | null
  }
  // `serve` runs the node in a child of its own (bin/djcloud.js): stop it
  // gracefully so nothing writes into the home while the test removes it;
  // kill both if that takes too long.
  t.teardown(async () => {
    const timer = setTimeout(() => {
      killNode()
      child.kill('SIGKILL')
    }, 5_000)
    await stop('SIGTERM')
    clearTimeout(timer)
  })
  const line = await firstLine(child, (code) => new Error(`djcloud serve exited with ${code}: ${err}`))
  const info = JSON.parse(line) as NodeInfo
  nodePid = info.pid
  return { child, info, stderr: () => err, stop }
}

/** `err` with each node's stderr below it under its label (`ALEX`, `FIONA`): what a wait that timed out shows, to see why. */
export function withLogs(err: Error, nodes: Record<string, NodeProcess>): Error {
  return new Error([err.message, ...Object.entries(nodes).map(([label, n]) => `${label}\n${n.stderr()}`)].join('\n'))
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
