// Finished renditions on disk, keyed by (SHA-256, codec, bitrate, encoder),
// in their own directory under their own byte budget: a rendition is never
// a track (its bytes differ by encoder build), so it is never announced and
// never takes room from the track cache. Least recently used files go first.
import { createHash } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'

export const DEFAULT_RENDITION_BUDGET = 1024 * 1024 * 1024 // bytes: ~17 h of 128 kbps

export interface RenditionKey {
  sha256: string
  format: string
  kbps: number
  encoder: string
}

export class RenditionCache {
  private evicting: Promise<void> = Promise.resolve()

  constructor(
    readonly dir: string,
    readonly budget = DEFAULT_RENDITION_BUDGET,
  ) {}

  static fileName(k: RenditionKey): string {
    const enc = createHash('sha256').update(k.encoder).digest('hex').slice(0, 12)
    return `${k.sha256}.${k.format}.${k.kbps}.${enc}`
  }

  /** The rendition's path and size when it is cached (its use time is refreshed), else null. */
  async get(k: RenditionKey): Promise<{ path: string; size: number } | null> {
    const path = join(this.dir, RenditionCache.fileName(k))
    const st = await stat(path).catch(() => null)
    if (!st?.isFile()) return null
    const now = new Date()
    await utimes(path, now, now).catch(() => {})
    return { path, size: st.size }
  }

  /** A temp path to write a rendition to (then `commit` or `discard`). */
  async tempPath(k: RenditionKey): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    return join(this.dir, `${RenditionCache.fileName(k)}.${process.pid}.${Math.random().toString(36).slice(2)}.part`)
  }

  async commit(tmp: string, k: RenditionKey): Promise<void> {
    await rename(tmp, join(this.dir, RenditionCache.fileName(k)))
    await this.evict()
  }

  async discard(tmp: string): Promise<void> {
    await rm(tmp, { force: true })
  }

  /** Bytes held now. */
  async used(): Promise<number> {
    return (await this.files()).reduce((n, f) => n + f.size, 0)
  }

  private async files(): Promise<Array<{ path: string; size: number; used: number }>> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const out = []
    for (const name of names) {
      if (name.endsWith('.part')) continue
      const st = await stat(join(this.dir, name)).catch(() => null)
      if (st?.isFile()) out.push({ path: join(this.dir, name), size: st.size, used: st.mtimeMs })
    }
    return out
  }

  /** Drops the least recently used renditions until the rest fit the budget. */
  evict(): Promise<void> {
    this.evicting = this.evicting.then(async () => {
      const files = (await this.files()).sort((a, b) => a.used - b.used)
      let total = files.reduce((n, f) => n + f.size, 0)
      for (const f of files) {
        if (total <= this.budget) break
        await rm(f.path, { force: true })
        total -= f.size
      }
    })
    return this.evicting
  }
}
