// A device's view of the play history of all own devices: its own entries
// and every other own device's it has merged, kept in one append-only log
// file. Merging is a union by entry id (device, seq), so an entry that
// arrives twice, by two paths, counts once. Entries from devices the roster
// does not list, or revoked, or with a bad signature, are refused.
import { EventEmitter } from 'node:events'
import { PlaysError } from './errors.ts'
import { appendLogLines, readLogFile } from './log-file.ts'
import { encodeEntry, entryId, parseEntry, signEntry, verifyEntry, type LogEntry, type PlayEntry, type RemoveEntry } from './entry.ts'

/** Where a device stands for the log: an own device, one revoked, or not in the roster at all. */
export type DeviceTrust = 'own' | 'revoked' | 'stranger'

export interface PlayBookOptions {
  /** The log file (`<home>/plays.log`). */
  path: string
  /** This device's key pair: its entries are signed with it. */
  device: { publicKey: Uint8Array; seed: Uint8Array }
  /** The roster's word on a device key (hex), asked for every entry merged. */
  trust: (device: string) => DeviceTrust
  now?: () => number
  onWarning?: (err: Error) => void
}

export interface TrackPlays {
  count: number
  /** ms since the epoch */
  last: number
}

export type RefusedReason = 'forged' | 'stranger' | 'revoked' | 'conflict' | 'malformed'

export interface MergeResult {
  added: number
  /** Already held (the same entry again): nothing changes. */
  duplicate: number
  refused: Array<{ id?: string; reason: RefusedReason }>
}

interface Events {
  /** Entries appended: `local` ones written here, `merged` from another device. */
  added: [entries: LogEntry[], how: 'local' | 'merged']
}

/** Bytes of one sync answer's lines (under the device channel's 64 KiB command cap). */
export const SINCE_BYTES = 48 * 1024

export class PlayBook extends EventEmitter<Events> {
  private readonly entries = new Map<string, LogEntry>()
  /** Each device's entries in seq order (what `since` pages through). */
  private readonly byDevice = new Map<string, LogEntry[]>()
  /** sha256, time and source of every play held: an import adds a play once. */
  private readonly playKeys = new Set<string>()
  private readonly top = new Map<string, number>()
  private writing: Promise<unknown> = Promise.resolve()
  private statsCache: Map<string, TrackPlays> | null = null
  readonly self: string

  private constructor(private readonly opts: PlayBookOptions) {
    super()
    this.self = Buffer.from(opts.device.publicKey).toString('hex')
  }

  /**
   * Opens the log (a torn tail is cut). Lines on disk were checked when they
   * were written here, so they are not verified again; a line that does not
   * parse (a damaged disk) is skipped with a warning, the rest kept.
   */
  static async open(opts: PlayBookOptions): Promise<PlayBook> {
    const book = new PlayBook(opts)
    const { lines, cut } = await readLogFile(opts.path)
    if (cut) opts.onWarning?.(new PlaysError('ERR_LOG_FILE', `play log: cut a torn last entry (${cut} bytes) from ${opts.path}`))
    for (const line of lines) {
      try {
        book.hold(parseEntry(line))
      } catch (err) {
        opts.onWarning?.(err as Error)
      }
    }
    return book
  }

  private hold(e: LogEntry): void {
    this.entries.set(entryId(e), e)
    let list = this.byDevice.get(e.device)
    if (!list) this.byDevice.set(e.device, (list = []))
    if (!list.length || list[list.length - 1]!.seq < e.seq) list.push(e)
    else list.splice(firstAbove(list, e.seq), 0, e) // out of order (a file merged from elsewhere): kept sorted
    if (e.kind === 'play') this.playKeys.add(playKey(e.sha256, e.at, e.source))
    if (e.seq > (this.top.get(e.device) ?? 0)) this.top.set(e.device, e.seq)
    this.statsCache = null
  }

  private now(): number {
    return (this.opts.now ?? Date.now)()
  }

  /** One write at a time, in order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn, fn)
    this.writing = run.catch(() => {})
    return run
  }

  /** Our next seq: above every one we wrote, and at least the clock (so a restored older log never reuses one). */
  private nextSeq(): number {
    return Math.max((this.top.get(this.self) ?? 0) + 1, this.now())
  }

  private appendOwn(make: (seq: number) => PlayEntry | RemoveEntry): Promise<LogEntry> {
    return this.serial(async () => {
      const e = signEntry(make(this.nextSeq()), this.opts.device.seed)
      await appendLogLines(this.opts.path, [encodeEntry(e)])
      this.hold(e)
      this.emit('added', [e], 'local')
      return e
    })
  }

  /** Records a finished play on this device. */
  record(play: { sha256: string; at: number; source: string; listened?: number }): Promise<LogEntry> {
    return this.appendOwn((seq) => ({ kind: 'play', device: this.self, seq, sha256: play.sha256, at: play.at, source: play.source, ...(play.listened === undefined ? {} : { listened: play.listened }) }))
  }

