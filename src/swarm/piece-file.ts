// Where a torrent's bytes live. A seeded track is a file from the library,
// read in place. A fetched track is written to <cache>/<sha256>.part with a
// sidecar <sha256>.have listing pieces written (data fdatasync'd first), so a
// restart resumes from them; it becomes <cache>/<sha256> only once the whole
// file's SHA-256 checks. A resumed piece is SHA-1-checked again before it is
// served or counted: a .part can be damaged while no one is watching (a
// power cut, a disk, a person), and the final name promises its SHA-256.
import { mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { Bitfield } from './bitfield.ts'
import { pieceHash, pieceSize, type TorrentMeta } from './torrent-meta.ts'
import { PieceFileError, type PartialStore, type PieceSource } from './piece-store.ts'

export { PieceFileError } from './piece-store.ts'
export type { PartialStore, PieceSource } from './piece-store.ts'

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
  /** The next .have, renamed over it once written: a crash leaves the old one or the new one, never half of one. */
  haveTmp: join(cacheDir, `${sha256}.have.tmp`),
})

/**
 * Bytes read at once by the resume check and the whole-file check: large
 * sequential reads (the disk's fast path), small enough that a close() waits
 * for at most one of them.
 */
const CHECK_CHUNK = 8 * 1024 * 1024 // bytes

const sha1Matches = (meta: TorrentMeta, index: number, data: Uint8Array) =>
  createHash('sha1').update(data).digest().equals(pieceHash(meta, index))

/** A file being fetched into the cache. */
export class PartialFile implements PartialStore {
  readonly partial = true
  /** Data writes, reads and checks in flight, and the sidecar save: close and finish wait for them. */
  private readonly inflight = new Set<Promise<void>>()
  /**
   * Pieces the .have sidecar lists, not SHA-1-checked again since this run
   * opened the file: neither served, nor offered, nor counted in `have`
   * until they pass (see verifyPiece, reverify).
   */
  private readonly unverified: Set<number>
  private readonly checking = new Map<number, Promise<boolean>>()
  private reverifying: Promise<void> | null = null
  private closed = false
  /** Told of each resumed piece once checked: kept (true) or dropped to be fetched again (false). */
  onVerified: ((index: number, ok: boolean) => void) | null = null

  private constructor(
    private readonly fh: FileHandle,
    readonly meta: TorrentMeta,
    /** Pieces verified in this run: what is served and offered. */
    readonly have: Bitfield,
    claimed: Bitfield,
    private readonly paths: ReturnType<typeof cachePaths>,
  ) {
    this.unverified = new Set()
    for (let i = 0; i < meta.pieceCount; i++) if (claimed.get(i)) this.unverified.add(i)
  }

