// The link-crypto comparison (see bench/README.md): one-way bulk throughput
// over loopback between two processes, for the transports a device link
// could run on: plain TCP, node:tls TLS 1.3 as src/link builds it (and with
// its cipher suite forced), and a Noise-based secret stream when one is
// installed outside the repository. The record of why links are node:tls
// (docs/decisions/tls-links-with-bound-proofs.md).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { gitCommit, machineInfo, median, REPO, round, table } from '../common.ts'
import { children, killChildren } from '../swarm/procs.ts'
import type { PeerReport, Transport, Writes } from './peer.ts'

export interface LinksBenchOptions {
  /** Bytes per transfer. */
  size: number
  rounds: number
  /** Where @hyperswarm/secret-stream is installed (npm install --prefix DIR @hyperswarm/secret-stream). */
  noiseDir: string
  tmp: string
  log: (line: string) => void
}

interface Row {
  name: string
  transport: Transport
  writes: Writes
}

const ROWS: Row[] = [
  { name: 'plain TCP', transport: 'plain', writes: 'bulk' },
  { name: 'TLS 1.3, the link as built (AES-256-GCM)', transport: 'tls', writes: 'bulk' },
  { name: 'TLS 1.3, AES-128-GCM forced', transport: 'tls-aes128', writes: 'bulk' },
  { name: 'TLS 1.3, ChaCha20-Poly1305 forced', transport: 'tls-chacha20', writes: 'bulk' },
  { name: 'Noise stream (@hyperswarm/secret-stream)', transport: 'noise', writes: 'bulk' },
  { name: 'plain TCP, wire writes', transport: 'plain', writes: 'wire' },
  { name: 'TLS link, wire writes', transport: 'tls', writes: 'wire' },
  { name: 'TLS link, wire writes corked', transport: 'tls', writes: 'corked' },
  { name: 'TLS link, wire writes joined', transport: 'tls', writes: 'joined' },
]

export interface Side {
  cpuSec: number
  /** CPU seconds per GB moved. */
  cpuSecPerGB: number
}

export interface RowResult {
  name: string
  transport: Transport
  writes: Writes
  /** Why the row was not measured (the Noise stream not installed). */
  skipped?: string
  link?: string
  runs?: Array<{ mbPerSec: number; sender: PeerReport; receiver: PeerReport }>
  /** Medians over the rounds. */
  mbPerSec?: number
  sender?: Side
  receiver?: Side
  /** MB/s over plain TCP's (bulk writes) of the same run. */
  overPlain?: number
}

export interface LinksBenchResults {
  date: string
  machine: ReturnType<typeof machineInfo>
  commit: string | null
  dirty: string[]
  loadAverage: { start: number[]; end: number[] }
  method: string[]
  bytes: number
  rounds: number
  noise: { dir: string; version: string | null; sodiumNative: string | null }
  rows: RowResult[]
}

const PEER = fileURLToPath(new URL('./peer.ts', import.meta.url))
const TIMEOUT = 120_000

function packageVersion(dir: string, name: string): string | null {
  const file = join(dir, 'node_modules', name, 'package.json')
  if (!existsSync(file)) return null
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

/** Runs one child to its JSON lines: the first is handed to `onFirst` (the receiver's port), the last is the result. */
function child(args: string[], onFirst?: (line: string) => void): Promise<PeerReport> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', PEER, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(c)
    let stderr = ''
    let last = ''
    let first = true
    c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
    createInterface({ input: c.stdout! }).on('line', (line) => {
      if (first && onFirst) onFirst(line)
      first = false
      last = line
    })
    const timer = setTimeout(() => c.kill('SIGKILL'), TIMEOUT)
    c.once('error', reject)
    c.once('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(c)
      if (code !== 0) return reject(new Error(`links peer ${args.join(' ')} failed (${code ?? signal}): ${stderr.trim()}`))
      try {
        resolve(JSON.parse(last) as PeerReport)
      } catch {
        reject(new Error(`links peer printed ${last}`))
      }
    })
  })
}

async function transfer(row: Row, opts: LinksBenchOptions): Promise<{ sender: PeerReport; receiver: PeerReport }> {
  const common = ['--transport', row.transport, '--bytes', String(opts.size), '--noise-dir', opts.noiseDir]
  let sender: Promise<PeerReport> | null = null
  const receiver = child(['--role', 'receive', ...common], (line) => {
    const port = (JSON.parse(line) as { port: number }).port
    sender = child(['--role', 'send', ...common, '--port', String(port), '--writes', row.writes])
  })
  const r = await receiver
  if (!sender) throw new Error('the receiver never listened')
  return { sender: await sender, receiver: r }
}

const side = (reports: PeerReport[], bytes: number): Side => {
  const cpu = median(reports.map((r) => (r.cpuUserMs + r.cpuSystemMs) / 1000))
  return { cpuSec: round(cpu, 2), cpuSecPerGB: round(cpu / (bytes / 1e9), 2) }
}

