// The scanner, in numbered phases:
//   1. index   load what the store knows about paths (one pass over LevelDB)
//   2. walk    list audio files under the roots; unchanged files (same size
//              and mtime) stop here
//   3. read    for each new or changed file: hash it in one pass and read its
//              tags; a file with the same inode, size and mtime as a known one
//              (a move or a hard link) reuses the known hashes without reading
//   4. commit  one atomic LevelDB batch per file
//   5. sweep   known paths under the roots that were not seen are dropped;
//              a track left with no paths is marked missing, never forgotten
// Per-file problems are collected as one-line reasons; the scan goes on.
import { resolve, sep } from 'node:path'
import { stat } from 'node:fs/promises'
import { walkAudioFiles } from './walk.ts'
import { hashFile, READ_CHUNK, type FileHashes } from './hash-file.ts'
import { readTags, type Tags } from './tags.ts'
import { infohashOf } from './torrent-info.ts'
import type { AudioFormat } from '../audio-file/index.ts'
import type { LevelLibraryStore, PathEntry, TrackRecord } from './level-store.ts'
import { LibraryError, ScanError } from './errors.ts'

export interface ScanProgress {
  phase: 'walk' | 'read' | 'sweep'
  filesSeen: number
  filesDone: number
  filesToRead: number
  bytesDone: number
  bytesToRead: number
}

export interface ScanIssue {
  path: string
  code: string
  reason: string
}

export interface ScanSummary {
  roots: string[]
  /** Audio files found under the roots. */
  files: number
  added: number
  /** Files re-read because their size or mtime changed. */
  changed: number
  /** Files found at a new path with bytes already known (moved, renamed or duplicated). */
  newPaths: number
  unchanged: number
  /** Known paths no longer found. */
  removedPaths: number
  /** Tracks that lost their last path in this scan (not counting those rewritten in place: newVersions). */
  missing: number
  /**
   * Files rewritten in place with the same audio (tags written by DJ
   * software): a new SHA-256, the same recording. The old version is
   * marked missing with `replacedBy`, the new one `replaces` it.
   */
  newVersions: number
  skipped: number
  issues: ScanIssue[]
  bytesRead: number
  ms: number
}

export interface ScanOptions {
  /** Files read at once. */
  concurrency?: number
  circleSecret?: Uint8Array
  onProgress?: (p: ScanProgress) => void
  /** Called once per skipped file, as it happens. */
  onIssue?: (issue: ScanIssue) => void
  signal?: AbortSignal
}

interface Candidate {
  path: string
  format: AudioFormat
  entry: PathEntry
  previous?: PathEntry
}

const inodeKey = (e: Pick<PathEntry, 'dev' | 'ino' | 'size' | 'mtimeMs'>) => `${e.dev}:${e.ino}:${e.size}:${e.mtimeMs}`
const under = (path: string, root: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)