  /** Opens (or resumes) the partial download of `meta` in `cacheDir`. Nothing is read or checked yet. */
  static async open(cacheDir: string, meta: TorrentMeta): Promise<PartialFile> {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 })
    const paths = cachePaths(cacheDir, meta.sha256)
    await rm(paths.haveTmp, { force: true }) // a save cut short by a crash
    const saved = await readFile(paths.have).catch(() => null)
    const partExists = await stat(paths.part).then((s) => s.size === meta.size, () => false)
    const fh = await open(paths.part, partExists ? 'r+' : 'w+')
    if (!partExists) await fh.truncate(meta.size)
    const claimed = new Bitfield(meta.pieceCount, partExists && saved ? saved : undefined)
    return new PartialFile(fh, meta, new Bitfield(meta.pieceCount), claimed, paths)
  }

  /** Resumed pieces still to check. */
  get unverifiedCount(): number {
    return this.unverified.size
  }

  isUnverified(index: number): boolean {
    return this.unverified.has(index)
  }

  read(index: number, offset: number, length: number): Promise<Buffer> {
    return this.readAt(index * this.meta.pieceLength + offset, length)
  }

  /** Bytes of verified pieces only: a resumed piece is checked first, and a piece not held is refused, never read as zeros. */
  readAt(position: number, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial file is closed'))
    if (this.finishing) return Promise.reject(new PieceFileError('ERR_CHANGED', 'the partial file is being finished'))
    const L = this.meta.pieceLength
    const first = Math.floor(position / L)
    const last = Math.floor((position + length - 1) / L)
    const pending: Array<Promise<boolean>> = []
    for (let i = first; i <= last; i++) {
      if (this.unverified.has(i)) pending.push(this.verifyPiece(i))
      else if (!this.have.get(i)) return Promise.reject(new PieceFileError('ERR_NOT_HELD', `piece ${i} is not held here`))
    }
    if (pending.length === 0) return this.track(readAt(this.fh, position, length))
    return Promise.all(pending).then((oks) => {
      if (!oks.every(Boolean)) throw new PieceFileError('ERR_NOT_HELD', `a resumed piece under bytes ${position}-${position + length - 1} failed its SHA-1`)
      return this.readAt(position, length)
    })
  }

  /** Keeps `p` in the set that finish() and close() wait for. */
  private track<T>(p: Promise<T>): Promise<T> {
    const done = p.then(() => {}, () => {})
    this.inflight.add(done)
    void done.finally(() => this.inflight.delete(done))
    return p
  }

  /**
   * Checks one resumed piece now (a reader wants it), ahead of the
   * background pass. True when it is verified (now or before).
   */
  verifyPiece(index: number): Promise<boolean> {
    if (!this.unverified.has(index)) return Promise.resolve(this.have.get(index))
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial file is closed'))
    let p = this.checking.get(index)
    if (!p) {
      p = this.track(readAt(this.fh, index * this.meta.pieceLength, pieceSize(this.meta, index)).then((buf) => this.settle(index, buf)))
      this.checking.set(index, p)
      void p.finally(() => this.checking.delete(index)).catch(() => {})
    }
    return p
  }

  /** Records the check of a resumed piece (the background pass and a reader may both have read it). */
  private settle(index: number, data: Uint8Array): boolean {
    if (!this.unverified.delete(index)) return this.have.get(index)
    const ok = sha1Matches(this.meta, index, data)
    if (ok) this.have.set(index)
    else this.saveSidecar() // dropped from the sidecar too: it is fetched again
    this.onVerified?.(index, ok)
    return ok
  }

  /**
   * Checks every resumed piece, in file order, CHECK_CHUNK at a time; stops
   * between chunks once closed. Memoised: one pass per open.
   */
  reverify(): Promise<void> {
    this.reverifying ??= this.track(
      (async () => {
        const L = this.meta.pieceLength
        const per = Math.max(1, Math.floor(CHECK_CHUNK / L))
        const buf = Buffer.allocUnsafe(per * L)
        for (let i = 0; i < this.meta.pieceCount && !this.closed; ) {
          if (!this.unverified.has(i) || this.checking.has(i)) {
            i++
            continue
          }
          // A run of consecutive resumed pieces, read in one go.
          let end = i
          while (end + 1 < this.meta.pieceCount && end + 1 - i < per && this.unverified.has(end + 1) && !this.checking.has(end + 1)) end++
          const from = i * L
          const to = Math.min(this.meta.size, (end + 1) * L)
          let bytesRead = 0
          for (let n = -1; n !== 0 && bytesRead < to - from; bytesRead += n) {
            n = (await this.fh.read(buf, bytesRead, to - from - bytesRead, from + bytesRead)).bytesRead
          }
          if (this.closed) return
          for (let k = i; k <= end; k++) {
            const at = (k - i) * L
            const size = pieceSize(this.meta, k)
            // A file cut short (it should not be: open checks its size) fails those pieces.
            this.settle(k, at + size <= bytesRead ? buf.subarray(at, at + size) : Buffer.alloc(0))
          }
          i = end + 1
        }
        // Pieces a reader was checking when the pass reached them.
        await Promise.allSettled([...this.checking.values()])
      })(),
    )
    return this.reverifying
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
    if (this.closed) return Promise.reject(new PieceFileError('ERR_CLOSED', 'the partial file is closed'))
    this.unverified.delete(index)
    return this.track(
      this.fh.write(data, 0, data.length, index * this.meta.pieceLength).then(() => {
        this.have.set(index)
        this.saveSidecar()
        // After this turn: whoever awaits the write (the torrent's 'piece') runs first.
        setImmediate(() => this.hashAhead())
      }),
    )
  }

  /** A verified piece found bad on disk (the whole file failed): no longer held, fetched again. */
  drop(index: number): void {
    this.have.clear(index)
    this.saveSidecar()
    // The file's hash so far may have read that piece (or be reading it): it starts again from the top. Drops are rare (a failed whole-file check).
    this.prefix = { hash: createHash('sha256'), pos: 0 }
  }

  /**
   * The whole file's SHA-256, read back from the file as its pieces reach
   * it in order: the check in finish() then reads only what is left, not
   * the whole file after the last piece (200 MB: ~0.4 s of a 2-core
   * machine's time, at the end of every fetch). Same bytes, same check;
   * only earlier, while the download waits on the network.
   */
  private prefix = { hash: createHash('sha256'), pos: 0 }
  private hashing: Promise<void> | null = null

  private hashAhead(): void {
    if (this.hashing || this.finishing || this.closed) return
    this.hashing = this.track((async () => {
      const L = this.meta.pieceLength
      while (!this.finishing && !this.closed && this.prefix.pos < this.meta.size && this.have.get(this.prefix.pos / L)) {
        // A run of held pieces from the hashed prefix on, at most CHECK_CHUNK bytes.
        let end = this.prefix.pos
        while (end < this.meta.size && end - this.prefix.pos < CHECK_CHUNK && this.have.get(end / L)) end = Math.min(this.meta.size, end + L)
        const { hash, pos } = this.prefix
        const data = await readAt(this.fh, pos, end - pos)
        // A drop while reading reset the prefix: what was read is not part of it.
        if (this.prefix.hash === hash && this.prefix.pos === pos) {
          hash.update(data)
          this.prefix.pos = end
        }
      }
    })())
      .catch(() => {}) // closed under us: finish() (if it comes) reads what is left
      .finally(() => (this.hashing = null))
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0 || this.sidecarSaving) {
      await Promise.allSettled([...this.inflight, this.sidecarSaving])
    }
  }

  /**
   * Rewrites the sidecar: the pieces written so far (and resumed ones not
   * checked yet) are fdatasync'd first, then the list goes to a temp file
   * renamed over the old one. One fdatasync per rewrite, and rewrites
   * coalesce: a fast download syncs in batches, not per piece.
   */
  private saveSidecar(): void {
    this.sidecarDirty = true
    if (this.sidecarSaving) return
    this.sidecarSaving = (async () => {
      while (this.sidecarDirty) {
        this.sidecarDirty = false
        // Taken before the sync: only pieces whose write had finished are listed.
        const list = new Bitfield(this.meta.pieceCount, this.have.bytes)
        for (const i of this.unverified) list.set(i)
        try {
          await this.fh.datasync()
          await writeFile(this.paths.haveTmp, list.bytes)
          await rename(this.paths.haveTmp, this.paths.have)
        } catch {
          // closed under us or the disk refused: the old sidecar stays, which lists less, never more
        }
      }
      this.sidecarSaving = null
    })()
  }

  /**
   * Checks the whole file's SHA-256 and moves it into place; returns the
   * final path. On a mismatch (ERR_VERIFY) the partial file stays open and
   * usable: see recheck() and discard().
   */
  async finish(): Promise<string> {
    if (this.closed) throw new PieceFileError('ERR_CLOSED', 'the partial file is closed')
    this.finishing = true
    try {
      await this.drain()
      const ok = await this.track(this.wholeFileMatches())
      if (!ok) throw new PieceFileError('ERR_VERIFY', 'the fetched file does not match its SHA-256')
      // The final name promises its SHA-256 from now on: its bytes reach the disk before the name does.
      await this.fh.datasync()
      await this.fh.close()
    } catch (err) {
      this.finishing = false
      throw this.closed ? new PieceFileError('ERR_CLOSED', 'the partial file was closed while being finished') : err
    }
    this.closed = true
    await rename(this.paths.part, this.paths.final)
    await rm(this.paths.have, { force: true })
    return this.paths.final
  }

  /** finish(), then the finished file opened to be served. */
  async complete(): Promise<{ path: string; source: PieceSource }> {
    const path = await this.finish()
    return { path, source: await CompleteFile.open(path, this.meta) }
  }

  private async wholeFileMatches(): Promise<boolean> {
    await this.hashing
    // Continues the hash read ahead during the download (a failed check starts over: recheck drops pieces).
    const { hash, pos: from } = this.prefix
    this.prefix = { hash: createHash('sha256'), pos: 0 }
    const chunk = Buffer.allocUnsafe(CHECK_CHUNK)
    for (let pos = from; pos < this.meta.size; ) {
      if (this.closed) throw new PieceFileError('ERR_CLOSED', 'closed during the check')
      const { bytesRead } = await this.fh.read(chunk, 0, Math.min(chunk.length, this.meta.size - pos), pos)
      if (bytesRead === 0) return false
      hash.update(chunk.subarray(0, bytesRead))
      pos += bytesRead
    }
    return hash.digest('hex') === this.meta.sha256
  }

  /** SHA-1-checks every held piece again; drops and returns those that fail (after a failed finish). */
  async recheck(): Promise<number[]> {
    const bad: number[] = []
    await this.track(
      (async () => {
        for (let i = 0; i < this.meta.pieceCount; i++) {
          if (this.closed) throw new PieceFileError('ERR_CLOSED', 'closed during the check')
          if (!this.have.get(i)) continue
          const data = await readAt(this.fh, i * this.meta.pieceLength, pieceSize(this.meta, i))
          if (!sha1Matches(this.meta, i, data)) bad.push(i)
        }
      })(),
    )
    for (const i of bad) this.drop(i)
    return bad
  }

  /** Gives the download up: the partial file and its sidecar are deleted. */
  async discard(): Promise<void> {
    await this.close()
    await rm(this.paths.part, { force: true })
    await rm(this.paths.have, { force: true })
  }

  /** Stops reads, checks and writes between chunks, waits for those under way, and closes the file. */
  async close(): Promise<void> {
    const wasClosed = this.closed
    this.closed = true
    await this.drain()
    if (!wasClosed) await this.fh.close().catch(() => {})
  }
}
