// Runs and times the measured processes: djcloud in a child process of its
// own (so its peak RSS is its alone), and the sha256sum yardstick.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { REPO } from '../common.ts'
const DJCLOUD = join(REPO, 'bin', 'djcloud.js')
const RSS_PROBE = pathToFileURL(fileURLToPath(new URL('./rss-probe.mjs', import.meta.url))).href
const GNU_TIME = '/usr/bin/time'

export interface Run {
  wallMs: number
  /** Peak resident set size in KiB, null when it could not be measured. */
  maxRssKiB: number | null
  stdout: string
}

interface Exit {
  wallMs: number
  code: number | null
  stdout: string
  stderr: string
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(cmd, args, { env, cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({ wallMs: performance.now() - started, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    )
  })
}

async function readKiB(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '')
  await rm(file, { force: true })
  const n = Number.parseInt(text.trim().split('\n').pop() ?? '', 10)
  return Number.isFinite(n) ? n : null
}

/** `node bin/djcloud.js ARGS` on `home`, timed wall-clock from spawn to exit (Node start-up included). */
export async function runDjcloud(home: string, args: string[]): Promise<Run> {
  const rssFile = join(home, `rss-${process.pid}-${Date.now()}`)
  const env = { ...process.env, DJCLOUD_HOME: home, DJCLOUD_BENCH_RSS_FILE: rssFile }
  const r = await timed(process.execPath, ['--import', RSS_PROBE, DJCLOUD, ...args], env)
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim()}`)
  return { wallMs: r.wallMs, maxRssKiB: await readKiB(rssFile), stdout: r.stdout }
}

/** GNU time can report the yardstick's peak RSS; without it (Debian package "time") that one figure is left out. */
const gnuTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0

/**
 * The yardstick: every file under `dir` through one sha256sum at a time
 * (`find | xargs sha256sum`), as a plain "read and hash it all" reference.
 */
export async function runSha256sum(dir: string, scratch: string): Promise<Run> {
  const rssFile = join(scratch, `sha256sum-rss-${process.pid}`)
  const xargs = gnuTime ? `${GNU_TIME} -f %M -o "$2" xargs -0 sha256sum` : 'xargs -0 sha256sum'
  const script = `find "$1" -type f -print0 | ${xargs} > /dev/null`
  const r = await timed('sh', ['-c', script, 'sh', dir, rssFile], process.env)
  if (r.code !== 0) throw new Error(`sha256sum over ${dir} failed (${r.code}): ${r.stderr.trim()}`)
  return { wallMs: r.wallMs, maxRssKiB: gnuTime ? await readKiB(rssFile) : null, stdout: '' }
}

export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path)
  return s.bavail * s.bsize
}

/** Writes dirty pages out, so background writeback of the generated files does not run during a timing. */
export function flushToDisk(): void {
  spawnSync('sync', { stdio: 'ignore' })
}
