// djcloud apps: sign-ins for Subsonic apps (Symfonium, DSub, Feishin...).
// Each app gets its own password and API key, shown once; `apps rm` revokes
// it at once, a running node included (it reads the file on every request).
import { resolveHome } from '../../home.ts'
import { addApp, AppsError, readApps, removeApp } from '../../subsonic/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'

export const appsCommand: Command = {
  name: 'apps',
  summary: 'Sign-ins for Subsonic apps on phones and desktops: add one, list them, revoke one.',
  usage: '[ls | add <name> | rm <name>] [--json]',
  details:
    'Subcommands:\n' +
    '  ls            the apps that may sign in (default); secrets are not shown again\n' +
    '  add <name>    a new app: prints its password and API key once (the name is the app\'s username)\n' +
    '  rm <name>     revoke it: its next request is refused\n' +
    'The node serves apps when started with "djcloud serve --subsonic"; point the app at http://ADDR:PORT\n' +
    '(the API address, with --listen for other machines). Secrets live in <home>/subsonic-apps.json (mode 0600).',
  options: { json: { type: 'boolean', description: 'print as JSON' } },
  args: [0, 2],
  async run({ values, positionals, stdout, env }) {
    const [sub = 'ls', name, ...rest] = positionals
    if (rest.length) throw new UsageError('too many arguments')
    const home = resolveHome(values.home as string | undefined, env)
    try {
      if (sub === 'ls') {
        if (name !== undefined) throw new UsageError('apps ls takes no arguments')
        const apps = (await readApps(home)).map((a) => ({ name: a.name, created: new Date(a.created).toISOString() }))
        if (values.json) return writeJson(stdout, { apps })
        stdout.write(apps.length ? apps.map((a) => `${a.name.padEnd(24)} added ${a.created.slice(0, 16).replace('T', ' ')}`).join('\n') + '\n' : 'no apps: add one with "djcloud apps add NAME"\n')
        return
      }
      if (sub === 'add') {
        if (name === undefined) throw new UsageError('apps add takes the app\'s name, e.g. "djcloud apps add phone"')
        const app = await addApp(home, name)
        if (values.json) return writeJson(stdout, { name: app.name, password: app.password, apiKey: app.apiKey })
        stdout.write(`app "${app.name}" added. Shown once, keep them in the app:\n  username  ${app.name}\n  password  ${app.password}\n  API key   ${app.apiKey}\n`)
        return
      }
      if (sub === 'rm') {
        if (name === undefined) throw new UsageError('apps rm takes the app\'s name')
        await removeApp(home, name)
        if (values.json) return writeJson(stdout, { removed: name })
        stdout.write(`app "${name}" removed: it can no longer sign in\n`)
        return
      }
    } catch (err) {
      if (err instanceof AppsError && err.code === 'ERR_BAD_NAME') throw new UsageError(err.message)
      throw err
    }
    throw new UsageError(`unknown subcommand "${sub}" (ls, add, rm)`)
  },
}
