// The benchmark's child processes: long-running seeders that print one JSON
// line when ready, one-shot downloaders that print one JSON line when done,
// and the CPU time of a running process read from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Every child started here, so that a failure or a signal can stop them all. */
export const children = new Set<ChildProcess>()

export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
}

export interface Service<T> {
  name: string
  pid: number
  ready: T
  stop(): Promise<void>
}

/** Starts a long-running child and waits for the first line of its stdout (JSON). */
export function startService<T>(name: string, cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<Service<T>> {
  return new Promise((resolve, reject) => {
    // stdin stays open: the children exit when it closes, so they never outlive us.
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    children.add(child)
    let stderr = ''
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString()
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000)
    })
    const exited = new Promise<void>((r) => child.once('exit', () => (children.delete(child), r())))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not start in ${timeoutMs} ms: ${stderr.trim()}`))
    }, timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited early (${code ?? signal}): ${stderr.trim()}`))
    })
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      let ready: T
      try {
        ready = JSON.parse(line) as T
      } catch {
        child.kill('SIGKILL')
        return reject(new Error(`${name} printed ${line}`))
      }
      resolve({
        name,
        pid: child.pid!,
        ready,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM')
            const force = setTimeout(() => child.kill('SIGKILL'), 5_000)
            await exited
            clearTimeout(force)
          }
        },
      })
    })
  })
}

/** Runs a child to completion and parses the last line of its stdout as JSON. */
export function runJson<T>(name: string, cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    const out: Buffer[] = []
    let stderr = ''
    child.stdout!.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const lines = Buffer.concat(out).toString().trim().split('\n')
      if (code !== 0) return reject(new Error(`${name} failed (${code ?? signal}): ${stderr.trim()}`))
      if (process.env.DJCLOUD_BENCH_DEBUG && stderr.trim()) process.stderr.write(`${name}: ${stderr.trim()}\n`)
      try {
        resolve(JSON.parse(lines.at(-1)!) as T)
      } catch {
        reject(new Error(`${name} printed no result: ${lines.at(-1)} ${stderr.trim()}`))
      }
    })
  })
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** CPU seconds (user + system, all threads) a live process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK
}
