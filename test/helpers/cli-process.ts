// A long-running djcloud command (`tracker`, `bootstrap`) as a real child
// process, handed back once it has printed its first line (where it
// listens), with a way to signal it and how it exited: for tests of the
// process itself (signals, exit status, what it prints). Killed at teardown
// if it is still running.
import { spawn } from 'node:child_process'
import type { ExecutionContext } from 'ava'
import { BIN, type CliResult } from './cli.ts'

export interface CliProcess {
  /** The first line it printed, without the newline. */
  first: string
  signal(sig: NodeJS.Signals): void
  /** Everything it printed, and its exit code, once it has closed. */
  exited: Promise<CliResult>
}

/** Starts `djcloud <args>` with `env` over this process's environment; rejects if it exits first or prints no line within 15 s. */
export function startCliProcess(t: ExecutionContext, args: string[], env: Record<string, string>): Promise<CliProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within 15 s; stderr: ${stderr}`)), 15_000)
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      const nl = stdout.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      resolve({ first: stdout.slice(0, nl), signal: (sig) => child.kill(sig), exited })
    })
    void exited.then((r) => reject(new Error(`exited ${r.code} before listening: ${r.stderr}`)))
  })
}
