// TCP simultaneous open: both ends connect() to each other's public address
// from the local port whose mapping they just learned (reflect.ts). A NAT
// that keeps one mapping per local port (endpoint-independent, "cone") lets
// the other side's SYN in once its own SYN went out; a NAT that picks a new
// port per destination ("symmetric") does not, and a relay is needed
// (docs/reach.md, "Hole punching").
import { createServer, connect, type Socket } from 'node:net'
import type { Address } from './reflect.ts'

export const PUNCH_TIMEOUT = 6_000 // ms: a SYN lost to the other NAT is sent again after 1 s, then 3 s
const RETRY_AFTER = 150 // ms after a refused SYN (a NAT that answers with RST) before the next

export class PunchError extends Error {
  override name = 'PunchError'
  constructor(readonly reason: string) {
    super(reason)
  }
}

/** A free local TCP port, for a reflection and the punch that follows it. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '0.0.0.0', () => resolve())
  })
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Connects from `localPort` to `remote` until one attempt goes through or `timeoutMs` passes. */
export function simultaneousOpen(localPort: number, remote: Address, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Socket> {
  const deadline = performance.now() + (opts.timeoutMs ?? PUNCH_TIMEOUT)
  return new Promise((resolve, reject) => {
    let current: Socket | undefined
    let lastError = 'no answer'
    let settled = false
    const finish = (err: PunchError | null, sock?: Socket) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) {
        current?.destroy()
        reject(err)
      } else resolve(sock!)
    }
    const timer = setTimeout(() => finish(new PunchError(`no direct path to ${remote.host}:${remote.port} (${lastError})`)), Math.max(0, deadline - performance.now()))
    timer.unref()
    const onAbort = () => finish(new PunchError('aborted'))
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const attempt = () => {
      if (settled) return
      const sock = connect({ host: remote.host, port: remote.port, localPort })
      current = sock
      sock.once('connect', () => finish(null, sock))
      sock.on('error', (err: Error & { code?: string }) => {
        if (settled) return
        lastError = err.code ?? err.message
        sock.destroy()
        if (!settled && performance.now() + RETRY_AFTER < deadline) setTimeout(attempt, RETRY_AFTER).unref()
      })
    }
    attempt()
  })
}
