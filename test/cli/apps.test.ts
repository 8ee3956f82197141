// djcloud apps: sign-ins for Subsonic apps, shown once, listed without
// secrets, revoked by name; bad names and subcommands are usage errors.
import test from 'ava'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runCliInProcess as run } from '../helpers/cli.ts'
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
