// The node's API token: 32 random bytes as hex in <home>/api-token (mode
// 0600). Created on first use; clients on this machine (the CLI, a browser
// the user pastes it into) read it from there.
import { randomBytes } from 'node:crypto'
import { chmod, link, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir } from '../home.ts'
import { PlayerError } from './errors.ts'

export const API_TOKEN_FILE = 'api-token'
const TOKEN_BYTES = 32
const TOKEN_HEX = /^[0-9a-f]{64}$/

export const apiTokenPath = (home: string) => join(home, API_TOKEN_FILE)

/** A fresh token: 32 random bytes, hex. */
export function newApiToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex')
}

/** The home's token, or undefined when there is none yet. */
export async function readApiToken(home: string): Promise<string | undefined> {
  const path = apiTokenPath(home)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const token = text.trim()
  if (!TOKEN_HEX.test(token)) throw new PlayerError('ERR_BAD_TOKEN_FILE', `${path} does not hold an API token (64 hex digits); delete it to make a new one`)
  return token
}

/** The home's token, created (atomically, mode 0600) when missing; a token file readable by others is narrowed to 0600. */
export async function loadOrCreateApiToken(home: string): Promise<string> {
  const existing = await readApiToken(home)
  const path = apiTokenPath(home)
  if (existing) {
    await chmod(path, 0o600)
    return existing
  }
  await ensureDir(home)
  const token = newApiToken()
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, `${token}\n`, { mode: 0o600 })
  try {
    await chmod(tmp, 0o600)
    // link() fails when the name exists: two processes racing here end with one token, whole.
    await link(tmp, path)
    return token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const other = await readApiToken(home)
    if (!other) throw err
    return other
  } finally {
    await rm(tmp, { force: true })
  }
}
