import { formatId, IdentityError, loadIdentity } from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { writeJson, type Command } from '../command.ts'

export const idCommand: Command = {
  name: 'id',
  summary: 'Show this device\'s id, its owner id, name and role.',
  usage: '[--json] [--recovery-phrase]',
  options: {
    json: { type: 'boolean', description: 'print as JSON' },
    'recovery-phrase': { type: 'boolean', description: 'print the recovery phrase (admin devices only)' },
  },
  async run({ values, stdout, stderr, env }) {
    const id = await loadIdentity(resolveHome(values.home as string | undefined, env))
    if (values['recovery-phrase']) {
      if (!id.phrase) throw new IdentityError('ERR_NOT_ADMIN', 'this device is not an admin device: it does not hold the recovery phrase')
      stderr.write('WARNING: anyone who sees this phrase owns your library. Do not share it or store it online.\n')
      if (values.json) return writeJson(stdout, { recoveryPhrase: id.phrase })
      stdout.write(id.phrase + '\n')
      return
    }
    const info = {
      deviceId: formatId('device', id.device.publicKey),
      ownerId: formatId('owner', id.certificate.owner),
      name: id.certificate.name,
      role: id.certificate.role,
      created: new Date(id.certificate.created).toISOString(),
      rosterSeq: id.roster.seq,
    }
    if (values.json) return writeJson(stdout, info)
    stdout.write(`device id  ${info.deviceId}\nowner id   ${info.ownerId}\nname       ${info.name}\nrole       ${info.role}\n`)
  },
}
