// Where an import keeps its tracks' plans between planning them (as the file
// is read) and applying or printing them: in memory (tests, small imports,
// the node's upload route), or spooled to a file, one JSON line a track, so
// a 20,000-track plan (~37 MB of heap) is not held by the process at all.
// Both give the plans back in the order added, as often as asked.
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TrackPlan } from './plan.ts'

export interface TrackPlans {
  /** Keeps one more plan (synchronous: the readers hand entries over synchronously). */
  add(plan: TrackPlan): void
  readonly length: number
  /** The plans in the order added. A spooled plan is a copy read back (JSON values: the same JSON). */
  read(): AsyncIterable<TrackPlan>
  /** Lets the plans go (a spool file is removed). Idempotent. */
  close(): void
}

/** Plans kept as they are, in an array (`list`). */
export function memoryTrackPlans(): TrackPlans & { readonly list: TrackPlan[] } {
  const list: TrackPlan[] = []
  return {
    list,
    add: (plan) => void list.push(plan),
    get length() {
      return list.length
    },
    async *read() {
      yield* list
    },
    close() {},
  }
}

/** Text gathered before one write to the spool, and read back at once: kept under V8's large-object size, as the readers' chunks (FILE_CHUNK in djformats/files.ts). */
const SPOOL_CHUNK = 32 * 1024

/**
 * Plans spooled to `plan.ndjson` in a new directory (0700, made by mkdtemp)
 * under `dir` (default the OS temp directory), removed by close(). The file
 * holds the DJ's cue names and comments: the file is 0600. A process killed
 * outright leaves its directory (`djcloud-import-*`) behind; nothing reads it
 * again.
 */
export function spoolTrackPlans(dir = tmpdir()): TrackPlans & { readonly path: string } {
  const home = mkdtempSync(join(dir, 'djcloud-import-'))
  const path = join(home, 'plan.ndjson')
  let fd: number | undefined
  try {
    fd = openSync(path, 'wx', 0o600)
  } catch (err) {
    rmSync(home, { recursive: true, force: true })
    throw err
  }
  let pending: string[] = []
  let pendingChars = 0
  let count = 0
  const flush = () => {
    if (pending.length === 0) return
    const bytes = Buffer.from(pending.join(''), 'utf8')
    pending = []
    pendingChars = 0
    for (let at = 0; at < bytes.length; ) at += writeSync(fd!, bytes, at, bytes.length - at)
  }
  return {
    path,
    add(plan) {
      if (fd === undefined) throw new Error('the spooled plan is closed')
      // JSON.stringify escapes line breaks inside strings: one line a plan.
      const line = JSON.stringify(plan) + '\n'
      pending.push(line)
      pendingChars += line.length
      count++
      if (pendingChars >= SPOOL_CHUNK) flush()
    },
    get length() {
      return count
    },
    async *read() {
      if (fd === undefined) throw new Error('the spooled plan is closed')
      flush()
      let rest = ''
      for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: SPOOL_CHUNK })) {
        const text = rest + (chunk as string)
        let start = 0
        for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
          yield JSON.parse(text.slice(start, end)) as TrackPlan
          start = end + 1
        }
        rest = text.slice(start)
      }
      if (rest) throw new Error(`the spooled plan ${path} ends inside a line`)
    },
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
      pending = []
      rmSync(home, { recursive: true, force: true })
    },
  }
}
