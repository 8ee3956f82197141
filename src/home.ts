// The data directory ("home") of one device. Several homes can live on one
// machine (one per simulated device in tests and the demo).
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { mkdir } from 'node:fs/promises'

/**
 * --home wins, then DJCLOUD_HOME, then $XDG_DATA_HOME/<name>, then
 * ~/.local/share/<name>. The demo passes its own name so it never mixes with
 * a real library.
 */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv, name = 'djcloud'): string {
  if (flag) return resolve(flag)
  if (env.DJCLOUD_HOME) return resolve(env.DJCLOUD_HOME)
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share')
  return join(xdg, name)
}

export const homePaths = (home: string) => ({
  identity: join(home, 'identity'),
  library: join(home, 'library'),
})

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
}
