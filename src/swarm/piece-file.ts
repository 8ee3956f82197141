// Where a torrent's bytes live. A seeded track is a file from the library,
// read in place. A fetched track is written to <cache>/<sha256>.part with a
// sidecar <sha256>.have listing verified pieces, so a restart resumes from
// them; it becomes <cache>/<sha256> only once the whole file's SHA-256 checks.
import { mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { Bitfield } from './bitfield.ts'
import { pieceSize, type TorrentMeta } from './torrent-meta.ts'

export class PieceFileError extends Error {
  override name = 'PieceFileError'
  constructor(
    readonly code: 'ERR_CHANGED' | 'ERR_VERIFY',
    message: string,
  ) {
    super(message)
  }
}

export interface PieceSource {
  readonly have: Bitfield
  read(index: number, offset: number, length: number): Promise<Buffer>
  /** Bytes at an absolute position; only for pieces in `have`. */
  readAt(position: number, length: number): Promise<Buffer>
  close(): Promise<void>
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done)
    if (bytesRead === 0) throw new PieceFileError('ERR_CHANGED', 'the file is shorter than its torrent')
    done += bytesRead
  }
  return buf
}

/** A complete file on disk, hashed at scan time: served without re-verifying. */
export class CompleteFile implements PieceSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly meta: TorrentMeta,
    readonly have: Bitfield,
  ) {}

  static async open(path: string, meta: TorrentMeta): Promise<CompleteFile> {
    const fh = await open(path, 'r')
    const st = await fh.stat()
    if (st.size !== meta.size) {
      await fh.close()
      throw new PieceFileError('ERR_CHANGED', `${path} changed since it was scanned`)
    }
    return new CompleteFile(fh, meta, Bitfield.full(meta.pieceCount))
  }

  read(index: number, offset: number, length: number): Promise<Buffer> {
    return readAt(this.fh, index * this.meta.pieceLength + offset, length)
  }

  readAt(position: number, length: number): Promise<Buffer> {
    return readAt(this.fh, position, length)
  }

  close(): Promise<void> {
    return this.fh.close()
  }
}

export const cachePaths = (cacheDir: string, sha256: string) => ({
  final: join(cacheDir, sha256),
  part: join(cacheDir, `${sha256}.part`),
  have: join(cacheDir, `${sha256}.have`),
})

/** A file being fetched into the cache. */
export class PartialFile implements PieceSource {
  /** Data writes in flight, and the sidecar save: close and finish wait for both. */
  private readonly inflight = new Set<Promise<void>>()

  private constructor(
    private readonly fh: FileHandle,
    readonly meta: TorrentMeta,
    readonly have: Bitfield,
    private readonly paths: ReturnType<typeof cachePaths>,
  ) {}

  /** Opens (or resumes) the partial download of `meta` in `cacheDir`. */
  static async open(cacheDir: string, meta: TorrentMeta): Promise<PartialFile> {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 })
    const paths = cachePaths(cacheDir, meta.sha256)
    const saved = await readFile(paths.have).catch(() => null)
    const partExists = await stat(paths.part).then((s) => s.size === meta.size, () => false)
    const fh = await open(paths.part, partExists ? 'r+' : 'w+')
    if (!partExists) await fh.truncate(meta.size)
    const have = new Bitfield(meta.pieceCount, partExists && saved ? saved : undefined)
    return new PartialFile(fh, meta, have, paths)
  }

  read(index: number, offset: number, length: number): Promise<Buffer> {
    return this.readAt(index * this.meta.pieceLength + offset, length)
  }

  readAt(position: number, length: number): Promise<Buffer> {
    if (this.finishing) return Promise.reject(new PieceFileError('ERR_CHANGED', 'the partial file is being finished'))
    return this.track(readAt(this.fh, position, length))
  }

  /** Keeps `p` in the set that finish() and close() wait for. */
  private track<T>(p: Promise<T>): Promise<T> {
    const done = p.then(() => {}, () => {})
    this.inflight.add(done)
    void done.finally(() => this.inflight.delete(done))
    return p
  }

  private finishing = false

  private sidecarDirty = false
  private sidecarSaving: Promise<void> | null = null

  /**
   * Writes a verified piece. The .have sidecar is rewritten after the bytes
   * are on disk, coalesced (one rewrite covers every piece written while the
   * previous one ran), so it may lag the data but never runs ahead of it.
   */
  writePiece(index: number, data: Uint8Array): Promise<void> {
    if (data.length !== pieceSize(this.meta, index)) return Promise.reject(new RangeError('piece of the wrong size'))
    return this.track(
      this.fh.write(data, 0, data.length, index * this.meta.pieceLength).then(() => {
        this.have.set(index)
        this.saveSidecar()
      }),
    )
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0 || this.sidecarSaving) {
      await Promise.allSettled([...this.inflight, this.sidecarSaving])
    }
  }

  private saveSidecar(): void {
    this.sidecarDirty = true
    if (this.sidecarSaving) return
    this.sidecarSaving = (async () => {
      while (this.sidecarDirty) {
        this.sidecarDirty = false
        await writeFile(this.paths.have, this.have.bytes).catch(() => {})
      }
      this.sidecarSaving = null
    })()
  }

  /** Checks the whole file's SHA-256 and moves it into place; returns the final path. */
  async finish(): Promise<string> {
    this.finishing = true
    await this.drain()
    const hash = createHash('sha256')
    const chunk = Buffer.allocUnsafe(1024 * 1024)
    for (let pos = 0; pos < this.meta.size; ) {
      const { bytesRead } = await this.fh.read(chunk, 0, Math.min(chunk.length, this.meta.size - pos), pos)
      if (bytesRead === 0) break
      hash.update(chunk.subarray(0, bytesRead))
      pos += bytesRead
    }
    await this.fh.close()
    if (hash.digest('hex') !== this.meta.sha256) {
      await rm(this.paths.part, { force: true })
      await rm(this.paths.have, { force: true })
      throw new PieceFileError('ERR_VERIFY', 'the fetched file does not match its SHA-256')
    }
    await rename(this.paths.part, this.paths.final)
    await rm(this.paths.have, { force: true })
    return this.paths.final
  }

  async close(): Promise<void> {
    await this.drain()
    await this.fh.close().catch(() => {})
  }
}
