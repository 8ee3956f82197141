// The info dicts of the tracks the page holds, kept in IndexedDB beside the
// store: the store keeps bytes and which pieces it has, not the piece
// hashes, and the page needs the info dict to answer a lookup and to serve
// (the Node device that asks checks it against the circle, docs/swarm.md).
const STORE = 'info'

export class InfoDicts {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly cache: Map<string, Uint8Array>,
  ) {}

  static async open(name: string): Promise<InfoDicts> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(`${name}-info`, 1)
      req.onupgradeneeded = () => req.result.createObjectStore(STORE)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'))
    })
    const cache = new Map<string, Uint8Array>()
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readonly')
      const cursor = tx.objectStore(STORE).openCursor()
      cursor.onsuccess = () => {
        const c = cursor.result
        if (!c) return
        // A Buffer, as the shared code takes (IndexedDB gives a Uint8Array back).
        if (typeof c.key === 'string' && c.value instanceof Uint8Array) cache.set(c.key, Buffer.from(c.value))
        c.continue()
      }
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB read failed'))
    })
    return new InfoDicts(db, cache)
  }

  get(sha256: string): Uint8Array | undefined {
    return this.cache.get(sha256)
  }

  async put(sha256: string, info: Uint8Array): Promise<void> {
    this.cache.set(sha256, info)
    await new Promise<void>((resolve, reject) => {
      const tx = this.db.transaction(STORE, 'readwrite')
      tx.objectStore(STORE).put(Uint8Array.from(info), sha256)
      tx.oncomplete = () => resolve()
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write failed'))
    })
  }

  close(): void {
    this.db.close()
  }
}
