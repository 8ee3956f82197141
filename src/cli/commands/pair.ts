import qrcode from 'qrcode-terminal'
import { formatId, loadIdentity, PAIRING_DEFAULTS, shortId, startPairingHost } from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { UsageError, type Command } from '../command.ts'

const MAX_TTL_S = 3600

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a whole number from 0 to 65535')
  return port
}

function parseTtl(text: string | undefined): number {
  if (text === undefined) return PAIRING_DEFAULTS.ttlMs
  const seconds = Number(text)
  if (!(seconds > 0 && seconds <= MAX_TTL_S)) throw new UsageError(`--ttl must be a positive number of seconds, at most ${MAX_TTL_S}`)
  return Math.round(seconds * 1000)
}

const duration = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`)

export const pairCommand: Command = {
  name: 'pair',
  summary: 'Show a one-time code that lets a new device join as one of your own devices (admin devices only).',
  usage: '[--ttl SECONDS] [--listen ADDR] [--port N] [--address HOST] [--json]',
  details:
    'Run "djcloud join <code>" on the new device, on the same network. It gets a member certificate,\n' +
    'the roster and the circle secret, never the owner key or the recovery phrase. Both screens show\n' +
    'both devices\' fingerprints: check that they match. The code works once, for a few minutes, and\n' +
    '3 wrong attempts burn it. A device restored with "init --recover" is already an admin and needs\n' +
    'no pairing.',
  options: {
    ttl: { type: 'string', value: 'SECONDS', description: `how long the code is valid (default ${PAIRING_DEFAULTS.ttlMs / 1000})` },
    listen: { type: 'string', value: 'ADDR', description: `address to listen on (default ${PAIRING_DEFAULTS.listen}, all interfaces)` },
    port: { type: 'string', value: 'N', description: 'port to listen on (default 0: any free port)' },
    address: { type: 'string', value: 'HOST', description: 'address put in the code (default: this machine\'s first LAN IPv4)' },
    json: { type: 'boolean', description: 'print {code, expires, address} as one JSON line, then the result as another' },
  },
  async run({ values, stdout, stderr, env }) {
    const ttlMs = parseTtl(values.ttl as string | undefined)
    const port = parsePort(values.port as string | undefined)
    const identity = await loadIdentity(resolveHome(values.home as string | undefined, env))
    const json = values.json === true
    const host = await startPairingHost({
      identity,
      ttlMs,
      port,
      ...(values.listen !== undefined ? { listen: values.listen as string } : {}),
      ...(values.address !== undefined ? { address: values.address as string } : {}),
      onFingerprint: (p) =>
        (json ? stderr : stdout).write(
          `\nNew device "${p.name}" from ${p.address}\n` +
            `  fingerprint ${p.fingerprint}   device id ${p.deviceId}\n` +
            `It should show this device's fingerprint ${shortId(identity.device.publicKey)} and its own ${p.fingerprint}.\n`,
        ),
      onWarning: (w) => stderr.write(`djcloud pair: refused ${w.address}: ${w.reason}\n`),
    })
    const expires = new Date(host.expires)
    const listening = host.listening.host.includes(':') ? `[${host.listening.host}]:${host.listening.port}` : `${host.listening.host}:${host.listening.port}`
    if (json) {
      stdout.write(
        JSON.stringify({
          code: host.code,
          expires: expires.toISOString(),
          address: host.address,
          listen: listening,
          fingerprint: host.fingerprint,
          deviceId: formatId('device', identity.device.publicKey),
        }) + '\n',
      )
    } else {
      const lines = [`Pairing code for a new device, valid for ${duration(ttlMs)} (until ${expires.toLocaleTimeString()}):`, '']
      if (stdout.isTTY) qrcode.generate(host.code, { small: true }, (qr) => lines.push(qr, ''))
      lines.push(
        `  ${host.code}`,
        '',
        'On the new device, run:  djcloud join <the code above>',
        `This device: "${identity.certificate.name}", fingerprint ${host.fingerprint}`,
        `Waiting at ${host.address} (listening on ${listening}); Ctrl-C cancels.`,
        '',
      )
      stdout.write(lines.join('\n'))
    }
    const result = await host.done
    const joined = {
      deviceId: result.deviceId,
      name: result.name,
      fingerprint: result.fingerprint,
      role: result.certificate.role,
      rosterSeq: result.identity.roster.seq,
    }
    if (json) {
      stdout.write(JSON.stringify({ joined }) + '\n')
      return
    }
    stdout.write(`Paired "${joined.name}" as a ${joined.role} device (roster version ${joined.rosterSeq}).\n`)
  },
}
