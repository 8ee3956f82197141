// One demo device: a real `djcloud serve` in a child process, as on a real
// machine. The child gets an IPC channel, so bin/djcloud.js stops it when
// this process goes away however it ends (even SIGKILL): no orphan nodes.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeInfo } from '../node/index.ts'

// bin/djcloud.js runs `serve` with this flag (a small young generation);
// given here, it does not have to start itself a second time.
const SEMI_SPACE_FLAG = '--max-semi-space-size=4'
const STDERR_KEPT = 8192 // bytes of a device's stderr kept for error messages
const STOP_GRACE = 10_000 // ms a node gets to close before it is killed

/** bin/djcloud.js, found from this module (src/demo/ or the bundle in dist/). */
export function djcloudBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const bin = join(dir, 'bin', 'djcloud.js')
    if (existsSync(bin)) return bin
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find bin/djcloud.js')
    dir = up
  }
}

/** The command's one-line error ("djcloud serve: ..."), not the stack DJCLOUD_DEBUG prints after it; else the last line. */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n')
  return lines.filter((l) => l.startsWith('djcloud ')).pop() ?? lines.pop() ?? ''
}

export interface DeviceProcess {
  name: string
  home: string
  info: NodeInfo
  /** The node's pid (the serve process itself). */
  pid: number
  /** Resolves when the process has exited, with its code (null after a signal). */
  exited: Promise<number | null>
  stderr(): string
  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>
}

/** Starts `djcloud serve --json` on `home` with `args`; resolves once the node prints its addresses. */
export async function startDevice(name: string, home: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<DeviceProcess> {
  const child: ChildProcess = spawn(process.execPath, [SEMI_SPACE_FLAG, djcloudBin(), 'serve', '--json', '--home', home, ...args], {
    env: { ...env, DJCLOUD_HOME: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a terminal's Ctrl-C reaches the demo, which stops each device once.
    detached: true,
  })
  child.channel?.unref() // the channel is only for the child's sake: it must not keep this process alive
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-STDERR_KEPT)))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.on('error', reject) // spawn failed; later errors (a kill of a gone process) change nothing
    void exited.then((code) => reject(new Error(`${name}: djcloud serve exited (${code ?? 'signal'}): ${errorLine(err)}`)))
  })
  child.stdout!.resume()
  const info = JSON.parse(line) as NodeInfo
  let stopping: Promise<void> | null = null
  return {
    name,
    home,
    info,
    pid: child.pid!,
    exited,
    stderr: () => err,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE)
        await exited
        clearTimeout(timer)
      })()),
  }
}
