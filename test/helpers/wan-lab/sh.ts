// Running the lab's system commands (ip, tc, iptables, ethtool): each one
// awaited, a failure thrown with the command and its stderr; the synchronous
// variant is for the process-exit hook, where nothing async runs any more.
import { execFile, spawnSync } from 'node:child_process'

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

