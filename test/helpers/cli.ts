import { spawn } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/djcloud.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real djcloud command in a child process. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, DJCLOUD_HOME: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * `djcloud <args>` on a home, for setup that drives a running node through
 * the command: its stdout, or an error carrying its stderr when it fails (a
 * setup step that fails must say why, not hand on empty output).
 */
export async function cli(home: string, args: string[]): Promise<string> {
  const r = await runCli(args, { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** A stream that keeps what is written to it; like a pipe, it is not a TTY. */
class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk)
    done()
  }
}

/**
 * Runs djcloud's main() in this process, with the environment runCli gives
 * the child, and returns what the command wrote and its exit code. For tests
 * about what a command does, not about the process (signals, the real
 * binary's exit status, long-running servers): it saves a Node start and the
 * module loading per run. Commands read their home and settings from the env
 * they are given and close what they open, so runs do not leak into each
 * other. main is imported on first use, so files that only spawn the binary
 * do not load every command.
 */
export async function runCliInProcess(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { main } = await import('../../src/cli/index.ts')
  const stdout = new Capture()
  const stderr = new Capture()
  const code = await main(args, { stdout, stderr, env: { ...process.env, DJCLOUD_HOME: '', ...env } })
  return { code, stdout: stdout.text, stderr: stderr.text }
}
