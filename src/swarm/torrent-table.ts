// The torrents this device has opening or open, by infohash, and since when
// each open one has had no peer. Kept in step here and nowhere else:
// - every torrent opening or open is in `opening`; one whose open failed
//   leaves it (unless another took its place), so a later open starts over;
// - the open ones (resolved) are also in `open`, the same Torrent objects;
// - `remove` takes a torrent out of both in one step (the caller closes it).
import type { Torrent } from './torrent.ts'

export class TorrentTable {
  private readonly opening = new Map<string, Promise<Torrent>>()
  private readonly open = new Map<string, Torrent>()
  /** When an open torrent's last peer left (performance.now()); absent while it has peers. */
  private readonly lonelySince = new WeakMap<Torrent, number>()

  /** The torrent opening or open under this infohash. */
  get(infoHash: string): Promise<Torrent> | undefined {
    return this.opening.get(infoHash)
  }

  has(infoHash: string): boolean {
    return this.opening.has(infoHash)
  }

  /** Torrents opening or open. */
  get size(): number {
    return this.opening.size
  }

  /** Records a torrent being opened; if its open fails it is forgotten (when still the one recorded). */
  add(infoHash: string, opening: Promise<Torrent>): Promise<Torrent> {
    this.opening.set(infoHash, opening)
    opening.catch(() => this.opening.get(infoHash) === opening && this.opening.delete(infoHash))
    return opening
  }

  /** A torrent whose file opened: listed as open, lonely until its first peer. */
  opened(t: Torrent): Torrent {
    this.open.set(t.meta.infoHash.toString('hex'), t)
    this.lonelySince.set(t, performance.now())
    t.on('peer', () => this.lonelySince.delete(t))
    t.on('peer-gone', () => t.peerCount === 0 && this.lonelySince.set(t, performance.now()))
    return t
  }

  isOpen(infoHash: string): boolean {
    return this.open.has(infoHash)
  }

  /** Takes this torrent out (when it is still the one under its infohash); whether it was. */
  remove(t: Torrent): boolean {
    const ih = t.meta.infoHash.toString('hex')
    if (this.open.get(ih) !== t) return false
    this.open.delete(ih)
    this.opening.delete(ih)
    return true
  }

  /** Every open torrent. */
  openNow(): Torrent[] {
    return [...this.open.values()]
  }

  /** The open torrents of one track (a track may be open under one infohash per circle). */
  openOf(sha256: string): Torrent[] {
    return [...this.open.values()].filter((t) => t.meta.sha256 === sha256)
  }

  /** ms since this open torrent's last peer left; undefined while it has peers. */
  lonelyFor(t: Torrent): number | undefined {
    const since = this.lonelySince.get(t)
    return since === undefined ? undefined : performance.now() - since
  }

  /** Every torrent that opened, waiting for those still opening. */
  async all(): Promise<Torrent[]> {
    const settled = await Promise.allSettled(this.opening.values())
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  }
}
