// What this device serves: one offer per torrent, and which torrent serves
// each track. The two maps are kept in step here and nowhere else, so
// "held" (a library file or a verified cached copy) has one answer.
import type { TorrentMeta } from './torrent-meta.ts'

export interface Offer {
  sha256: string
  /** Loaded when a peer first asks: piece hashes are not read at start-up. */
  load: () => Promise<{ meta: TorrentMeta; path: string }>
  /** A fetched track in the cache (not a library file): evictable. */
  cached?: boolean
}

/**
 * Invariant: `infoHashOf(sha) === ih` exactly when `get(ih).sha256 === sha`.
 * A track offered again under another infohash replaces its old offer; a
 * library offer is never removed by `dropCached`.
 */
export class OfferTable {
  private readonly byInfoHash = new Map<string, Offer>()
  private readonly bySha = new Map<string, string>()

  set(infoHash: string, offer: Offer): void {
    const old = this.byInfoHash.get(infoHash)
    if (old && old.sha256 !== offer.sha256) this.bySha.delete(old.sha256)
    const before = this.bySha.get(offer.sha256)
    if (before !== undefined && before !== infoHash) this.byInfoHash.delete(before)
    this.byInfoHash.set(infoHash, offer)
    this.bySha.set(offer.sha256, infoHash)
  }

  get(infoHash: string): Offer | undefined {
    return this.byInfoHash.get(infoHash)
  }

  has(infoHash: string): boolean {
    return this.byInfoHash.has(infoHash)
  }

  /** The infohash (hex) serving a track, if this device holds it. */
  infoHashOf(sha256: string): string | undefined {
    return this.bySha.get(sha256)
  }

  /** The offer serving a track, if held. */
  offerOf(sha256: string): Offer | undefined {
    const ih = this.bySha.get(sha256)
    return ih === undefined ? undefined : this.byInfoHash.get(ih)
  }

  holds(sha256: string): boolean {
    return this.bySha.has(sha256)
  }

  /** Stops offering a library track (its file is gone); a cached copy stays. Whether one was removed. */
  dropLibrary(sha256: string): boolean {
    const ih = this.bySha.get(sha256)
    if (ih === undefined || this.byInfoHash.get(ih)!.cached) return false
    this.byInfoHash.delete(ih)
    this.bySha.delete(sha256)
    return true
  }

  /** Stops offering a cached copy (its files are about to go); a library track stays. Whether one was removed. */
  dropCached(sha256: string): boolean {
    const ih = this.bySha.get(sha256)
    if (ih === undefined || !this.byInfoHash.get(ih)?.cached) return false
    this.byInfoHash.delete(ih)
    this.bySha.delete(sha256)
    return true
  }
}
