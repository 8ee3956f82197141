// A real `djcloud serve` in a child process, with its --json line parsed.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'
import { BIN } from './cli.ts'
import type { NodeInfo } from '../../src/node/index.ts'

export interface NodeProcess {
  child: ChildProcess
  info: NodeInfo
  stderr: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export async function serveNode(t: ExecutionContext, home: string, args: string[]): Promise<NodeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--json', '--port', '0', '--api-port', '0', '--peer-host', '127.0.0.1', '--dht-port', '0', ...args], {
    env: { ...process.env, DJCLOUD_HOME: home, DJCLOUD_DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = once(child, 'exit')
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill(signal)
    const [code] = await exited
    return code as number | null
  }
  t.teardown(() => stop('SIGKILL').then(() => {}))
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.once('exit', (code) => reject(new Error(`djcloud serve exited with ${code}: ${err}`)))
  })
  return { child, info: JSON.parse(line) as NodeInfo, stderr: () => err, stop }
}
