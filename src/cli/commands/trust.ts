import { setQuota } from '../../backup/index.ts'
import {
  addFriend, formatId, IdentityError, loadIdentity, parseId, removeFriend, revokeDevice, saveRoster, type Identity,
} from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { UsageError, writeJson, type Command } from '../command.ts'

const SUBCOMMANDS = 'add <owner-id> --role friend [--name NAME] | ls [--json] | rm <id> | revoke <device-id> | quota <owner-id> <MB>'

function rosterView(id: Identity) {
  const r = id.roster
  const self = Buffer.from(id.device.publicKey)
  return {
    owner: formatId('owner', r.owner),
    seq: r.seq,
    devices: r.devices.map((c) => ({
      id: formatId('device', c.device),
      name: c.name,
      role: c.role,
      created: new Date(c.created).toISOString(),
      thisDevice: self.equals(c.device),
    })),
    revoked: r.revoked.map((k) => formatId('device', k)),
    friends: r.friends.map((f) => ({ id: formatId('owner', f.owner), name: f.name, role: 'friend', added: new Date(f.added).toISOString() })),
    trackers: r.trackers,
    bootstrap: r.bootstrap,
  }
}

/** Accepts an owner id or a device id, whichever the checksum says it is. */
function parseAnyId(text: string): { kind: 'owner' | 'device'; key: Uint8Array } {
  try {
    return { kind: 'owner', key: parseId('owner', text) }
  } catch {
    return { kind: 'device', key: parseId('device', text) }
  }
}

export const trustCommand: Command = {
  name: 'trust',
  summary: 'Show and edit the roster: your own devices, revoked devices and trusted friends.',
  usage: SUBCOMMANDS,
  details:
    'add         trust a friend (another DJ\'s owner id, from their "djcloud id")\n' +
    'ls          list own devices, revoked devices, friends, trackers and bootstrap nodes\n' +
    'rm          remove a friend (owner id) or revoke one of your devices (device id)\n' +
    'revoke      revoke one of your devices; it loses access once the new roster reaches the circle\n' +
    'quota       storage this device gives a friend\'s backups, in MB (default 200); the oldest versions go first\n' +
    'Changing the roster needs an admin device (one that holds the owner key).',
  options: {
    role: { type: 'string', value: 'ROLE', description: 'role for "add": friend' },
    name: { type: 'string', value: 'NAME', description: 'a name for the friend (default: the start of the id)' },
    json: { type: 'boolean', description: 'print as JSON' },
  },
  args: [1, 3],
  async run({ values, positionals, stdout, env }) {
    const [sub, arg, extra] = positionals
    if (sub !== 'quota' && extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`)
    let id = await loadIdentity(resolveHome(values.home as string | undefined, env))
    const needArg = () => {
      if (!arg) throw new UsageError(`"trust ${sub}" needs an id`)
      return arg
    }
    switch (sub) {
      case 'ls': {
        if (arg) throw new UsageError('"trust ls" takes no argument')
        const view = rosterView(id)
        if (values.json) return writeJson(stdout, view)
        const lines = [`owner ${view.owner}  (roster version ${view.seq})`, '', 'Devices:']
        for (const d of view.devices) lines.push(`  ${d.id}  ${d.name} (${d.role})${d.thisDevice ? '  <- this device' : ''}`)
        lines.push('', 'Friends:')
        if (view.friends.length === 0) lines.push('  (none)')
        for (const f of view.friends) lines.push(`  ${f.id}  ${f.name}`)
        if (view.revoked.length) lines.push('', 'Revoked devices:', ...view.revoked.map((k) => `  ${k}`))
        if (view.trackers.length) lines.push('', 'Trackers:', ...view.trackers.map((t) => `  ${t}`))
        if (view.bootstrap.length) lines.push('', 'Bootstrap nodes:', ...view.bootstrap.map((t) => `  ${t}`))
        stdout.write(lines.join('\n') + '\n')
        return
      }
      case 'add': {
        if (values.role !== 'friend') {
          throw new UsageError('"trust add" needs --role friend (own devices join with "djcloud pair" and "djcloud join")')
        }
        const key = parseId('owner', needArg())
        const name = (values.name as string | undefined) ?? `friend-${formatId('owner', key).slice(0, 7)}`
        id = await saveRoster(id, addFriend(id.roster, key, name))
        stdout.write(values.json ? JSON.stringify(rosterView(id).friends.at(-1)) + '\n' : `Trusted friend "${name}" (${formatId('owner', key)}).\n`)
        return
      }
      case 'rm':
      case 'revoke': {
        const target = sub === 'revoke' ? { kind: 'device' as const, key: parseId('device', needArg()) } : parseAnyId(needArg())
        if (target.kind === 'owner') {
          id = await saveRoster(id, removeFriend(id.roster, target.key))
          stdout.write(`Removed friend ${formatId('owner', target.key)}.\n`)
          return
        }
        if (Buffer.from(target.key).equals(id.device.publicKey)) {
          throw new IdentityError('ERR_CONFLICT', 'refusing to revoke this device itself; revoke it from another admin device')
        }
        id = await saveRoster(id, revokeDevice(id.roster, target.key))
        stdout.write(`Revoked device ${formatId('device', target.key)}.\n`)
        return
      }
      case 'quota': {
        const key = parseId('owner', needArg())
        const mb = Number(extra)
        if (extra === undefined || !Number.isFinite(mb) || mb < 0 || mb > 1e7) throw new UsageError('"trust quota" needs <owner-id> <MB> (a number of megabytes, 0 or more)')
        if (!id.roster.friends.some((f) => Buffer.from(f.owner).equals(key))) throw new UsageError('that owner is not a friend on this roster ("trust add" it first)')
        const bytes = Math.round(mb * 1024 * 1024)
        await setQuota(resolveHome(values.home as string | undefined, env), Buffer.from(key).toString('hex'), bytes)
        if (values.json) return writeJson(stdout, { owner: formatId('owner', key), quotaBytes: bytes })
        stdout.write(`Backups of ${formatId('owner', key)} may use ${mb} MB on this device (applied at the next poll).\n`)
        return
      }
      default:
        throw new UsageError(`unknown subcommand "${sub}" (use: ${SUBCOMMANDS})`)
    }
  },
}
