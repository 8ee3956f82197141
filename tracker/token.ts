// The operator token: lets the operator see infohashes in /stats.json.
// Kept in the home as <home>/tracker-token (mode 0600), made on first run.
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { TrackerError } from './errors.ts'

export const TRACKER_TOKEN_FILE = 'tracker-token'
export const MIN_TOKEN_CHARS = 16
const TOKEN_BYTES = 32

export const trackerTokenPath = (home: string) => join(home, TRACKER_TOKEN_FILE)

async function readToken(path: string): Promise<string> {
  const info = await stat(path)
  if (info.mode & 0o077) await chmod(path, 0o600) // a secret: owner-only, whoever wrote it
  const token = (await readFile(path, 'utf8')).trim()
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
    throw new TrackerError('ERR_TRACKER_TOKEN', `${path} holds no usable token (${MIN_TOKEN_CHARS}+ characters, no spaces); delete it to make a new one`)
  }
  return token
}

/** Reads the home's operator token, creating it (32 random bytes, base64url) on first use. */
export async function loadOrCreateTrackerToken(home: string): Promise<string> {
  const path = trackerTokenPath(home)
  try {
    return await readToken(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(home, { recursive: true, mode: 0o700 })
  const token = randomBytes(TOKEN_BYTES).toString('base64url')
  try {
    // wx: exclusive create, so two trackers starting at once agree on one token.
    const file = await open(path, 'wx', 0o600)
    try {
      await file.writeFile(token + '\n')
    } finally {
      await file.close()
    }
    return token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readToken(path)
    throw err
  }
}
