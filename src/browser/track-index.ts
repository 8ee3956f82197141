// The browser track store's index, in IndexedDB: per track (by SHA-256) its
// size, piece length, pieces held, whether it is complete, when it was last
// used and whether it is pinned; and the byte budget the user set. OPFS holds
// the bytes (track-store.ts); this says what they are. A record is written
// after the bytes it describes, so it may list fewer pieces than are there,
// never more.

export interface TrackRecord {
  sha256: string
  size: number
  pieceLength: number
  /** BitTorrent bitfield of the pieces written. */
  held: Uint8Array
  complete: boolean
  /** Order of last use (larger is more recent): eviction takes the smallest first. */
  lastUsed: number
  pinned: boolean
}

const TRACKS = 'tracks'
const SETTINGS = 'settings'

const done = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })

export class TrackIndex {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name: string): Promise<TrackIndex> {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => {
      req.result.createObjectStore(TRACKS, { keyPath: 'sha256' })
      req.result.createObjectStore(SETTINGS)
    }
    return new TrackIndex(await done(req))
  }

  private store(name: string, mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction(name, mode).objectStore(name)
  }

  async all(): Promise<TrackRecord[]> {
    return (await done(this.store(TRACKS, 'readonly').getAll())) as TrackRecord[]
  }

  async put(r: TrackRecord): Promise<void> {
    await done(this.store(TRACKS, 'readwrite').put(r))
  }

  async delete(sha256: string): Promise<void> {
    await done(this.store(TRACKS, 'readwrite').delete(sha256))
  }

  async setting<T>(key: string): Promise<T | undefined> {
    return (await done(this.store(SETTINGS, 'readonly').get(key))) as T | undefined
  }

  async setSetting(key: string, value: unknown): Promise<void> {
    await done(this.store(SETTINGS, 'readwrite').put(value, key))
  }

  close(): void {
    this.db.close()
  }
}
