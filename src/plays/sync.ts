// Keeps the play logs of own devices in step over the device channel (never
// the friends' channels: plays are private to the owner). A device that
// appends tells its linked devices (a notice of kind "plays"); a device told,
// or newly linked, asks with a "plays" command for every entry above the
// seqs it holds, page by page. What it merged is passed on the same way, so
// devices linked only through others get it too.
import { createHash } from 'node:crypto'
import type { CommandAnswer, DeviceLink, ManifestNotice } from '../swarm/index.ts'
import type { DeviceTrust, PlayBook } from './play-book.ts'
import { MAX_LINE } from './entry.ts'

export const PLAYS_COMMAND = 'plays'
export const PLAYS_NOTICE = 'plays'
/** Pages one pull may ask for before it stops (the next notice or link goes on). */
const MAX_PAGES = 1000
const MAX_HAVE = 4096 // devices named in one ask (a roster is far smaller)

/** The part of the device channel the sync uses. */
export interface PlayChannel {
  on(event: 'link', fn: (link: DeviceLink) => void): unknown
  on(event: 'notice', fn: (link: DeviceLink, n: ManifestNotice) => void): unknown
  off(event: 'link', fn: (link: DeviceLink) => void): unknown
  off(event: 'notice', fn: (link: DeviceLink, n: ManifestNotice) => void): unknown
  notify(n: ManifestNotice, links?: DeviceLink[]): void
  onCommand(kind: string, handler: ((body: Uint8Array, link: DeviceLink) => Promise<CommandAnswer>) | null): void
  command(link: DeviceLink, kind: string, body: Uint8Array): Promise<Uint8Array>
}

export interface PlaySyncOptions {
  book: PlayBook
  channel: PlayChannel
  trust: (device: string) => DeviceTrust
  onWarning?: (err: Error) => void
}

export class PlaySync {
  private started = false
  private stopped = false
  /** One pull per link at a time; a notice during one asks for another after it. */
  private readonly pulling = new Map<DeviceLink, { again: boolean }>()
  private readonly onLink = (link: DeviceLink) => this.pull(link)
  private readonly onNotice = (link: DeviceLink, n: ManifestNotice) => {
    if (n.kind === PLAYS_NOTICE) this.pull(link)
  }
  private readonly onAdded = () => this.announce()

  constructor(private readonly opts: PlaySyncOptions) {}

  /** Listens for links and notices and answers the command. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    const { channel, book } = this.opts
    channel.on('link', this.onLink)
    channel.on('notice', this.onNotice)
    channel.onCommand(PLAYS_COMMAND, (body, link) => this.answer(body, link))
    book.on('added', this.onAdded)
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    const { channel, book } = this.opts
    channel.off('link', this.onLink)
    channel.off('notice', this.onNotice)
    channel.onCommand(PLAYS_COMMAND, null)
    book.off('added', this.onAdded)
  }

  /** Tells linked devices this log grew (the seq is our newest entry's, the hash only fills the notice's field). */
  private announce(): void {
    if (this.stopped) return
    const self = this.opts.book.self
    const seq = this.opts.book.have()[self] ?? 0
    const infoHash = createHash('sha1').update(JSON.stringify(this.opts.book.have())).digest('hex')
    this.opts.channel.notify({ kind: PLAYS_NOTICE, signer: self, infoHash, seq })
  }

  private async answer(body: Uint8Array, link: DeviceLink): Promise<CommandAnswer> {
    if (this.opts.trust(link.device) !== 'own') return { refused: 'not an own device' }
    let have: Record<string, number>
    try {
      have = parseHave(Buffer.from(body).toString('utf8'))
    } catch {
      return { refused: 'malformed ask' }
    }
    const { lines, more } = this.opts.book.since(have)
    return { body: Buffer.from([more ? 'more' : 'end', ...lines].join('\n'), 'utf8') }
  }

  /** Asks one link for what we lack, page by page, and merges it. */
  pull(link: DeviceLink): void {
    if (this.stopped) return
    const running = this.pulling.get(link)
    if (running) {
      running.again = true
      return
    }
    const state = { again: false }
    this.pulling.set(link, state)
    void (async () => {
      do {
        state.again = false
        await this.pullOnce(link)
      } while (state.again && !this.stopped)
    })()
      .catch((err: Error & { code?: string }) => {
        // An own device of a version before play history refuses the command it does not know: nothing to take.
        if (err.code === 'ERR_REFUSED' && err.message.endsWith('is not served here')) return
        // The link went (the device left): the next link or notice pulls again.
        if (err.code === 'ERR_LINK_GONE') return
        this.opts.onWarning?.(err)
      })
      .finally(() => this.pulling.delete(link))
  }

  private async pullOnce(link: DeviceLink): Promise<void> {
    for (let page = 0; page < MAX_PAGES && !this.stopped; page++) {
      const raw = await this.opts.channel.command(link, PLAYS_COMMAND, Buffer.from(JSON.stringify(this.opts.book.have())))
      if (this.stopped) return
      const [head, ...lines] = Buffer.from(raw).toString('utf8').split('\n')
      if (head !== 'more' && head !== 'end') throw new Error(`${link.name}: a malformed plays answer`)
      const got = await this.opts.book.merge(lines.filter((l) => l.length > 0 && l.length <= MAX_LINE))
      if (got.refused.length) {
        const reasons = [...new Set(got.refused.map((r) => r.reason))].join(', ')
        this.opts.onWarning?.(new Error(`refused ${got.refused.length} play-log entries from ${link.name} (${reasons})`))
      }
      // A page with nothing new would be asked again forever.
      if (head === 'end' || got.added === 0) return
    }
  }
}

function parseHave(text: string): Record<string, number> {
  const v = JSON.parse(text) as unknown
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
  const out: Record<string, number> = {}
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > MAX_HAVE) throw new Error('too many devices')
  for (const [k, n] of entries) {
    if (!/^[0-9a-f]{64}$/.test(k) || !Number.isSafeInteger(n) || (n as number) < 0) throw new Error('bad entry')
    out[k] = n as number
  }
  return out
}
