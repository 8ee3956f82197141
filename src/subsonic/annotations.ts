// Stars and ratings set from Subsonic clients: this device's own, kept in
// one small JSON file in the home (mode 0600), written atomically. Keys are
// Subsonic ids, so they stay right across restarts and re-scans.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const ANNOTATIONS_FILE = 'subsonic-annotations.json'
export const MAX_ANNOTATIONS = 100_000

interface Doc {
  starred: Record<string, number>
  ratings: Record<string, number>
}

export class Annotations {
  private doc: Doc | null = null
  private writing: Promise<void> = Promise.resolve()
  private changes = 0

  constructor(private readonly home: string) {}

  private get path() {
    return join(this.home, ANNOTATIONS_FILE)
  }

  private async load(): Promise<Doc> {
    if (this.doc) return this.doc
    let text: string | undefined
    try {
      text = await readFile(this.path, 'utf8')
      const raw = JSON.parse(text) as Partial<Doc>
      this.doc = { starred: clean(raw.starred), ratings: clean(raw.ratings) }
    } catch {
      // A file that does not parse is set aside, not overwritten by the next star.
      if (text !== undefined) await rename(this.path, `${this.path}.corrupt-${Date.now()}`).catch(() => {})
      this.doc = { starred: {}, ratings: {} }
    }
    return this.doc
  }

  private save(): Promise<void> {
    const text = JSON.stringify(this.doc)
    this.writing = this.writing.then(async () => {
      const tmp = `${this.path}.${process.pid}.tmp`
      await writeFile(tmp, text, { mode: 0o600 })
      await rename(tmp, this.path)
    })
    return this.writing
  }

  /** Counts changes: answers made from stars and ratings are good until it moves. */
  get version(): number {
    return this.changes
  }

  async starred(): Promise<ReadonlyMap<string, number>> {
    return new Map(Object.entries((await this.load()).starred))
  }

  async ratings(): Promise<ReadonlyMap<string, number>> {
    return new Map(Object.entries((await this.load()).ratings))
  }

  async star(ids: readonly string[], on: boolean, now = Date.now()): Promise<void> {
    const d = await this.load()
    this.changes++
    for (const id of ids) {
      if (on) d.starred[id] ??= now
      else delete d.starred[id]
    }
    if (Object.keys(d.starred).length > MAX_ANNOTATIONS) throw new RangeError(`at most ${MAX_ANNOTATIONS} starred items`)
    await this.save()
  }

  /** rating 0 clears it. */
  async rate(id: string, rating: number): Promise<void> {
    const d = await this.load()
    this.changes++
    if (rating === 0) delete d.ratings[id]
    else d.ratings[id] = rating
    if (Object.keys(d.ratings).length > MAX_ANNOTATIONS) throw new RangeError(`at most ${MAX_ANNOTATIONS} ratings`)
    await this.save()
  }
}

function clean(o: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (!o || typeof o !== 'object') return out
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v) && k.length <= 512) out[k] = v
  return out
}
