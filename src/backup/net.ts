// Backups on the network (docs/backup.md, "Over the network"): the DHT
// pointer under the owner key naming the latest versions, and the folders of
// versions a device keeps: its own pushed ones (admin device) and the ones it
// holds for friends, within a quota per friend. Pure file and codec work; the
// node moves the bytes (src/node/backups.ts).
import { createHash, createHmac, hkdfSync } from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fieldList } from '../codec/index.ts'

/** The BEP 44 salt of the backup pointer: plain, so anyone with the owner key (a friend, a new device) finds it. */
export const BACKUP_SALT = Buffer.from('djcloud/backup', 'latin1')
/** Versions named by the pointer and kept by the owner. */
export const KEEP_VERSIONS = 3
/** A friend's default quota for one owner's backups. */
export const DEFAULT_QUOTA_BYTES = 200 * 1024 * 1024

export interface BackupVersion {
  seq: number
  /** SHA-256 (hex) of the backup file: what it is fetched by and checked against. */
  sha256: string
  size: number
}

/** Every field of the pointer and of one version in it: a pointer with anything else is malformed. */
const POINTER_FIELDS = fieldList('v', 'b', 'f')
const VERSION_FIELDS = fieldList('q', 's', 'n')
const onlyKnown = (d: object, fields: ReadonlySet<string>) => Object.keys(d).every((k) => fields.has(k))

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Friends named (sealed) in the pointer: the value must stay under ~990 bytes. */
export const MAX_POINTER_FRIENDS = 16

/**
 * The pointer's value: `{v: 1, b: [{q: seq, s: sha256, n: size}], f: sealed}`,
 * newest first (about 60 bytes a version). `f` is the owner's friends (the
 * devices that hold the backups) sealed with a key from the backup key: a
 * device restoring from the phrase alone learns whom to ask (the backup
 * channels derive from each friendship secret), and nobody else learns
 * anything from it.
 */
export function encodePointer(versions: BackupVersion[], friends?: Uint8Array): { v: number; b: Array<{ q: number; s: Buffer; n: number }>; f?: Uint8Array } {
  const newest = [...versions].sort((a, b) => b.seq - a.seq).slice(0, KEEP_VERSIONS)
  const out: { v: number; b: Array<{ q: number; s: Buffer; n: number }>; f?: Uint8Array } = { v: 1, b: newest.map((x) => ({ q: x.seq, s: Buffer.from(x.sha256, 'hex'), n: x.size })) }
  if (friends) out.f = friends
  return out
}

function friendsKey(backupKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', backupKey, 'djcloud/v1', 'backup-pointer-friends', 32))
}

/**
 * Seals friend owner keys (the first MAX_POINTER_FRIENDS) for the pointer.
 * The nonce is derived from the content: the same list seals to the same
 * bytes, so the pointer at one seq keeps one value when put again.
 */
export function sealPointerFriends(backupKey: Uint8Array, friends: Uint8Array[]): Uint8Array {
  const key = friendsKey(backupKey)
  const plain = Buffer.concat(friends.slice(0, MAX_POINTER_FRIENDS).map((f) => Buffer.from(f)))
  const nonce = createHmac('sha256', key).update(plain).digest().subarray(0, 24)
  return Buffer.concat([nonce, xchacha20poly1305(key, nonce).encrypt(plain)])
}

/** The friend owner keys sealed in a pointer value; [] when it names none or they do not open with this backup key. */
export function openPointerFriends(backupKey: Uint8Array, v: unknown): Uint8Array[] {
  const f = typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? (v as Record<string, unknown>).f : undefined
  if (!(f instanceof Uint8Array) || f.length < 24 + 16 || f.length > 24 + 16 + 32 * MAX_POINTER_FRIENDS) return []
  let plain: Uint8Array
  try {
    plain = xchacha20poly1305(friendsKey(backupKey), f.subarray(0, 24)).decrypt(f.subarray(24))
  } catch {
    return []
  }
  const out: Uint8Array[] = []
  for (let i = 0; i + 32 <= plain.length; i += 32) out.push(plain.slice(i, i + 32))
  return out
}

/** Reads a pointer value found on the DHT (anyone can put under a key they hold; this one is signed by the owner, but still checked); null when malformed. */
export function decodePointer(v: unknown): BackupVersion[] | null {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || Array.isArray(v)) return null
  const d = v as Record<string, unknown>
  if (!onlyKnown(d, POINTER_FIELDS)) return null
  if (d.v !== 1 || !Array.isArray(d.b) || d.b.length === 0 || d.b.length > 16) return null
  const out: BackupVersion[] = []
  for (const e of d.b) {
    if (typeof e !== 'object' || e === null || Array.isArray(e) || e instanceof Uint8Array) return null
    if (!onlyKnown(e, VERSION_FIELDS)) return null
    const { q, s, n } = e as Record<string, unknown>
    if (!Number.isSafeInteger(q) || (q as number) < 1 || !(s instanceof Uint8Array) || s.length !== 32) return null
    if (!Number.isSafeInteger(n) || (n as number) < 1) return null
    out.push({ seq: q as number, sha256: Buffer.from(s).toString('hex'), size: n as number })
  }
  return out.sort((a, b) => b.seq - a.seq)
}

