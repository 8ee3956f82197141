// The time windows of gigs, from pulls of playlists to this device: a pull
// is made shortly before a gig, so plays from the pull's end until GIG_WINDOW
// later are "at the gig" (docs/plays.md). Kept in `<home>/gig-pulls.json`,
// the newest MAX_GIGS.
import { readJsonFile, writeJsonFile } from './json-file.ts'

export const GIG_WINDOW = 48 * 3600_000 // ms after a pull finished that count as its gig
const MAX_GIGS = 512

export interface GigPullRecord {
  playlist: string
  /** ms since the epoch: when the pull finished. */
  at: number
  ready: boolean
}

export interface GigWindow extends GigPullRecord {
  from: number
  to: number
}

export class GigWindows {
  private pulls: GigPullRecord[] = []
  private writing: Promise<void> = Promise.resolve()

  private constructor(private readonly path: string, private readonly windowMs: number) {}

  static async open(path: string, opts: { windowMs?: number; onWarning?: (err: Error) => void } = {}): Promise<GigWindows> {
    const g = new GigWindows(path, opts.windowMs ?? GIG_WINDOW)
    const v = (await readJsonFile(path, opts.onWarning)) as { pulls?: unknown } | undefined
    if (Array.isArray(v?.pulls)) {
      g.pulls = v.pulls.filter((p): p is GigPullRecord => typeof p?.playlist === 'string' && Number.isSafeInteger(p?.at) && typeof p?.ready === 'boolean').slice(-MAX_GIGS)
    }
    return g
  }

  /** A pull to this device finished. */
  add(p: GigPullRecord): Promise<void> {
    this.pulls.push(p)
    if (this.pulls.length > MAX_GIGS) this.pulls.splice(0, this.pulls.length - MAX_GIGS)
    const snapshot = { v: 1, pulls: [...this.pulls] }
    this.writing = this.writing.then(() => writeJsonFile(this.path, snapshot))
    return this.writing
  }

  windows(): GigWindow[] {
    return this.pulls.map((p) => ({ ...p, from: p.at, to: p.at + this.windowMs }))
  }
}
