import test from 'ava'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { resolveHome } from '../src/home.ts'

test('the home is --home, else DJCLOUD_HOME, else an XDG data dir', (t) => {
  t.is(resolveHome('rel/dir', { DJCLOUD_HOME: '/x' }), resolve('rel/dir'))
  t.is(resolveHome(undefined, { DJCLOUD_HOME: '/x', XDG_DATA_HOME: '/d' }), '/x')
  t.is(resolveHome(undefined, { XDG_DATA_HOME: '/d' }), '/d/djcloud')
  t.is(resolveHome(undefined, {}), join(homedir(), '.local', 'share', 'djcloud'))
  // the XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored
  t.is(resolveHome(undefined, { XDG_DATA_HOME: 'relative' }), join(homedir(), '.local', 'share', 'djcloud'))
  t.is(resolveHome(undefined, { XDG_DATA_HOME: '/d' }, 'djcloud-demo'), '/d/djcloud-demo')
})