const NAME = /^(\d{1,16})-([0-9a-f]{64})\.djbackup$/

/** A folder of backup files named `<seq>-<sha256>.djbackup`. */
export class VersionDir {
  constructor(readonly dir: string) {}

  /** The versions held, oldest first. */
  async list(): Promise<BackupVersion[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const out: BackupVersion[] = []
    for (const name of names) {
      const m = NAME.exec(name)
      if (!m) continue
      const st = await stat(join(this.dir, name)).catch(() => null)
      if (st) out.push({ seq: Number(m[1]), sha256: m[2]!, size: st.size })
    }
    return out.sort((a, b) => a.seq - b.seq)
  }

  private path(v: { seq: number; sha256: string }): string {
    return join(this.dir, `${v.seq}-${v.sha256}.djbackup`)
  }

  async read(sha256: string): Promise<Uint8Array | undefined> {
    const v = (await this.list()).find((x) => x.sha256 === sha256)
    if (!v) return undefined
    const data = await readFile(this.path(v)).catch(() => undefined)
    return data && sha256hex(data) === sha256 ? data : undefined // a file damaged on disk is not served
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.list()).some((x) => x.sha256 === sha256)
  }

  /** Writes a version (atomically); the caller has checked it. */
  async add(seq: number, bytes: Uint8Array): Promise<BackupVersion> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const v = { seq, sha256: sha256hex(bytes), size: bytes.length }
    const tmp = `${this.path(v)}.${process.pid}.tmp`
    await writeFile(tmp, bytes, { mode: 0o600 })
    await rename(tmp, this.path(v))
    return v
  }

  /**
   * Drops the oldest versions until at most `keep` remain and they fit in
   * `quota` bytes (the newest is dropped too when alone it does not fit).
   * Returns the versions dropped.
   */
  async prune(keep: number, quota = Infinity): Promise<BackupVersion[]> {
    const all = await this.list()
    const dropped: BackupVersion[] = []
    let total = all.reduce((n, v) => n + v.size, 0)
    while (all.length > 0 && (all.length > keep || total > quota)) {
      const v = all.shift()!
      await rm(this.path(v), { force: true })
      total -= v.size
      dropped.push(v)
    }
    return dropped
  }
}

/** Where an admin device keeps the versions it pushed. */
export const pushedDir = (home: string) => new VersionDir(join(home, 'backup', 'pushed'))
/** Where a device keeps a friend's backups. */
export const heldDir = (home: string, ownerHex: string) => new VersionDir(join(home, 'backup', 'held', ownerHex))

/** Owners (hex) whose backups this home holds some of. */
export async function heldOwners(home: string): Promise<string[]> {
  const names = await readdir(join(home, 'backup', 'held')).catch(() => [] as string[])
  return names.filter((n) => /^[0-9a-f]{64}$/.test(n))
}

const quotaFile = (home: string) => join(home, 'backup', 'quotas.json')

/** The quota (bytes) for each friend (owner hex) that has one set; others get DEFAULT_QUOTA_BYTES. */
export async function readQuotas(home: string): Promise<Record<string, number>> {
  try {
    const q = JSON.parse(await readFile(quotaFile(home), 'utf8')) as { v?: number; quotas?: Record<string, unknown> }
    const out: Record<string, number> = {}
    for (const [k, n] of Object.entries(q.quotas ?? {})) if (/^[0-9a-f]{64}$/.test(k) && Number.isSafeInteger(n) && (n as number) >= 0) out[k] = n as number
    return out
  } catch {
    return {}
  }
}

export async function quotaFor(home: string, ownerHex: string): Promise<number> {
  return (await readQuotas(home))[ownerHex] ?? DEFAULT_QUOTA_BYTES
}

export async function setQuota(home: string, ownerHex: string, bytes: number): Promise<void> {
  const quotas = { ...(await readQuotas(home)), [ownerHex]: bytes }
  await mkdir(join(home, 'backup'), { recursive: true, mode: 0o700 })
  const tmp = `${quotaFile(home)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ v: 1, quotas }), { mode: 0o600 })
  await rename(tmp, quotaFile(home))
}
