// The delay line: delayer.c compiled once per source version into a cache
// dir (never a committed binary), run in the router namespace.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sh } from './sh.ts'

const SOURCE = fileURLToPath(new URL('./delayer.c', import.meta.url))
const READY_WITHIN = 10_000 // ms for the delayer to bind its queues

/** The compiled delayer, built if this source version has no binary yet. */
export async function delayerBinary(): Promise<string> {
  const src = await readFile(SOURCE)
  const dir = join(tmpdir(), 'djcloud-wan-lab', createHash('sha256').update(src).digest('hex').slice(0, 16))
  const bin = join(dir, 'delayer')
  if (existsSync(bin)) return bin
  await mkdir(dir, { recursive: true })
  // Parallel test files may build at once: each writes its own file, the rename is atomic.
  const tmp = `${bin}.${process.pid}.${Date.now()}`
  await sh('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lnetfilter_queue', '-lnfnetlink'])
  await rename(tmp, bin)
  return bin
}

/** Starts the delayer in `ns` on queues (number -> one-way delay in ms); resolves once it has bound them. */
export async function startDelayer(ns: string, queues: Map<number, number>): Promise<ChildProcess> {
  const bin = await delayerBinary()
  const specs = [...queues].map(([q, ms]) => `${q}:${Math.round(ms * 1000)}`)
  const child = spawn('ip', ['netns', 'exec', ns, bin, ...specs], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4096)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`delayer did not bind its queues within ${READY_WITHIN} ms: ${err}`)), READY_WITHIN)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`delayer exited (${code}): ${err}`))
    })
  })
  return child
}
