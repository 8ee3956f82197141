// Where a home keeps manifests: <home>/manifests/blobs/<sha256> holds every
// blob this device published or fetched (so it can serve them to other own
// devices and rebuild its view after a restart), and state.json the seqs
// (own and seen) and this device's own playlist edits. Written atomically
// (temp file + rename); one process (the node, or the CLI when no node runs).
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { blobOf, MAX_BLOB_BYTES, type Blob } from './blob.ts'
import type { PlaylistEdits } from './playlist-doc.ts'

export interface Published {
  seq: number
  /** SHA-256 hex of the root blob. */
  root: string
  /** SHA-256 hex of the unsigned body, to tell whether a new version is needed. */
  body?: string
}

export interface ManifestState {
  v: 1
  /** What this device published last, by item: "library", "roster", "playlist:<name>". */
  own: Record<string, Published>
  /** The newest verified manifest seen, by "<kind>:<signer hex>[:<name>]". */
  known: Record<string, Published>
  /** This device's own edits of each playlist, by name. */
  playlists: Record<string, PlaylistEdits>
}

export const knownKey = (kind: string, signerHex: string, name?: string) => (name === undefined ? `${kind}:${signerHex}` : `${kind}:${signerHex}:${name}`)

const empty = (): ManifestState => ({ v: 1, own: {}, known: {}, playlists: {} })

export class ManifestStore {
  private readonly byInfoHash = new Map<string, string>() // infohash hex -> sha256 hex
  private readonly bySha = new Map<string, string>() // sha256 hex -> infohash hex
  private saving: Promise<void> = Promise.resolve()

  private constructor(
    readonly dir: string,
    private readonly circleSecret: Uint8Array,
    readonly state: ManifestState,
  ) {}

  static async open(home: string, circleSecret: Uint8Array): Promise<ManifestStore> {
    const dir = join(home, 'manifests')
    await mkdir(join(dir, 'blobs'), { recursive: true, mode: 0o700 })
    let state = empty()
    try {
      const parsed = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as ManifestState
      if (parsed?.v === 1) state = { ...empty(), ...parsed }
    } catch {
      // first start, or a state file that cannot be read: start over (blobs are re-fetched)
    }
    const store = new ManifestStore(dir, circleSecret, state)
    for (const name of await readdir(join(dir, 'blobs'))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      const data = await readFile(join(dir, 'blobs', name)).catch(() => null)
      if (!data) continue
      const blob = blobOf(data, circleSecret)
      // A blob file whose bytes do not match its name (disk trouble) is dropped, not served.
      if (blob.sha256 !== name) await rm(join(dir, 'blobs', name), { force: true })
      else store.index(blob)
    }
    return store
  }

  private path(sha256: string): string {
    return join(this.dir, 'blobs', sha256)
  }

  async putBlob(blob: Blob): Promise<void> {
    if (this.byInfoHash.get(blob.infoHash) === blob.sha256) return
    const tmp = `${this.path(blob.sha256)}.${process.pid}.tmp`
    await writeFile(tmp, blob.data, { mode: 0o600 })
    await rename(tmp, this.path(blob.sha256))
    this.index(blob)
  }

  private index(blob: Blob): void {
    this.byInfoHash.set(blob.infoHash, blob.sha256)
    this.bySha.set(blob.sha256, blob.infoHash)
  }

  hasBlob(sha256: string): boolean {
    return this.bySha.has(sha256)
  }

  /** A stored blob by SHA-256 (64 hex) or infohash (40 hex). */
  async getBlob(id: string): Promise<Buffer | undefined> {
    const sha = id.length === 40 ? this.byInfoHash.get(id) : id
    if (!sha || !/^[0-9a-f]{64}$/.test(sha)) return undefined
    const data = await readFile(this.path(sha)).catch(() => undefined)
    return data && data.length <= MAX_BLOB_BYTES ? data : undefined
  }

  infoHashOf(sha256: string): string | undefined {
    return this.bySha.get(sha256)
  }

  /** Deletes blobs nothing refers to any more (old pages and roots). */
  async collect(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0
    for (const [ih, sha] of [...this.byInfoHash]) {
      if (keep.has(sha)) continue
      this.byInfoHash.delete(ih)
      this.bySha.delete(sha)
      await rm(this.path(sha), { force: true })
      removed++
    }
    return removed
  }

  /** Writes state.json; writes are queued so they never interleave. */
  save(): Promise<void> {
    const text = JSON.stringify(this.state)
    this.saving = this.saving.then(async () => {
      const file = join(this.dir, 'state.json')
      const tmp = `${file}.${process.pid}.tmp`
      await writeFile(tmp, text, { mode: 0o600 })
      await rename(tmp, file)
    })
    return this.saving
  }
}
