// One-shot djcloud commands for the soak, run asynchronously (the kill loop
// keeps its timing while a pull runs) under a deadline.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from '../common.ts'

const BIN = join(REPO, 'bin/djcloud.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function djcloudAsync(home: string, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--home', home],
      { cwd: REPO, env: { ...process.env, DJCLOUD_HOME: '' }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
