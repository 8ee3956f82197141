// Running the lab's system commands (ip, tc, iptables, ethtool): each one
// awaited, a failure thrown with the command and its stderr; the synchronous
// variant is for the process-exit hook, where nothing async runs any more.
// Also stopping a process the lab started.
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'

const STOP_GRACE = 5_000 // ms a lab process gets after SIGTERM

export class LabCommandError extends Error {
  readonly code = 'ERR_LAB_COMMAND'
  constructor(readonly command: string, readonly stderr: string) {
    super(`${command}: ${stderr.trim() || 'failed'}`)
    this.name = 'LabCommandError'
  }
}

/** Runs `cmd args`; resolves with its stdout, rejects with LabCommandError. */
export function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new LabCommandError([cmd, ...args].join(' '), stderr || err.message))
      else resolve(stdout)
    })
  })
}

/** As sh, synchronously, never throwing: the stdout, or '' when it failed. */
export function shSync(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout : ''
}

/** Offloads off on a link (else the router sees 3-64 KB bundles and one loss drops a whole burst). */
export async function offloadsOff(ns: string, dev: string): Promise<void> {
  await sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'])
}

/** SIGTERM, then SIGKILL after STOP_GRACE; resolves when the process has exited. */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  const exited = once(p, 'exit')
  p.kill('SIGTERM')
  const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE)
  await exited
  clearTimeout(timer)
}