  /** Removes every own device's plays in [from, to] (a tombstone, honoured wherever it is merged). */
  remove(from: number, to: number): Promise<LogEntry> {
    return this.appendOwn((seq) => ({ kind: 'rm', device: this.self, seq, from, to }))
  }

  /** Whether a play of this track at this time from this source is held (an import adds it once). */
  holdsPlay(sha256: string, at: number, source: string): boolean {
    return this.playKeys.has(playKey(sha256, at, source))
  }

  /** Merges entries from another device (lines as sent): each is checked; new ones are appended. */
  merge(lines: readonly string[]): Promise<MergeResult> {
    return this.serial(async () => {
      const out: MergeResult = { added: 0, duplicate: 0, refused: [] }
      const fresh: LogEntry[] = []
      const batch = new Map<string, LogEntry>()
      for (const line of lines) {
        let e: LogEntry
        try {
          e = parseEntry(line)
        } catch {
          out.refused.push({ reason: 'malformed' })
          continue
        }
        const id = entryId(e)
        const held = this.entries.get(id) ?? batch.get(id)
        if (held) {
          // The same id with other fields is a forgery or a device that reused a seq: the first one held stays.
          if (encodeEntry(held) === encodeEntry(e)) out.duplicate++
          else out.refused.push({ id, reason: 'conflict' })
          continue
        }
        const trust = this.opts.trust(e.device)
        if (trust !== 'own') {
          out.refused.push({ id, reason: trust })
          continue
        }
        if (!verifyEntry(e)) {
          out.refused.push({ id, reason: 'forged' })
          continue
        }
        batch.set(id, e)
        fresh.push(e)
      }
      if (fresh.length) {
        await appendLogLines(this.opts.path, fresh.map(encodeEntry))
        for (const e of fresh) this.hold(e)
        out.added = fresh.length
        this.emit('added', fresh, 'merged')
      }
      return out
    })
  }

  /** The highest seq held of each device's entries (what a sync asks "since"). */
  have(): Record<string, number> {
    return Object.fromEntries(this.top)
  }

  /**
   * Entries another device lacks, given what it has: each device's entries
   * above its seq there, in seq order, up to `maxBytes` of lines (a prefix
   * of each device's sequence, so the asker's "since" stays exact).
   */
  since(have: Readonly<Record<string, number>>, maxBytes = SINCE_BYTES): { lines: string[]; more: boolean } {
    const lines: string[] = []
    let bytes = 0
    for (const device of [...this.byDevice.keys()].sort()) {
      const list = this.byDevice.get(device)!
      for (let i = firstAbove(list, have[device] ?? 0); i < list.length; i++) {
        const line = encodeEntry(list[i]!)
        if (bytes + line.length + 1 > maxBytes) return { lines, more: true }
        lines.push(line)
        bytes += line.length + 1
      }
    }
    return { lines, more: false }
  }

  /** Every entry held (plays and tombstones), by device then seq. */
  all(): LogEntry[] {
    return [...this.byDevice.keys()].sort().flatMap((d) => this.byDevice.get(d)!)
  }

  /** Plays that count: every own device's, less those a tombstone removes; oldest first. */
  plays(): PlayEntry[] {
    const rms: RemoveEntry[] = []
    const plays: PlayEntry[] = []
    for (const e of this.entries.values()) (e.kind === 'rm' ? rms.push(e) : plays.push(e))
    return plays.filter((p) => !rms.some((r) => p.at >= r.from && p.at <= r.to)).sort((a, b) => a.at - b.at || a.device.localeCompare(b.device) || a.seq - b.seq)
  }

  /** Count and last play of every track played. */
  stats(): ReadonlyMap<string, TrackPlays> {
    if (this.statsCache) return this.statsCache
    const out = new Map<string, TrackPlays>()
    for (const p of this.plays()) {
      const s = out.get(p.sha256)
      if (s) (s.count++, (s.last = Math.max(s.last, p.at)))
      else out.set(p.sha256, { count: 1, last: p.at })
    }
    this.statsCache = out
    return out
  }

  /** Plays per track inside time windows (a pulled gig playlist's), most played first. */
  countIn(windows: ReadonlyArray<{ from: number; to: number }>): Array<{ sha256: string; count: number }> {
    const counts = new Map<string, number>()
    for (const p of this.plays()) if (windows.some((w) => p.at >= w.from && p.at <= w.to)) counts.set(p.sha256, (counts.get(p.sha256) ?? 0) + 1)
    return [...counts].map(([sha256, count]) => ({ sha256, count })).sort((a, b) => b.count - a.count || (a.sha256 < b.sha256 ? -1 : 1))
  }
}

const playKey = (sha256: string, at: number, source: string) => `${sha256}\0${at}\0${source}`

/** Index of the first entry with a seq above `seq` in a list sorted by seq. */
function firstAbove(list: readonly LogEntry[], seq: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]!.seq <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}
