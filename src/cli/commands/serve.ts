import { resolveHome } from '../../home.ts'
import { DEFAULT_PORTS, DEFAULT_TIMINGS, runningNode, startNode, type Address, type NodeTimings } from '../../node/index.ts'
import { UsageError, type Command } from '../command.ts'
import { parseHostPort } from '../../manifest/index.ts'
import { parseSize } from './cache.ts'
import type { PortMapperOptions } from '../../reach/index.ts'
import { isIP } from 'node:net'
import { readFile } from 'node:fs/promises'
import { apiTls, PlayerError, type ApiTlsInput } from '../../player/index.ts'

function port(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0-65535)`)
  return n
}

function address(text: string): Address {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text)
  if (!m) throw new UsageError(`--peer wants HOST:PORT, not "${text}"`)
  return { host: m[1]!, port: Number(m[2]) }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run this device\'s node: the swarm, manifests over the DHT, the local API and, when this device serves the circle, its tracker and bootstrap node.',
  usage: '[--port N] [--listen ADDR] [--tls-cert FILE --tls-key FILE] [--subsonic] [--tracker URL]... [--bootstrap HOST:PORT]... [--peer HOST:PORT]... [--no-port-mapping] [--no-webrtc] [--no-friend-links] [--relay | --no-relay] [--json]',
  details:
    `Ports: peers ${DEFAULT_PORTS.peer} (TCP) on all interfaces, the local API ${DEFAULT_PORTS.api} on 127.0.0.1, the\n` +
    `embedded tracker ${DEFAULT_PORTS.tracker} (an admin device runs it unless the roster or --tracker names one), and\n` +
    `the DHT ${DEFAULT_PORTS.dht} (UDP; on the admin device that serves the circle it is the circle's bootstrap node).\n` +
    'The router is asked to forward the peer port (UPnP-IGD or NAT-PMP) unless --no-port-mapping.\n' +
    'With --tls-cert and --tls-key the API and web UI speak HTTPS (a phone\'s browser then can pair as a device);\n' +
    'the certificate must be one the phone trusts (mkcert\'s, `tailscale cert`, a real domain\'s): see docs/ui.md.\n' +
    'WebRTC offers from own devices (browsers) are answered through the circle\'s trackers unless --no-webrtc.\n' +
    'While the node runs, other commands for this home go through it. Stop it with Ctrl-C.',
  options: {
    port: { type: 'string', value: 'N', description: `peer port (default ${DEFAULT_PORTS.peer}; 0 = any free port)` },
    'api-port': { type: 'string', value: 'N', description: `local API port (default ${DEFAULT_PORTS.api})` },
    listen: { type: 'string', value: 'ADDR', description: 'serve the API on ADDR too (remote access: every request needs the token)' },
    'tls-cert': { type: 'string', value: 'FILE', description: 'serve the API and web UI over HTTPS with this certificate (PEM, the chain after it), with --tls-key' },
    'tls-key': { type: 'string', value: 'FILE', description: 'the certificate\'s private key (PEM, unencrypted), with --tls-cert' },
    tracker: { type: 'string', multiple: true, value: 'URL', description: 'announce to this tracker as well (https://; its TLS key must be a device on the roster)' },
    'tracker-port': { type: 'string', value: 'N', description: `embedded tracker port (default ${DEFAULT_PORTS.tracker})` },
    'tracker-host': { type: 'string', value: 'ADDR', description: 'address the embedded tracker binds and advertises (default all interfaces, advertised as the LAN address)' },
    'no-tracker': { type: 'boolean', description: 'do not run the embedded tracker' },
    peer: { type: 'string', multiple: true, value: 'HOST:PORT', description: 'dial this device directly' },
    bootstrap: { type: 'string', multiple: true, value: 'HOST:PORT', description: 'join the DHT through this node as well as the roster\'s' },
    'dht-port': { type: 'string', value: 'N', description: `DHT port, UDP (default ${DEFAULT_PORTS.dht}; 0 = any free port)` },
    'no-lan-discovery': { type: 'boolean', description: 'do not announce this device to, nor listen for, own devices on the LAN (UDP multicast 239.192.74.65:7465, sealed with the circle secret)' },
    'no-friend-links': { type: 'boolean', description: 'never link with friends\' devices (they do not learn this device\'s address): shared playlists and their streams stop; collaborative edits travel over the DHT alone' },
    'no-dht': { type: 'boolean', description: 'run no DHT node (manifests then travel only between linked devices)' },
    'no-analyze': { type: 'boolean', description: 'do not analyse new tracks in the background (djcloud analyze still works)' },
    'peer-host': { type: 'string', value: 'ADDR', description: 'address for the peer port (default all interfaces)' },
    relay: { type: 'boolean', description: 'relay links between own devices that cannot reach each other (default on an admin device)' },
    'no-relay': { type: 'boolean', description: 'relay nothing, also on an admin device' },
    'relay-friends': { type: 'string', value: 'SIZE', description: 'with relaying on: relay up to SIZE a day (e.g. 2GB) for each friend\'s devices reaching this circle (default none)' },
    json: { type: 'boolean', description: 'print the node\'s addresses as one JSON line' },
    'no-port-mapping': { type: 'boolean', description: 'do not ask the router (UPnP-IGD or NAT-PMP) to forward the peer port' },
    'port-mapping-gateway': { type: 'string', value: 'HOST[:PORT]', description: 'ask this NAT-PMP gateway (default: the default route\'s gateway, and UPnP routers found by SSDP)' },
    'no-webrtc': { type: 'boolean', description: 'keep no WebSocket announce at the trackers and answer no WebRTC offers (browser devices then cannot link to this one)' },
    subsonic: { type: 'boolean', description: 'serve the Subsonic / OpenSubsonic API at /rest/ for phone apps (sign-ins: "djcloud apps add NAME")' },
    'no-page-token': { type: 'boolean', description: 'never put the API token in the web page, also for browsers on this machine (a machine other people use): every browser asks for it once' },
  },
  async run({ values, stdout, stderr, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const tls = await tlsFiles(values['tls-cert'] as string | undefined, values['tls-key'] as string | undefined)
    const other = await runningNode(home)
    if (other) throw new Error(`a node already runs on this home (pid ${other.pid}, ${other.api})`)
    const node = await startNode({
      home,
      peerPort: port(values.port, '--port'),
      peerHost: values['peer-host'] as string | undefined,
      apiPort: port(values['api-port'], '--api-port'),
      apiHost: values.listen as string | undefined,
      ...(tls ? { apiTls: tls } : {}),
      trackers: values.tracker as string[] | undefined,
      peers: ((values.peer as string[] | undefined) ?? []).map(address),
      bootstrap: ((values.bootstrap as string[] | undefined) ?? []).map((b) => {
        try {
          parseHostPort(b)
        } catch (err) {
          throw new UsageError(`--bootstrap: ${(err as Error).message}`)
        }
        return b
      }),
      lanDiscovery: values['no-lan-discovery'] !== true,
      dht: values['no-dht'] ? false : { port: port(values['dht-port'], '--dht-port') },
      analyze: values['no-analyze'] !== true,
      friendLinks: values['no-friend-links'] !== true,
      relay: values.relay === true ? true : values['no-relay'] === true ? false : undefined,
      relayFriendBytes: values['relay-friends'] === undefined ? undefined : parseSize(values['relay-friends'] as string),
      pageToken: values['no-page-token'] !== true,
      portMapping: portMapping(values['no-port-mapping'] === true, values['port-mapping-gateway'] as string | undefined),
      subsonic: values.subsonic === true,
      webrtc: values['no-webrtc'] !== true,
      tracker: values['no-tracker']
        ? false
        : values['tracker-port'] !== undefined || values['tracker-host'] !== undefined
          ? {
              port: port(values['tracker-port'], '--tracker-port'),
              host: values['tracker-host'] as string | undefined,
              advertise: values['tracker-host'] as string | undefined,
            }
          : undefined,
      timings: timingsFromEnv(env),
      onWarning: (err) => {
        if (env.DJCLOUD_DEBUG) stderr.write(`warning: ${err.message}\n`)
      },
    })
    if (env.DJCLOUD_DEBUG) {
      node.swarm.on('refused', (host, reason) => stderr.write(`refused ${host}: ${reason}\n`))
      node.swarm.on('device', (l) => stderr.write(`device ${l.name} ${l.host}:${l.peerPort}\n`))
      node.swarm.on('device-gone', (l) => stderr.write(`device gone ${l.name} ${l.host}:${l.peerPort}\n`))
      node.swarm.on('friend', (l) => stderr.write(`friend ${l.name} ${l.host}:${l.peerPort}\n`))
    }
    if (values.json) stdout.write(JSON.stringify(node.info) + '\n')
    else {
      stdout.write(`djcloud node running (pid ${process.pid})\n  peers     port ${node.info.peerPort}\n  local API ${node.info.api}\n`)
      const tlsName = node.api.tls?.pageName
      if (tlsName) stdout.write(`  web UI    https://${tlsName}:${new URL(node.info.api).port}/ (the certificate's name)\n`)
      if (node.info.tracker) stdout.write(`  tracker   ${node.info.tracker}\n`)
      const m = node.info.portMapping
      if (m) stdout.write(`  mapped    ${m.externalHost}:${m.externalPort} (${m.protocol})\n`)
      if (node.info.dhtPort !== undefined) stdout.write(`  DHT       port ${node.info.dhtPort} (UDP)${node.info.bootstrap ? `, the circle's bootstrap node at ${node.info.bootstrap}` : ''}\n`)
      stdout.write('Press Ctrl-C to stop.\n')
    }
    // The handlers stay until the node has closed: a second signal while it
    // closes (a repeated Ctrl-C, a supervisor's retry) must not cut the close
    // short by the default action (exit 143 with the port mapping left behind).
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      await stopped
      await node.close()
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  },
}

/**
 * --tls-cert and --tls-key, read and checked before anything starts: both or
 * neither (usage), and a file that cannot be read or a pair that cannot serve
 * HTTPS is a one-line error naming the file.
 */
async function tlsFiles(certFile: string | undefined, keyFile: string | undefined): Promise<ApiTlsInput | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined
  if (certFile === undefined || keyFile === undefined) throw new UsageError(`--tls-cert and --tls-key go together: ${certFile === undefined ? '--tls-cert' : '--tls-key'} is missing`)
  const read = async (file: string, flag: string) => {
    try {
      return await readFile(file)
    } catch (err) {
      throw new Error(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const input = { cert: await read(certFile, '--tls-cert'), key: await read(keyFile, '--tls-key') }
  try {
    apiTls(input)
  } catch (err) {
    if (err instanceof PlayerError) throw new Error(`--tls-cert ${certFile} --tls-key ${keyFile}: ${err.message}`)
    throw err
  }
  return input
}

/** On unless `--no-port-mapping`; `--port-mapping-gateway` names the NAT-PMP gateway (UPnP is then not searched). */
function portMapping(off: boolean, gateway: string | undefined): boolean | PortMapperOptions {
  if (off) return false
  if (gateway === undefined) return true
  const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(gateway)
  const host = m?.[1] ?? ''
  if (!m || isIP(host) !== 4) throw new UsageError(`--port-mapping-gateway wants an IPv4 address, optionally with :PORT, not "${gateway}"`)
  return { gateway: host, ...(m[2] !== undefined ? { gatewayPort: port(m[2], '--port-mapping-gateway') } : {}) }
}

/**
 * Timings from the environment, for tests and benchmarks that run nodes as
 * processes: DJCLOUD_TIMINGS is a JSON object of NodeTimings fields (ms);
 * DJCLOUD_BACKUP_POLL_MS sets the backup poll alone.
 */
export function timingsFromEnv(env: NodeJS.ProcessEnv): Partial<NodeTimings> {
  const out: Partial<NodeTimings> = {}
  if (env.DJCLOUD_TIMINGS) {
    let parsed: unknown
    try {
      parsed = JSON.parse(env.DJCLOUD_TIMINGS)
    } catch {
      throw new UsageError('DJCLOUD_TIMINGS: not JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('DJCLOUD_TIMINGS: a JSON object of milliseconds')
    for (const [k, v] of Object.entries(parsed)) {
      if (!(k in DEFAULT_TIMINGS)) throw new UsageError(`DJCLOUD_TIMINGS: unknown timing "${k}" (${Object.keys(DEFAULT_TIMINGS).join(', ')})`)
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new UsageError(`DJCLOUD_TIMINGS: ${k} must be a positive whole number of ms`)
      out[k as keyof NodeTimings] = v
    }
  }
  const poll = Number(env.DJCLOUD_BACKUP_POLL_MS)
  if (poll > 0) out.backupPoll = poll
  return out
}
