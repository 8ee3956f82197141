import { networkInterfaces } from 'node:os'
import { resolveHome } from '../../home.ts'
import { formatId, loadIdentity, type Identity } from '../../identity/index.ts'
import { trackerKeyTrusted } from '../../swarm/index.ts'
import { createAdmissionTracker, loadOrCreateTrackerToken, trackerTokenPath, type AdmissionTracker } from '../../../tracker/index.ts'
import { UsageError, type Command } from '../command.ts'

/** The BitTorrent tracker convention; another tracker on the same box needs --port. */
export const DEFAULT_TRACKER_PORT = 6969
const DEFAULT_HOST = '0.0.0.0'
const ROSTER_POLL = 5_000 // ms between checks for a newer roster in the home

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TRACKER_PORT
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be 0-65535, not "${text}"`)
  return Number(text)
}

/** Addresses other devices can use: every interface's for a wildcard bind, else the one given. */
function reachableHosts(host: string): string[] {
  const wildcard = host === '0.0.0.0' || host === '::'
  if (!wildcard) return [host]
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' || (host === '::' && a.family === 'IPv6' && !a.address.startsWith('fe80:'))) out.push(a.address)
    }
  }
  return out.length ? out : ['127.0.0.1']
}

const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h)

/**
 * Why devices would refuse this tracker, or undefined: they accept it only
 * when its TLS key (this device's key) is a device on their roster, not revoked.
 */
function notServable(id: Identity): string | undefined {
  if (trackerKeyTrusted(id.roster, id.device.publicKey)) return undefined
  const state = id.roster.revoked.some((k) => Buffer.from(k).equals(id.device.publicKey)) ? 'is revoked' : 'is not on the roster'
  return `this device ("${id.certificate.name}") ${state}: the tracker's TLS key is this device's key, and devices accept the tracker only when that key is a device of their roster`
}

export const trackerCommand: Command = {
  name: 'tracker',
  summary: "Run this circle's admission tracker: only your own and your friends' devices get peers.",
  usage: '[--port N] [--host ADDR] [--json]',
  details:
    'Serves HTTPS and WSS announces (TLS 1.3 only, no UDP: it cannot carry the signed proof). Its\n' +
    'certificate is self-signed with this device\'s key; devices accept it because that key is on\n' +
    'their roster. Plain-HTTP announces (older djclouds) get a failure reason asking for an update.\n' +
    'An announce is\n' +
    'admitted only with a certificate of one of your devices or a friend\'s, a fresh timestamp, an\n' +
    'unseen nonce and a valid signature; anything else gets a failure reason and no peers.\n' +
    'GET /stats.json shows counts; with "Authorization: Bearer <token>" (the token is in\n' +
    '<home>/tracker-token, made on first run) it also lists infohashes.\n' +
    'A newer roster in the home (trust revoke, trust add) is picked up within seconds, or at once on SIGHUP.\n' +
    'Stops on Ctrl+C or SIGTERM. Set DJCLOUD_DEBUG to print warnings about malformed requests.',
  options: {
    port: { type: 'string', value: 'N', description: `port for HTTPS and WSS announces (default ${DEFAULT_TRACKER_PORT}; 0 picks a free one)` },
    host: { type: 'string', value: 'ADDR', description: `address to listen on (default ${DEFAULT_HOST}: every IPv4 interface; "::" for IPv6 too)` },
    json: { type: 'boolean', description: 'print the URLs as one JSON line once listening' },
  },
  async run({ values, stdout, stderr, env }) {
    const port = parsePort(values.port as string | undefined)
    const host = (values.host as string | undefined) ?? DEFAULT_HOST
    const home = resolveHome(values.home as string | undefined, env)
    const id = await loadIdentity(home)
    const refused = notServable(id)
    if (refused) {
      stderr.write(`djcloud tracker: ${refused}. Run the tracker on a device of the circle.\n`)
      return 1
    }
    const token = await loadOrCreateTrackerToken(home)
    const tracker: AdmissionTracker = createAdmissionTracker({ roster: id.roster, token, deviceSeed: id.device.seed })
    tracker.on('warning', (err: Error) => {
      if (env.DJCLOUD_DEBUG) stderr.write(`djcloud tracker: warning: ${err.message}\n`)
    })

    let reloading = false
    let lastReloadError = ''
    const reload = async () => {
      if (reloading) return
      reloading = true
      try {
        const latest = await loadIdentity(home)
        if (latest.roster.seq > tracker.roster.seq) {
          const gone = notServable(latest)
          if (gone) {
            // Nobody would accept this tracker any more: say why and stop.
            stderr.write(`djcloud tracker: stopping: ${gone}.\n`)
            exitCode = 1
            stop()
            return
          }
          tracker.setRoster(latest.roster)
          if (!values.json) stdout.write(`Now serving roster version ${latest.roster.seq}.\n`)
        }
        lastReloadError = ''
      } catch (err) {
        const msg = (err as Error).message
        if (msg !== lastReloadError) stderr.write(`djcloud tracker: keeping roster version ${tracker.roster.seq}: ${msg}\n`)
        lastReloadError = msg
      } finally {
        reloading = false
      }
    }

    let exitCode = 0
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    const onHup = () => void reload()
    // On (not once) until the tracker has closed: a second signal while it closes must not kill it midway.
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    process.on('SIGHUP', onHup)
    const poll = setInterval(() => void reload(), ROSTER_POLL).unref()
    try {
      const { port: bound } = await tracker.listen(port, host)
      const hosts = reachableHosts(host).map(urlHost)
      const statsHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : urlHost(host)
      const info = {
        owner: formatId('owner', id.roster.owner),
        rosterSeq: id.roster.seq,
        host,
        port: bound,
        /** The TLS key devices check against their roster: this device's. */
        device: formatId('device', id.device.publicKey),
        announce: hosts.map((h) => `https://${h}:${bound}/announce`),
        websocket: hosts.map((h) => `wss://${h}:${bound}`),
        stats: `https://${statsHost}:${bound}/stats.json`,
        tokenFile: trackerTokenPath(home),
      }
      if (values.json) stdout.write(JSON.stringify(info) + '\n')
      else {
        const r = id.roster
        stdout.write(
          [
            `djcloud tracker for owner ${info.owner}`,
            `(roster version ${r.seq}: ${r.devices.length} device${r.devices.length === 1 ? '' : 's'}, ${r.friends.length} friend${r.friends.length === 1 ? '' : 's'}, ${r.revoked.length} revoked)`,
            `TLS key: device "${id.certificate.name}" ${info.device} (self-signed; devices check it against their roster)`,
            '',
            'Announce URLs:',
            ...info.announce.map((u) => `  ${u}`),
            ...info.websocket.map((u) => `  ${u}`),
            `Stats: ${info.stats}  (curl -k; infohashes with "Authorization: Bearer $(cat ${info.tokenFile})")`,
            '',
            'Stop with Ctrl+C.',
            '',
          ].join('\n'),
        )
      }
      await stopped
    } finally {
      process.off('SIGHUP', onHup)
      clearInterval(poll)
      await tracker.close()
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    if (!values.json) stdout.write('Tracker stopped.\n')
    return exitCode
  },
}
