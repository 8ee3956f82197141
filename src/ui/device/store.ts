// Where the browser device lives between visits: one IndexedDB record
// (database djcloud-device, store device, key "self"). IndexedDB, not
// localStorage: it keeps a CryptoKey as it is (non-extractable stays so)
// and bytes without encoding.
import type { DeviceKey } from './keys.ts'

const DB = 'djcloud-device'
const STORE = 'device'
const SELF = 'self'

/** Everything a device of the circle holds, as the admin node sent it (POST /api/pair/browser). */
export interface StoredDevice {
  v: 1
  key: DeviceKey
  /** hex of the public key */
  device: string
  name: string
  role: 'browser'
  /** The owner id (formatted). */
  owner: string
  certificate: Uint8Array
  /** The owner-signed roster, as received. */
  roster: Uint8Array
  circleSecret: Uint8Array
  trackers: string[]
  bootstrap: string[]
  /** This device's API token on the node that paired it, and that node's origin. */
  token: string
  node: string
  pairedAt: number
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'))
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this page'))
  })
}

async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open()
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const req = fn(tx.objectStore(STORE))
      tx.oncomplete = () => resolve(req.result)
      tx.onerror = tx.onabort = () => reject(tx.error ?? req.error ?? new Error('IndexedDB transaction failed'))
    })
  } finally {
    db.close()
  }
}

export async function readDevice(): Promise<StoredDevice | null> {
  const v = (await run('readonly', (s) => s.get(SELF))) as StoredDevice | undefined
  return v?.v === 1 ? v : null
}

export async function writeDevice(d: StoredDevice): Promise<void> {
  await run('readwrite', (s) => s.put(d, SELF))
}

export async function clearDevice(): Promise<void> {
  await run('readwrite', (s) => s.delete(SELF))
}
