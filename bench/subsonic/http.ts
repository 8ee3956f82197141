// What the subsonic benchmark times over HTTP, and its yardsticks: a whole
// answer, a response's first body byte, a plain static file server, ffmpeg
// run directly, and the CPU time of a process's finished children.
import { spawn, spawnSync } from 'node:child_process'
import { createReadStream, readFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { pipeline } from 'node:stream'

/** A whole answer: time from the request to the last body byte, and the body. */
export async function timeWhole(url: string): Promise<{ ms: number; body: Buffer; type: string }> {
  const t0 = performance.now()
  const res = await fetch(url)
  const body = Buffer.from(await res.arrayBuffer())
  const ms = performance.now() - t0
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${body.toString().slice(0, 200)}`)
  return { ms, body, type: res.headers.get('content-type') ?? '' }
}

/** Audio bytes, not a Subsonic error answer (JSON or XML); a track held elsewhere comes as application/octet-stream. */
const isAudio = (type: string) => type.startsWith('audio/') || type === 'application/octet-stream'

/**
 * Time from the request to the first body byte, then the request is
 * dropped (as a player that got what it needed to start would not, but the
 * rest is not what is timed). Throws unless the answer is audio (of
 * `expectType` when given: a rendition, not the original sent as it is).
 */
export async function timeFirstByte(url: string, expectType?: string): Promise<number> {
  const ac = new AbortController()
  const t0 = performance.now()
  const res = await fetch(url, { signal: ac.signal })
  const type = res.headers.get('content-type') ?? ''
  if (!res.ok || !isAudio(type) || (expectType && !type.startsWith(expectType))) {
    const text = await res.text().catch(() => '')
    throw new Error(`${url}: HTTP ${res.status} ${type}: ${text.slice(0, 200)}`)
  }
  const reader = res.body!.getReader()
  const first = await reader.read()
  const ms = performance.now() - t0
  if (first.done || !first.value?.length) throw new Error(`${url}: no body`)
  ac.abort()
  await reader.cancel().catch(() => {})
  return ms
}

/** Reads a whole answer, timing it; for full transcodes. */
export async function timeDrain(url: string, expectType: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now()
  const res = await fetch(url)
  const type = res.headers.get('content-type') ?? ''
  if (!res.ok || !isAudio(type) || !type.startsWith(expectType)) throw new Error(`${url}: HTTP ${res.status} ${type}: ${(await res.text()).slice(0, 200)}`)
  let bytes = 0
  const reader = res.body!.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length
  return { ms: performance.now() - t0, bytes }
}

/**
 * A plain node:http static file server: GET /<name> sends the file registered
 * under that name, read from disk on every request (Content-Length, no Range).
 */
export async function staticServer(): Promise<{ server: Server; add(name: string, path: string, type: string): string }> {
  const files = new Map<string, { path: string; type: string }>()
  const server = createServer(async (req, res) => {
    const f = files.get((req.url ?? '').slice(1))
    if (!f) return res.writeHead(404).end()
    const size = (await stat(f.path)).size
    res.writeHead(200, { 'content-type': f.type, 'content-length': size })
    pipeline(createReadStream(f.path), res, () => {}) // a client that leaves closes the file too
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    server,
    add(name, path, type) {
      files.set(name, { path, type })
      return `http://127.0.0.1:${port}/${name}`
    },
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/**
 * CPU seconds (user + system) of a process's children that have exited and
 * been waited for (cutime + cstime, /proc/<pid>/stat fields 16 and 17): the
 * whole of an ffmpeg's CPU time once it is gone, however many threads it ran.
 */
export function childrenCpuSeconds(pid: number | 'self'): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ') // rest[0] is field 3
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK
}

/**
 * ffmpeg run directly with `args` (input on pipe:0, output on pipe:1), the
 * file piped in from disk: time to its first output byte, to its exit, and
 * its CPU time (this process's children's CPU time before and after; no
 * other child of this process exits meanwhile).
 */
export function runFfmpeg(path: string, args: string[], opts: { firstByteOnly?: boolean } = {}): Promise<{ firstByteMs: number; ms: number; cpuS: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuSeconds('self')
    const t0 = performance.now()
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let firstByteMs = 0
    let bytes = 0
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const input = createReadStream(path)
    input.pipe(child.stdin)
    child.stdin.on('error', () => {}) // ffmpeg killed after its first byte: EPIPE is expected
    child.stdout.on('data', (b: Buffer) => {
      if (!bytes) {
        firstByteMs = performance.now() - t0
        if (opts.firstByteOnly) {
          input.destroy()
          child.kill('SIGKILL')
        }
      }
      bytes += b.length
    })
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const ms = performance.now() - t0
      if (!bytes || (code !== 0 && !opts.firstByteOnly)) return reject(new Error(`ffmpeg ${args.join(' ')}: ${code ?? signal} ${stderr.trim()}`))
      resolve({ firstByteMs, ms, cpuS: childrenCpuSeconds('self') - cpu0, bytes })
    })
  })
}