export async function runLinksBench(opts: LinksBenchOptions): Promise<LinksBenchResults> {
  const noiseVersion = packageVersion(opts.noiseDir, '@hyperswarm/secret-stream')
  const skip = noiseVersion ? null : `@hyperswarm/secret-stream is not installed under ${opts.noiseDir} (npm install --prefix ${opts.noiseDir} @hyperswarm/secret-stream; never into the repository)`
  const rows = ROWS.map((r): RowResult => ({ ...r, ...(r.transport === 'noise' && skip ? { skipped: skip } : { runs: [] }) }))
  const loadAverage = { start: loadavg().map((v) => round(v, 2)), end: [] as number[] }
  const onSignal = (signal: NodeJS.Signals) => {
    killChildren()
    process.kill(process.pid, signal)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const live = rows.filter((r) => !r.skipped)
    // One untimed transfer each, then rounds in a rotating order.
    for (const r of live) await transfer(r, { ...opts, size: Math.min(opts.size, 100e6) })
    for (let n = 1; n <= opts.rounds; n++) {
      const order = live.map((_, i) => live[(i + n - 1) % live.length]!)
      const line: string[] = []
      for (const r of order) {
        const { sender, receiver } = await transfer(r, opts)
        const mbPerSec = round(opts.size / 1e6 / (sender.ms / 1000))
        r.runs!.push({ mbPerSec, sender: roundReport(sender), receiver: roundReport(receiver) })
        r.link = sender.link
        line.push(`${r.transport}/${r.writes} ${mbPerSec.toFixed(0)}`)
      }
      opts.log(`round ${n}/${opts.rounds} (MB/s): ${line.join(', ')}`)
    }
  } finally {
    killChildren()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  loadAverage.end = loadavg().map((v) => round(v, 2))
  for (const r of rows) {
    if (r.skipped) continue
    r.mbPerSec = round(median(r.runs!.map((x) => x.mbPerSec)))
    r.sender = side(r.runs!.map((x) => x.sender), opts.size)
    r.receiver = side(r.runs!.map((x) => x.receiver), opts.size)
  }
  const plain = rows.find((r) => r.transport === 'plain' && r.writes === 'bulk')!.mbPerSec!
  for (const r of rows) if (r.mbPerSec !== undefined) r.overPlain = round(r.mbPerSec / plain, 3)
  return {
    date: new Date().toISOString().slice(0, 10),
    machine: machineInfo(),
    ...gitCommit(['src/link', 'bench/links']),
    loadAverage,
    method: [
      `one-way transfer of ${opts.size} bytes over 127.0.0.1 between two processes (node --import tsx bench/links/peer.ts), a fresh pair per transfer; MB/s = bytes over the sender's time from its first write to the receiver's one-byte answer (after the handshake)`,
      'CPU per side: process.cpuUsage() (user + system, all threads) over the transfer: sender from its first write to the answer, receiver from the link being up to the last byte',
      'writes: bulk = 64 KiB per write, respecting backpressure; wire = a block as the djcloud wire serves one (a 13-byte header write, then a 16 KiB block write, uncorked); corked = the same two writes between cork() and uncork() (one writev); joined = header and block in one write (Buffer.concat)',
      'TLS: the link as built is src/link (createLinkServer, dialLink: TLS 1.3, throwaway Ed25519 certificate, ALPN); the forced rows use the same options and a certificate from the same code, with the TLS 1.3 suite set on both ends (node:tls takes TLS_* suite names in `ciphers` and hands them to OpenSSL SSL_CTX_set_ciphersuites)',
      'Noise: @hyperswarm/secret-stream (Noise XX handshake, then libsodium crypto_secretstream XChaCha20-Poly1305 per write, sodium-native), installed outside the repository and loaded from there when present',
      `one untimed transfer per row (at most 100 MB), then ${opts.rounds} rounds in a rotating order; figures are medians`,
    ],
    bytes: opts.size,
    rounds: opts.rounds,
    noise: { dir: opts.noiseDir, version: noiseVersion, sodiumNative: packageVersion(opts.noiseDir, 'sodium-native') },
    rows,
  }
}

const roundReport = (r: PeerReport): PeerReport => ({ ...r, ms: round(r.ms), cpuUserMs: round(r.cpuUserMs), cpuSystemMs: round(r.cpuSystemMs) })

export function formatLinks(r: LinksBenchResults): string {
  const rows: string[][] = [['transport', 'MB/s', 'over plain', 'sender CPU s/GB', 'receiver CPU s/GB', 'suite']]
  for (const x of r.rows) {
    if (x.skipped) rows.push([x.name, 'skipped', '', '', '', x.skipped])
    else rows.push([x.name, x.mbPerSec!.toFixed(0), `${x.overPlain!.toFixed(2)}x`, x.sender!.cpuSecPerGB.toFixed(2), x.receiver!.cpuSecPerGB.toFixed(2), x.link ?? ''])
  }
  return [
    `djcloud link-crypto comparison, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}`,
    `${(r.bytes / 1e6).toFixed(0)} MB one way over loopback, medians of ${r.rounds}; load average ${r.loadAverage.start.join(' ')} at start, ${r.loadAverage.end.join(' ')} at end`,
    '',
    table(rows),
  ].join('\n')
}
