// djcloud devices in a WAN lab (docs/wan-lab.md): each a real `djcloud serve`
// in its lab host's namespace. Every namespace has its own ports, so every
// device takes djcloud's default ports (a device restarted comes back on the
// same address, as a real one does); the first device, the admin, runs the
// circle's tracker and DHT bootstrap on its own address and the others are
// given both. The test reaches a device's loopback-only API through the
// lab's forward(), and runs CLI commands inside the device's namespace.
import { firstLine } from './first-line.ts'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { readApiToken } from '../../src/player/index.ts'
import type { NodeInfo, NodeTimings } from '../../src/node/index.ts'
import type { Lab, LabHost, RunResult } from './wan-lab/index.ts'

const BIN = fileURLToPath(new URL('../../bin/djcloud.js', import.meta.url))
const PORTS = { peer: 7461, api: 7462, tracker: 7463, dht: 7464 } // djcloud's defaults (docs/cli.md)
const STOP_GRACE = 5_000 // ms

export interface LabDevice {
  name: string
  home: string
  host: LabHost
  info: NodeInfo
  /** The device's API as the test reaches it (http://127.0.0.1:PORT in the test's namespace). */
  api: string
  /**
   * A request to the device's API with its token. It goes by node:http with
   * the Host the node answers to (127.0.0.1:7462, its own address): fetch()
   * cannot set Host, and the API refuses other Hosts (DNS rebinding guard).
   */
  request(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<IncomingMessage>
  /** The node's stderr so far. */
  stderr(): string
  /** GET/POST on the device's API with its token: status and parsed JSON. */
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>
  /** `djcloud <args> --home HOME` in the device's namespace (through its running node). */
  cli(args: string[]): Promise<RunResult>
  /** Ends the node: SIGTERM (waited for), or SIGKILL for a crash of the node itself. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>
}

export interface LabCircleOptions {
  timings?: Partial<NodeTimings>
  /** Extra `serve` arguments for every device. */
  args?: string[]
  /** Extra environment (e.g. DEBUG=djcloud:swarm:* to trace one device). */
  env?: NodeJS.ProcessEnv
}

/** What the admin device advertises: members are started with these. */
export interface CircleServers {
  tracker: string
  bootstrap: string
}

/** Starts the admin device (tracker and bootstrap on its lab address); its servers are what members need. */
export async function startAdmin(lab: Lab, host: string, home: string, opts: LabCircleOptions = {}): Promise<{ device: LabDevice; servers: CircleServers }> {
  const h = lab.host(host)
  const device = await startLabDevice(lab, host, home, ['--tracker-port', String(PORTS.tracker), '--tracker-host', h.address], opts)
  return { device, servers: { tracker: device.info.tracker!, bootstrap: `${h.address}:${PORTS.dht}` } }
}

/** Starts a member device that finds its circle through `servers`. */
export function startMember(lab: Lab, host: string, home: string, servers: CircleServers, opts: LabCircleOptions = {}): Promise<LabDevice> {
  return startLabDevice(lab, host, home, ['--tracker', servers.tracker, '--bootstrap', servers.bootstrap], opts)
}

async function startLabDevice(lab: Lab, hostName: string, home: string, extra: string[], opts: LabCircleOptions): Promise<LabDevice> {
  const host = lab.host(hostName)
  const args = [BIN, 'serve', '--json', '--home', home, '--port', String(PORTS.peer), '--api-port', String(PORTS.api), '--dht-port', String(PORTS.dht), '--no-analyze', ...extra, ...(opts.args ?? [])]
  const env = { ...process.env, DJCLOUD_HOME: '', DJCLOUD_DEBUG: '1', ...(opts.timings ? { DJCLOUD_TIMINGS: JSON.stringify(opts.timings) } : {}), ...opts.env }
  const child: ChildProcess = host.spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-65536)))
  const exited = once(child, 'exit')
  const line = await firstLine(child, (code) => new Error(`${hostName}: djcloud serve exited (${code}): ${err}`))
  child.stdout!.resume()
  const info = JSON.parse(line) as NodeInfo
  const api = await host.forward(PORTS.api)
  const token = (await readApiToken(home))!
  const { port } = new URL(api)
  const request = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, setHost: false, headers: { host: `127.0.0.1:${PORTS.api}`, authorization: `Bearer ${token}`, ...headers } }, resolve)
      req.on('error', reject)
      req.end(body)
    })
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return
    // `serve` runs the node in a child of its own: a crash is a crash of the node.
    if (signal === 'SIGKILL') {
      try {
        process.kill(info.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE)
    await exited
    clearTimeout(timer)
  }
  return {
    name: hostName,
    home,
    host,
    info,
    api,
    stderr: () => err,
    stop,
    request: (method, path, headers = {}, body) => request(method, path, headers, body),
    call: async <T>(method: string, path: string, body?: unknown) => {
      const res = await request(method, path, body === undefined ? {} : { 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body))
      let text = ''
      for await (const chunk of res.setEncoding('utf8')) text += chunk as string
      return { status: res.statusCode!, json: JSON.parse(text) as T }
    },
    cli: (cliArgs) => host.run(process.execPath, [BIN, ...cliArgs, '--home', home], { env: { ...process.env, DJCLOUD_HOME: '' }, timeoutMs: 170_000 }),
  }
}

/** Resolves once `device` lists every device in `names` as linked (GET /api/devices). */
export async function devicesLinked(device: LabDevice, names: string[]): Promise<true | undefined> {
  const { json } = await device.call<{ devices: Array<{ name: string; online?: boolean }> }>('GET', '/api/devices')
  return names.every((n) => json.devices.some((d) => d.name === n)) ? true : undefined
}
