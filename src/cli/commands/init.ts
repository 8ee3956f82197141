import { formatId, initIdentity } from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { writeJson, type Command } from '../command.ts'

export const initCommand: Command = {
  name: 'init',
  summary: 'Create this device\'s identity: a new owner (recovery phrase) or, with --recover, the owner of an existing phrase.',
  usage: '[--name NAME] [--recover PHRASE] [--force] [--json]',
  details:
    'A new owner gets a 24-word recovery phrase. Write it down: it is the only way to restore your\n' +
    'playlists and backups if every device is lost. This device becomes an admin device.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'device name shown to your other devices (default: host name)' },
    recover: { type: 'string', value: 'PHRASE', description: 'rebuild the owner from an existing recovery phrase' },
    force: { type: 'boolean', description: 'replace an existing identity in this home' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run({ values, stdout, stderr, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const id = await initIdentity(home, {
      name: values.name as string | undefined,
      recoverPhrase: values.recover as string | undefined,
      force: values.force === true,
    })
    const result = {
      home,
      deviceId: formatId('device', id.device.publicKey),
      ownerId: formatId('owner', id.certificate.owner),
      name: id.certificate.name,
      role: id.certificate.role,
      recovered: values.recover !== undefined,
    }
    if (values.json) return writeJson(stdout, result)
    stdout.write(
      `${result.recovered ? 'Recovered owner' : 'Created a new owner'} and device "${result.name}" in ${home}\n` +
        `device id  ${result.deviceId}\nowner id   ${result.ownerId}\n`,
    )
    if (!result.recovered) {
      stderr.write(
        '\nYour recovery phrase is stored in this home. Write it down somewhere safe:\n' +
          '  djcloud id --recovery-phrase\n',
      )
    }
  },
}
