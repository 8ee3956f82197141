// A content-addressed cache of test fixtures (ffmpeg encodes, synthesised
// PCM), shared by every test file and every run on this machine. An entry's
// name is a hash of its whole recipe, of the source of the helper that makes
// it and of the tools' versions, so a changed recipe, helper or ffmpeg never
// reuses an old file. Entries are written under a temp name and renamed into
// place, so two ava processes making the same fixture at once both end up
// with a complete file (the later rename wins with identical bytes).
//
// An entry used again has its mtime refreshed; entries (and temp files of
// killed runs) untouched for three days are removed, once per process, so
// the recipes of edited helpers do not pile up.
//
// DJCLOUD_FIXTURE_CACHE=0 turns the cache off (every fixture made afresh);
// DJCLOUD_FIXTURE_CACHE=<dir> puts it elsewhere than os.tmpdir().
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { copyFile, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Bumped when the cache's own layout changes. */
const LAYOUT = 'djcloud-fixture-cache-v1'

function cacheDir(): string | undefined {
  const setting = process.env.DJCLOUD_FIXTURE_CACHE
  if (setting === '0' || setting === 'off') return undefined
  // Per user by default: another user's cache in a shared /tmp is not ours to write (nor to trust).
  return setting && setting !== '1' ? join(setting, LAYOUT) : join(tmpdir(), `${LAYOUT}-${process.getuid?.() ?? 'user'}`)
}

const sources = new Map<string, string>()

/** sha256 of a helper's source (`import.meta.url` of the module that makes the fixture). */
function sourceHash(moduleUrl: string): string {
  let h = sources.get(moduleUrl)
  if (!h) {
    h = createHash('sha256').update(readFileSync(fileURLToPath(moduleUrl))).digest('hex')
    sources.set(moduleUrl, h)
  }
  return h
}

let ffmpegVersion: Promise<string> | undefined

/** `ffmpeg -version`, asked once per process: another build may encode other bytes. */
export function ffmpegVersionText(): Promise<string> {
  ffmpegVersion ??= run('ffmpeg', ['-hide_banner', '-version']).then(({ stdout }) => stdout)
  return ffmpegVersion
}

function keyOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

/** Entries unused for this long are removed. */
const MAX_AGE_MS = 3 * 24 * 3600 * 1000

let pruning: Promise<void> | undefined

/** Removes old entries, once per process, in the background (a failure only leaves them there). */
function prune(dir: string): void {
  pruning ??= (async () => {
    const now = Date.now()
    for (const name of await readdir(dir)) {
      const path = join(dir, name)
      const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }))
      if (now - mtimeMs > MAX_AGE_MS) await rm(path, { force: true })
    }
  })().catch(() => {})
}

/** Settles when this process's pruning has run (at once if it has not started). */
export const pruned = (): Promise<void> => pruning ?? Promise.resolve()

const tempName = (dir: string, key: string, ext: string) => join(dir, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp${ext}`)

/**
 * Puts the fixture `recipe` at `dest`: a copy of the cached file when there
 * is one, else `make(out)` writes it (to a path with `dest`'s extension),
 * the result is cached, and copied to `dest`. Each caller gets its own copy,
 * free to retag or damage.
 */
export async function cachedFile(
  moduleUrl: string,
  recipe: unknown,
  dest: string,
  make: (out: string) => Promise<void>,
  tools: string[] = [],
): Promise<string> {
  const dir = cacheDir()
  if (!dir) {
    await make(dest)
    return dest
  }
  const ext = extname(dest)
  const key = keyOf([sourceHash(moduleUrl), tools, recipe, ext])
  const entry = join(dir, `${key}${ext}`)
  try {
    await copyFile(entry, dest)
    const now = new Date()
    await utimes(entry, now, now).catch(() => {})
    return dest
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dir, { recursive: true })
  prune(dir)
  const tmp = tempName(dir, key, ext)
  try {
    await make(tmp)
    await rename(tmp, entry)
  } finally {
    await rm(tmp, { force: true })
  }
  await copyFile(entry, dest)
  return dest
}

/** sha256 of the files (paths from the repository root) a fixture is made with, besides its helper. */
export function filesHash(...paths: string[]): string {
  const h = createHash('sha256')
  for (const p of paths) h.update(p).update(readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url))))
  return h.digest('hex')
}

function readSamples(entry: string): Float32Array | undefined {
  try {
    const bytes = readFileSync(entry)
    const out = new Float32Array(bytes.length / 4)
    new Uint8Array(out.buffer).set(bytes)
    const now = new Date()
    try {
      utimesSync(entry, now, now)
    } catch {
      // removed meanwhile: the samples are read already
    }
    return out
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return undefined
  }
}

function writeSamples(dir: string, entry: string, samples: Float32Array): void {
  mkdirSync(dir, { recursive: true })
  prune(dir)
  const tmp = tempName(dir, 'samples', '.f32')
  try {
    writeFileSync(tmp, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength))
    renameSync(tmp, entry)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Float samples made by an async `make()`, which runs only when `recipe` has no entry. */
export async function cachedSamplesAsync(moduleUrl: string, recipe: unknown, make: () => Promise<Float32Array>): Promise<Float32Array> {
  const dir = cacheDir()
  if (!dir) return make()
  const entry = join(dir, `${keyOf([sourceHash(moduleUrl), recipe])}.f32`)
  const hit = readSamples(entry)
  if (hit) return hit
  const samples = await make()
  writeSamples(dir, entry, samples)
  return samples
}

/** Synchronous variant for float samples: `make()` runs only when `recipe` has no entry. */
export function cachedSamples(moduleUrl: string, recipe: unknown, make: () => Float32Array): Float32Array {
  const dir = cacheDir()
  if (!dir) return make()
  const entry = join(dir, `${keyOf([sourceHash(moduleUrl), recipe])}.f32`)
  const hit = readSamples(entry)
  if (hit) return hit
  const samples = make()
  writeSamples(dir, entry, samples)
  return samples
}
