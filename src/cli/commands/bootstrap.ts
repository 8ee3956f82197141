import { isIPv4 } from 'node:net'
import { networkInterfaces } from 'node:os'
import { ensureDir, resolveHome } from '../../home.ts'
import { parseHostPort } from '../../manifest/index.ts'
import { bootstrapStatePath, DEFAULT_BOOTSTRAP_PORT, startBootstrapNode } from '../../../bootstrap/index.ts'
import { UsageError, type Command } from '../command.ts'

const DEFAULT_HOST = '0.0.0.0'

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_BOOTSTRAP_PORT
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be 0-65535, not "${text}"`)
  return Number(text)
}

function parseHost(text: string | undefined): string {
  if (text === undefined) return DEFAULT_HOST
  // bittorrent-dht's socket is udp4 and its node lists are IPv4-only.
  if (!isIPv4(text)) throw new UsageError(`--host must be an IPv4 address (the DHT runs over UDP/IPv4), not "${text}"`)
  return text
}

function parsePeers(list: string[] | undefined): string[] {
  for (const p of list ?? []) {
    try {
      parseHostPort(p)
    } catch (err) {
      throw new UsageError(`--peer: ${(err as Error).message}`)
    }
  }
  return list ?? []
}

/** Addresses other devices can use: every IPv4 interface's for a wildcard bind, else the one given. */
function reachableHosts(host: string): string[] {
  if (host !== DEFAULT_HOST) return [host]
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') out.push(a.address)
  }
  return out.length ? out : ['127.0.0.1']
}

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  summary: 'Run a DHT bootstrap node: devices join the DHT through it and it stores their signed pointers.',
  usage: '[--port N] [--host ADDR] [--peer HOST:PORT]... [--json]',
  details:
    'A plain BitTorrent DHT node (BEP 5, BEP 44) at an address your devices know (the roster\'s bootstrap\n' +
    'list). It needs no identity: the items it stores are signed by their publishers and checked by readers.\n' +
    'Its node id and routing table are kept in <home>/dht-bootstrap.json (saved every minute and on exit),\n' +
    'so after a restart it still knows the network. UDP over IPv4 only.\n' +
    'Stops on Ctrl+C or SIGTERM. Set DJCLOUD_DEBUG to print warnings about malformed packets.',
  options: {
    port: { type: 'string', value: 'N', description: `UDP port (default ${DEFAULT_BOOTSTRAP_PORT}; 0 picks a free one)` },
    host: { type: 'string', value: 'ADDR', description: `IPv4 address to listen on (default ${DEFAULT_HOST}: every interface)` },
    peer: { type: 'string', multiple: true, value: 'HOST:PORT', description: 'another bootstrap node to join' },
    json: { type: 'boolean', description: 'print the addresses as one JSON line once listening' },
  },
  async run({ values, stdout, stderr, env }) {
    const port = parsePort(values.port as string | undefined)
    const host = parseHost(values.host as string | undefined)
    const peers = parsePeers(values.peer as string[] | undefined)
    const home = resolveHome(values.home as string | undefined, env)
    await ensureDir(home)
    const stateFile = bootstrapStatePath(home)

    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    // On (not once) until the node has closed and saved its table: a second signal must not cut that short.
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      const node = await startBootstrapNode({
        port,
        host,
        stateFile,
        bootstrap: peers,
        onWarning: (err) => {
          if (env.DJCLOUD_DEBUG) stderr.write(`djcloud bootstrap: warning: ${err.message}\n`)
        },
      })
      try {
        const addresses = reachableHosts(host).map((h) => `${h}:${node.port}`)
        if (values.json) stdout.write(JSON.stringify({ port: node.port, host, addresses }) + '\n')
        else {
          stdout.write(
            [
              `djcloud bootstrap node on UDP port ${node.port}`,
              '',
              'Devices join the DHT through:',
              ...addresses.map((a) => `  ${a}`),
              `Routing table: ${stateFile} (${node.nodeCount()} node${node.nodeCount() === 1 ? '' : 's'} known)`,
              '',
              'Stop with Ctrl+C.',
              '',
            ].join('\n'),
          )
        }
        await stopped
      } finally {
        await node.close()
      }
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    if (!values.json) stdout.write('Bootstrap node stopped; routing table saved.\n')
    return 0
  },
}
