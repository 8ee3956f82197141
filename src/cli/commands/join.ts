import { hostname } from 'node:os'
import {
  checkDeviceName, decodePairingCode, formatId, hasIdentity, IdentityError, joinWithCode, loadIdentity, PairingError,
  saveJoinedIdentity, shortId,
} from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { UsageError, writeJson, type Command } from '../command.ts'

export const joinCommand: Command = {
  name: 'join',
  summary: 'Become one of your own devices, with the one-time code shown by "djcloud pair" on an admin device.',
  usage: '<code> [--name NAME] [--force] [--json]',
  details:
    'This device connects to the admin device named in the code, proves the code\'s secret and\n' +
    'receives a member certificate, the roster and the circle secret (not the owner key). Compare\n' +
    'the fingerprints printed on both screens. --force replaces an identity already in this home\n' +
    '(on an admin device that deletes its owner key and recovery phrase).',
  options: {
    name: { type: 'string', value: 'NAME', description: 'this device\'s name on the roster (default: host name)' },
    force: { type: 'boolean', description: 'replace an existing identity in this home' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: [1, 1],
  async run({ values, positionals, stdout, stderr, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    let name: string
    try {
      name = checkDeviceName((values.name as string | undefined) ?? hostname())
    } catch (err) {
      if (err instanceof PairingError) throw new UsageError(`--name: ${err.message}`)
      throw err
    }
    const codeText = positionals[0]!
    decodePairingCode(codeText) // a mistyped code fails here, before anything else
    const force = values.force === true
    if (!force && (await hasIdentity(home))) {
      const existing = await loadIdentity(home).catch(() => null)
      const what = existing ? ` (device "${existing.certificate.name}", ${existing.certificate.role})` : ''
      throw new IdentityError('ERR_IDENTITY_EXISTS', `this home already has an identity${what}; pass --force to replace it`)
    }
    const json = values.json === true
    const joined = await joinWithCode(codeText, {
      name,
      onFingerprint: (h) => {
        if (!json) stderr.write(`Connected to the admin device, fingerprint ${h.fingerprint}.\n`)
      },
    })
    const id = await saveJoinedIdentity(home, joined, { force })
    const result = {
      home,
      deviceId: formatId('device', id.device.publicKey),
      ownerId: formatId('owner', id.certificate.owner),
      name: id.certificate.name,
      role: id.certificate.role,
      fingerprint: shortId(id.device.publicKey),
      rosterSeq: id.roster.seq,
      admin: { deviceId: joined.hostDeviceId, name: joined.hostName, fingerprint: joined.hostFingerprint },
    }
    if (json) return writeJson(stdout, result)
    stdout.write(
      `Joined as "${result.name}" (${result.role}) in ${home}\n` +
        `owner id      ${result.ownerId}\n` +
        `this device   fingerprint ${result.fingerprint}   ${result.deviceId}\n` +
        `admin device  fingerprint ${result.admin.fingerprint}   "${result.admin.name}"\n` +
        `Check that the admin device shows the same two fingerprints.\n`,
    )
  },
}
