// djcloud apps: sign-ins for Subsonic apps, shown once, listed without
// secrets, revoked by name; bad names and subcommands are usage errors; a
// node run by `serve --subsonic` refuses a removed app at once.
import test from 'ava'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runCliInProcess as run } from '../helpers/cli.ts'
import { serveNode } from '../helpers/node-process.ts'
import { tempDir } from '../helpers/temp.ts'

test('apps add prints the password and API key once; ls lists names only; rm revokes', async (t) => {
  const home = await tempDir(t)
  const env = { DJCLOUD_HOME: home }
  const help = await run(['apps', '--help'], env)
  t.is(help.code, 0)
  t.regex(help.stdout, /^Usage: djcloud apps/)
  const added = await run(['apps', 'add', 'phone', '--json'], env)
  t.is(added.code, 0, added.stderr)
  const app = JSON.parse(added.stdout) as { name: string; password: string; apiKey: string }
  t.is(app.name, 'phone')
  t.truthy(app.password && app.apiKey)
  t.is((await stat(join(home, 'subsonic-apps.json'))).mode & 0o777, 0o600)
  const human = await run(['apps', 'add', 'feishin'], env)
  t.regex(human.stdout, /username {2}feishin\n {2}password {2}\S+\n {2}API key {3}\S+/)
  const ls = await run(['apps', 'ls'], env)
  t.regex(ls.stdout, /^phone .*\nfeishin /)
  t.false(ls.stdout.includes(app.password), 'secrets are not shown again')
  const json = JSON.parse((await run(['apps', '--json'], env)).stdout) as { apps: Array<{ name: string }> }
  t.deepEqual(json.apps.map((a) => a.name), ['phone', 'feishin'])
  t.is((await run(['apps', 'add', 'phone'], env)).code, 1, 'a second app of the same name')
  t.is((await run(['apps', 'add', 'bad name'], env)).code, 2)
  t.is((await run(['apps', 'frob'], env)).code, 2)
  t.is((await run(['apps', 'rm', 'phone'], env)).code, 0)
  t.is((await run(['apps', 'rm', 'phone'], env)).code, 1, 'already gone')
  t.deepEqual((JSON.parse((await run(['apps', 'ls', '--json'], env)).stdout) as { apps: Array<{ name: string }> }).apps.map((a) => a.name), ['feishin'])
})

test('serve --subsonic serves /rest to an app issued by the CLI; apps rm refuses it at its next request', async (t) => {
  const home = await tempDir(t)
  const env = { DJCLOUD_HOME: home }
  t.is((await run(['init', '--name', 'laptop'], env)).code, 0)
  const app = JSON.parse((await run(['apps', 'add', 'phone', '--json'], env)).stdout) as { password: string; apiKey: string }
  const node = await serveNode(t, home, ['--no-tracker', '--subsonic'])
  const ping = async (q: Record<string, string>) => {
    const r = await fetch(`${node.info.api}/rest/ping.view?${new URLSearchParams({ v: '1.16.1', c: 'test', f: 'json', ...q })}`)
    return ((await r.json()) as { 'subsonic-response': { status: string; error?: { code: number } } })['subsonic-response']
  }
  t.is((await ping({ u: 'phone', p: app.password })).status, 'ok')
  t.is((await ping({ apiKey: app.apiKey })).status, 'ok')
  t.is((await run(['apps', 'rm', 'phone'], env)).code, 0)
  t.like(await ping({ u: 'phone', p: app.password }), { status: 'failed', error: { code: 40 } })
  t.like(await ping({ apiKey: app.apiKey }), { status: 'failed', error: { code: 44 } })
})
