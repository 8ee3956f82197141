// App credentials for Subsonic clients (`djcloud apps add NAME`). Token auth
// (t = md5(password + salt)) needs the password itself, so secrets are kept
// readable, in one file of the device's home with mode 0600. The node reads
// the file again whenever it changed on disk, so `apps rm` refuses the app at
// its next request.
import { randomBytes } from 'node:crypto'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir } from '../home.ts'

export const APPS_FILE = 'subsonic-apps.json'
/** An app name is the `u` a client sends: short, printable, no spaces. */
export const APP_NAME = /^[A-Za-z0-9._-]{1,64}$/
export const MAX_APPS = 256

export interface AppCredential {
  name: string
  /** For `p` and token auth. */
  password: string
  /** For the apiKeyAuthentication extension. */
  apiKey: string
  /** ms since the epoch */
  created: number
}

export class AppsError extends Error {
  override name = 'AppsError'
  constructor(
    readonly code: 'ERR_BAD_NAME' | 'ERR_EXISTS' | 'ERR_NOT_FOUND' | 'ERR_TOO_MANY' | 'ERR_CORRUPT',
    message: string,
  ) {
    super(message)
  }
}

export const appsPath = (home: string) => join(home, APPS_FILE)

/** The apps on this home (none when the file does not exist). */
export async function readApps(home: string): Promise<AppCredential[]> {
  let text: string
  try {
    text = await readFile(appsPath(home), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  return parseApps(text)
}

function parseApps(text: string): AppCredential[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new AppsError('ERR_CORRUPT', `${APPS_FILE} is not JSON`)
  }
  const apps = (doc as { apps?: unknown })?.apps
  if (!Array.isArray(apps)) throw new AppsError('ERR_CORRUPT', `${APPS_FILE} has no apps list`)
  return apps.filter(
    (a): a is AppCredential =>
      !!a && typeof a.name === 'string' && APP_NAME.test(a.name) && typeof a.password === 'string' && typeof a.apiKey === 'string' && typeof a.created === 'number',
  )
}

async function writeApps(home: string, apps: AppCredential[]): Promise<void> {
  await ensureDir(home)
  const tmp = `${appsPath(home)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ v: 1, apps }, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, appsPath(home))
}

/** Issues a new app: its password and API key are shown once by the CLI. */
export async function addApp(home: string, name: string, now = Date.now()): Promise<AppCredential> {
  if (!APP_NAME.test(name)) throw new AppsError('ERR_BAD_NAME', 'an app name is 1-64 letters, digits, ".", "_" or "-"')
  const apps = await readApps(home)
  if (apps.some((a) => a.name === name)) throw new AppsError('ERR_EXISTS', `an app named "${name}" already exists: remove it first with "djcloud apps rm ${name}"`)
  if (apps.length >= MAX_APPS) throw new AppsError('ERR_TOO_MANY', `at most ${MAX_APPS} apps`)
  // 128 bits each; the password stays typeable (base64url), as phone apps ask for it in a text field.
  const app: AppCredential = { name, password: randomBytes(16).toString('base64url'), apiKey: randomBytes(24).toString('base64url'), created: now }
  await writeApps(home, [...apps, app])
  return app
}

export async function removeApp(home: string, name: string): Promise<void> {
  const apps = await readApps(home)
  if (!apps.some((a) => a.name === name)) throw new AppsError('ERR_NOT_FOUND', `no app named "${name}"`)
  await writeApps(home, apps.filter((a) => a.name !== name))
}

/**
 * The apps as the node checks them: the file is stat'ed on every request and
 * read again when it changed (a write is a rename, so the inode changes too).
 */
export class AppRegistry {
  private seen: { key: string; apps: AppCredential[] } | null = null

  constructor(private readonly home: string) {}

  async apps(): Promise<AppCredential[]> {
    const st = await stat(appsPath(this.home)).catch(() => null)
    if (!st) return []
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`
    if (this.seen?.key !== key) this.seen = { key, apps: await readApps(this.home).catch(() => []) }
    return this.seen.apps
  }
}