export async function scan(store: LevelLibraryStore, rootArgs: string[], opts: ScanOptions = {}): Promise<ScanSummary> {
  const started = performance.now()
  const roots = rootArgs.map((r) => resolve(r))
  for (const root of roots) {
    const st = await stat(root).catch(() => null)
    // A missing root (an unplugged drive) must not mark its whole library missing.
    if (!st?.isDirectory()) throw new LibraryError('ERR_BAD_ROOT', `not a folder: ${root}`)
  }
  const summary: ScanSummary = {
    roots, files: 0, added: 0, changed: 0, newPaths: 0, unchanged: 0, removedPaths: 0, missing: 0, newVersions: 0, skipped: 0, issues: [], bytesRead: 0, ms: 0,
  }
  const progress: ScanProgress = { phase: 'walk', filesSeen: 0, filesDone: 0, filesToRead: 0, bytesDone: 0, bytesToRead: 0 }
  const report = () => opts.onProgress?.({ ...progress })
  const issue = (path: string, err: unknown) => {
    const e = err instanceof ScanError ? err : new ScanError('ERR_UNREADABLE', (err as Error).message)
    const item = { path, code: e.code, reason: e.message }
    summary.skipped++
    summary.issues.push(item)
    opts.onIssue?.(item)
  }

  // 1. index
  const known = new Map<string, PathEntry>()
  const byInode = new Map<string, string>()
  for await (const [path, entry] of store.allPaths()) {
    known.set(path, entry)
    if (entry.sha256) byInode.set(inodeKey(entry), entry.sha256)
  }

  // 2. walk
  const seen = new Set<string>()
  const unreadableDirs: string[] = []
  const todo: Candidate[] = []
  for await (const item of walkAudioFiles(roots, opts.signal)) {
    if (item.kind === 'problem') {
      if (item.dir) unreadableDirs.push(item.path)
      else seen.add(item.path) // keep what we knew about it
      issue(item.path, item.error)
      continue
    }
    if (seen.has(item.path)) continue
    seen.add(item.path)
    summary.files++
    progress.filesSeen++
    const st = item.stats
    const entry: PathEntry = { size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino }
    const previous = known.get(item.path)
    if (previous && previous.size === entry.size && previous.mtimeMs === entry.mtimeMs) {
      if (previous.error) {
        issue(item.path, new ScanError(previous.error.code as ScanError['code'], previous.error.message))
      } else summary.unchanged++
      continue
    }
    todo.push({ path: item.path, format: item.format, entry, previous })
    progress.bytesToRead += entry.size
    if (progress.filesSeen % 500 === 0) report()
  }
  progress.phase = 'read'
  progress.filesToRead = todo.length
  report()

  // 3 + 4. read and commit, a few files at a time; commits are serialised so
  // two copies of the same bytes never race on one track record.
  let commitChain: Promise<void> = Promise.resolve()
  const commit = (fn: () => Promise<void>) => {
    const next = commitChain.then(fn)
    commitChain = next.catch(() => {})
    return next
  }
  // Commits run one at a time and each awaits its write, so reading the
  // store inside a commit always sees the previous commits.
  const nowMissing = new Set<string>() // tracks that lost their last path in this scan
  const getRecord = (sha256: string) => store.getTrack(sha256)

  const detachPath = async (path: string, sha256: string, ops: TrackRecord[]) => {
    const rec = await getRecord(sha256)
    if (!rec || !rec.paths.includes(path)) return
    const paths = rec.paths.filter((p) => p !== path)
    const next: TrackRecord = { ...rec, paths, updated: Date.now() }
    if (paths.length === 0 && !rec.missing) {
      next.missing = true
      next.lastPaths = rec.paths
      nowMissing.add(sha256)
    }
    ops.push(next)
  }

  const readOne = async (c: Candidate, buffer: Buffer) => {
    let hashes: (FileHashes & { reused?: boolean }) | undefined
    let tags: Tags | undefined
    try {
      const sameInode = byInode.get(inodeKey(c.entry))
      const existing = sameInode ? await getRecord(sameInode) : undefined
      if (existing) {
        hashes = { sha256: existing.sha256, audioHash: existing.audioHash, size: existing.size, pieceLength: existing.pieceLength, pieces: new Uint8Array(), reused: true }
        tags = existing.tags
      } else {
        let counted = 0
        hashes = await hashFile(c.path, c.format, {
          buffer,
          signal: opts.signal,
          onBytes: (n) => {
            counted += n
            progress.bytesDone += n
            summary.bytesRead += n
          },
        })
        tags = await readTags(c.path, hashes.size <= buffer.length ? buffer.subarray(0, hashes.size) : undefined)
        progress.bytesDone += c.entry.size - counted
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err
      // Remember the failure so an unchanged bad file is not re-read, but
      // leave any track the path pointed to untouched: nothing is lost.
      const e = err instanceof ScanError ? err : new ScanError('ERR_UNREADABLE', (err as Error).message)
      issue(c.path, e)
      const entry: PathEntry = { ...c.entry, sha256: c.previous?.sha256, error: { code: e.code, message: e.message } }
      await commit(() => store.write({ paths: [[c.path, entry]] }))
      return
    }

    const h = hashes
    await commit(async () => {
      const ops: TrackRecord[] = []
      // The same path now holds other bytes. With the same audio it is a new
      // version of the same recording (its tags were rewritten): say so on both.
      let replaces: string | undefined
      if (c.previous?.sha256 && c.previous.sha256 !== h.sha256) {
        await detachPath(c.path, c.previous.sha256, ops)
        const old = ops.find((r) => r.sha256 === c.previous!.sha256)
        if (old && old.audioHash === h.audioHash) {
          replaces = old.sha256
          summary.newVersions++
          if (old.paths.length === 0) {
            old.replacedBy = h.sha256
            nowMissing.delete(old.sha256)
          }
        }
      }
      const now = Date.now()
      const rec = await getRecord(h.sha256)
      let track: TrackRecord
      if (rec) {
        track = {
          ...rec,
          tags: tags ?? rec.tags,
          paths: rec.paths.includes(c.path) ? rec.paths : [...rec.paths, c.path],
          missing: false,
          lastPaths: undefined,
          replacedBy: undefined,
          ...(replaces ? { replaces } : {}),
          updated: now,
        }
        if (!rec.paths.includes(c.path)) summary.newPaths++
        else summary.changed++
      } else {
        track = {
          sha256: h.sha256,
          audioHash: h.audioHash,
          size: h.size,
          format: c.format,
          pieceLength: h.pieceLength,
          infohash: opts.circleSecret ? infohashOf(h, opts.circleSecret) : undefined,
          tags: tags!,
          paths: [c.path],
          missing: false,
          ...(replaces ? { replaces } : {}),
          added: now,
          updated: now,
        }
        if (c.previous) summary.changed++
        else summary.added++
      }
      nowMissing.delete(track.sha256)
      ops.push(track)
      byInode.set(inodeKey(c.entry), track.sha256)
      await store.write({
        tracks: ops,
        paths: [[c.path, { ...c.entry, sha256: track.sha256 }]],
        pieces: h.reused || rec ? [] : [[h.sha256, h.pieces]],
      })
    })
    progress.filesDone++
    report()
  }

  const concurrency = Math.max(1, opts.concurrency ?? 3)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, todo.length) }, async () => {
      const buffer = Buffer.allocUnsafe(READ_CHUNK) // one per reader, reused for every file
      while (next < todo.length) await readOne(todo[next++]!, buffer)
    }),
  )
  await commitChain

  // 5. sweep
  progress.phase = 'sweep'
  report()
  for (const [path, entry] of known) {
    if (seen.has(path) || !roots.some((r) => under(path, r))) continue
    if (unreadableDirs.some((d) => under(path, d))) continue
    const ops: TrackRecord[] = []
    if (entry.sha256) await detachPath(path, entry.sha256, ops)
    await store.write({ tracks: ops, deletePaths: [path] })
    summary.removedPaths++
  }
  summary.missing = nowMissing.size
  const prevRoots = (await store.getMeta<string[]>('roots')) ?? []
  await store.putMeta('roots', [...new Set([...prevRoots, ...roots])])
  summary.ms = Math.round(performance.now() - started)
  return summary
}
