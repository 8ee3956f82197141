// API tokens of paired browser devices. A browser paired from a link gets a
// token of its own (not the node's), so its page can use this node's API as
// a client, and so revoking the device ends it: a token counts only while
// its device is listed on the roster as a browser device (a revoked key is
// never listed again). Kept in <home>/device-tokens (0600) as SHA-256 only:
// a lookup's timing depends on the digest, never on the token, and the file
// alone gives nobody a token.
import { createHash, randomBytes } from 'node:crypto'
import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Roster } from '../identity/index.ts'
import type { DeviceTokenCheck } from '../player/index.ts'

export const DEVICE_TOKENS_FILE = 'device-tokens'
/** Tokens kept at most; the oldest go first (a roster lists at most 256 devices). */
const MAX_TOKENS = 256

interface Stored {
  v: 1
  tokens: Array<{ device: string; sha256: string; created: number }>
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export class DeviceTokens implements DeviceTokenCheck {
  private entries: Stored['tokens'] = []
  /** SHA-256 of a token (hex) -> its device (hex key). */
  private byDigest = new Map<string, string>()
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly home: string,
    private readonly roster: () => Roster,
  ) {}

  private get path(): string {
    return join(this.home, DEVICE_TOKENS_FILE)
  }

  /** Reads the file; none yet is no tokens. A damaged file is an error, not silently emptied. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    let stored: Stored
    try {
      stored = JSON.parse(text) as Stored
    } catch {
      throw new Error(`${this.path} is damaged (not JSON): move it away to start the node; paired browsers then pair again`)
    }
    if (stored?.v !== 1 || !Array.isArray(stored.tokens)) throw new Error(`${this.path} is damaged: move it away to start the node; paired browsers then pair again`)
    this.entries = stored.tokens.filter((e) => /^[0-9a-f]{64}$/.test(e.device) && /^[0-9a-f]{64}$/.test(e.sha256))
    this.index()
  }

  /** A new token for `device`, replacing any it had; stored before it is returned. */
  async issue(device: Uint8Array, now = Date.now()): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    const key = hex(device)
    this.entries = [...this.entries.filter((e) => e.device !== key), { device: key, sha256: digest(token), created: now }].slice(-MAX_TOKENS)
    this.index()
    await this.save()
    return token
  }

  deviceOf(token: string): string | null {
    if (token.length > 512) return null
    const device = this.byDigest.get(digest(token))
    return device !== undefined && this.allowed(device) ? device : null
  }

  /** Listed on the current roster as a browser device: a revoked device is not (and can never be again). */
  allowed(device: string): boolean {
    return this.roster().devices.some((c) => c.role === 'browser' && hex(c.device) === device)
  }

  private index(): void {
    this.byDigest = new Map(this.entries.map((e) => [e.sha256, e.device]))
  }

  /** Atomic (temp file, then rename), mode 0600, one write at a time. */
  private save(): Promise<void> {
    const body = JSON.stringify({ v: 1, tokens: this.entries } satisfies Stored)
    this.writing = this.writing.catch(() => {}).then(async () => {
      const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`
      await writeFile(tmp, body, { mode: 0o600 })
      await chmod(tmp, 0o600)
      await rename(tmp, this.path)
    })
    return this.writing
  }
}
