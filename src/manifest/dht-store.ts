// The item store behind a DHT node (it replaces bittorrent-dht's one LRU of
// `maxValues` items). Two parts:
// - kept: items this node put itself and targets it keeps on purpose (its
//   owner's roster, own devices' pointers, the backup pointers it keeps for
//   friends). No volume of strangers' puts touches them; a put from the
//   network to a kept target (verified and of a higher seq: the library
//   checks both before `set`) updates the kept copy.
// - strangers: everything else, least recently used first out, bounded in
//   entries and in bytes.
// `get` answers from the kept part first, so the library's get handler and
// its seq check on put both see the kept copy.
import type { StoredItem } from 'bittorrent-dht'
import { encode } from '../codec/index.ts'

export interface ItemStoreOptions {
  /** Strangers' items held at most. */
  maxValues: number
  /** Bytes of strangers' items held at most (values, keys, salts, signatures). */
  maxValueBytes: number
  /** Kept targets at most (our own code decides them; the cap guards against a bug, not a peer). */
  maxKept: number
  onWarning?: (err: Error) => void
}

/** What an item costs to hold: its bencoded value plus key, salt, signature, node id and some overhead. */
export function itemBytes(item: StoredItem): number {
  let v: number
  try {
    v = encode(item.v as never).length
  } catch {
    v = Infinity
  }
  return v + (item.k?.length ?? 0) + (item.salt?.length ?? 0) + (item.sig?.length ?? 0) + (item.id?.length ?? 0) + 64
}

const seqOf = (item: StoredItem | null | undefined) => (item && typeof item.seq === 'number' ? item.seq : -1)

export class ItemStore {
  /** Kept targets (hex) -> the newest item held for it (null: kept, none seen yet). */
  readonly #kept = new Map<string, StoredItem | null>()
  /** Strangers' items in use order, oldest first (a Map iterates in insertion order). */
  readonly #strangers = new Map<string, { item: StoredItem; bytes: number }>()
  #strangerBytes = 0
  #keptFullWarned = false

  constructor(private readonly opts: ItemStoreOptions) {}

  /** The item held for a target (hex): the kept copy first. A stranger's item counts as used. */
  get(key: string): StoredItem | undefined {
    const kept = this.#kept.get(key)
    if (kept) return kept
    const s = this.#strangers.get(key)
    if (!s) return undefined
    this.#strangers.delete(key)
    this.#strangers.set(key, s)
    return s.item
  }

  /** The library's write: a put from the network (already verified), or its own immutable put. */
  set(key: string, item: StoredItem): void {
    if (this.#kept.has(key)) {
      // The library checked the seq against get(), which answered with the kept copy.
      this.#kept.set(key, item)
      return
    }
    this.#putStranger(key, item)
  }

  /** Marks a target (hex) as kept: from now on no stranger's put evicts what is held for it. */
  keep(key: string): boolean {
    if (this.#kept.has(key)) return true
    if (this.#kept.size >= this.opts.maxKept) {
      if (!this.#keptFullWarned) this.opts.onWarning?.(new Error(`the DHT node keeps ${this.opts.maxKept} items already; more are stored as strangers' items`))
      this.#keptFullWarned = true
      return false
    }
    const s = this.#strangers.get(key)
    if (s) this.#dropStranger(key)
    this.#kept.set(key, s?.item ?? null)
    return true
  }

  /**
   * Holds `item` as kept for `key` unless a higher or equal seq is held
   * there already (immutable items: unless one is held). The caller has
   * verified it. Returns whether it was taken.
   */
  putKept(key: string, item: StoredItem): boolean {
    if (!this.keep(key)) {
      const held = this.#strangers.get(key)?.item
      if (held && seqOf(held) >= seqOf(item)) return false
      this.#putStranger(key, item)
      return true
    }
    const held = this.#kept.get(key)
    if (held && (typeof item.seq !== 'number' || seqOf(held) >= item.seq)) return false
    this.#kept.set(key, item)
    return true
  }

  isKept(key: string): boolean {
    return this.#kept.has(key)
  }

  stats(): { kept: number; strangers: number; strangerBytes: number } {
    let kept = 0
    for (const v of this.#kept.values()) if (v) kept++
    return { kept, strangers: this.#strangers.size, strangerBytes: this.#strangerBytes }
  }

  #putStranger(key: string, item: StoredItem): void {
    const bytes = itemBytes(item)
    if (this.#strangers.has(key)) this.#dropStranger(key)
    if (bytes > this.opts.maxValueBytes) return
    this.#strangers.set(key, { item, bytes })
    this.#strangerBytes += bytes
    while (this.#strangers.size > this.opts.maxValues || this.#strangerBytes > this.opts.maxValueBytes) {
      this.#dropStranger(this.#strangers.keys().next().value!)
    }
  }

  #dropStranger(key: string): void {
    const s = this.#strangers.get(key)
    if (!s) return
    this.#strangers.delete(key)
    this.#strangerBytes -= s.bytes
  }
}
