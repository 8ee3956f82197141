// One end of a link-crypto measurement (bench/links), in a process of its own
// so that its CPU time is its alone:
//   node --import tsx bench/links/peer.ts --role receive --transport T --bytes N
//     listens on 127.0.0.1 (port printed as {"port": N}), takes one link,
//     counts N bytes, answers one byte over the link and prints its figures.
//   node --import tsx bench/links/peer.ts --role send --transport T --bytes N --port P --writes W
//     dials, sends N bytes (respecting backpressure) and prints its figures
//     once the receiver's answer is back.
// Transports: plain (TCP), tls (the link as built: src/link's createLinkServer
// and dialLink), tls-aes128 and tls-chacha20 (the same TLS 1.3 options and
// certificate with the suite forced through `ciphers`), noise (@hyperswarm/secret-stream,
// loaded from --noise-dir, outside the repository). Writes: bulk (64 KiB
// each), wire (a block as the wire serves it uncorked: a 13-byte header
// write, then the 16 KiB block), joined (header and block in one write),
// corked (the two writes between cork() and uncork(): one writev).
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net'
import { connect as tlsConnect, createServer as tlsCreateServer, type TLSSocket } from 'node:tls'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { createLinkServer, dialLink, LINK_ALPN, selfSignedCertificate } from '../../src/link/index.ts'
import { flags } from '../swarm/config.ts'

export type Transport = 'plain' | 'tls' | 'tls-aes128' | 'tls-chacha20' | 'noise'
export type Writes = 'bulk' | 'wire' | 'joined' | 'corked'

export interface PeerReport {
  role: 'send' | 'receive'
  /** send: first write to the receiver's answer; receive: link up to the last byte. */
  ms: number
  cpuUserMs: number
  cpuSystemMs: number
  bytes: number
  /** TLS version and suite (getCipher().standardName), "plain TCP", or the Noise stream's name. */
  link: string
}

const FORCED: Partial<Record<Transport, string>> = { 'tls-aes128': 'TLS_AES_128_GCM_SHA256', 'tls-chacha20': 'TLS_CHACHA20_POLY1305_SHA256' }
const NOISE_NAME = 'Noise XX (Ed25519) + libsodium secretstream XChaCha20-Poly1305'

interface SecretStreamLike extends Duplex {
  on(event: 'connect', fn: () => void): this
  on(event: string, fn: (...args: never[]) => void): this
}
type SecretStreamCtor = new (initiator: boolean, raw: Socket) => SecretStreamLike

function loadNoise(dir: string): SecretStreamCtor {
  return createRequire(join(dir, 'package.json'))('@hyperswarm/secret-stream') as SecretStreamCtor
}

function describe(sock: Duplex, transport: Transport): string {
  if (transport === 'plain') return 'plain TCP'
  if (transport === 'noise') return NOISE_NAME
  const tls = sock as TLSSocket
  return `${tls.getProtocol()} ${tls.getCipher().standardName}`
}

/** The server end: resolves with the first link, its handshake done. */
async function accept(transport: Transport, noiseDir: string): Promise<Duplex> {
  let server: { listen(port: number, host: string): void; address(): unknown; close(): void; once(e: string, f: () => void): void }
  let resolveLink!: (d: Duplex) => void
  const tlsServer = transport === 'tls' ? await createLinkServer((s) => resolveLink(s)) : undefined
  const creds = transport !== 'tls' && transport !== 'plain' && transport !== 'noise' ? await selfSignedCertificate() : undefined
  const link = new Promise<Duplex>((resolve, reject) => {
    resolveLink = resolve
    if (tlsServer) server = tlsServer
    else if (transport === 'plain') server = netCreateServer(resolve)
    else if (transport === 'noise') {
      const SecretStream = loadNoise(noiseDir)
      server = netCreateServer((raw) => {
        const s = new SecretStream(false, raw)
        s.on('connect', () => resolve(s))
        s.on('error', reject)
      })
    } else {
      server = tlsCreateServer({ key: creds!.key, cert: creds!.cert, minVersion: 'TLSv1.3', ALPNProtocols: [LINK_ALPN], ciphers: FORCED[transport] }, resolve)
    }
  })
  server!.listen(0, '127.0.0.1')
  await once(server! as never, 'listening')
  process.stdout.write(JSON.stringify({ port: (server!.address() as { port: number }).port }) + '\n')
  const sock = await link
  server!.close()
  return sock
}

async function dial(transport: Transport, port: number, noiseDir: string): Promise<Duplex> {
  if (transport === 'tls') return dialLink('127.0.0.1', port)
  if (transport === 'plain') {
    const s = netConnect(port, '127.0.0.1')
    await once(s, 'connect')
    s.setNoDelay(true)
    return s
  }
  if (transport === 'noise') {
    const SecretStream = loadNoise(noiseDir)
    const s = new SecretStream(true, netConnect(port, '127.0.0.1'))
    await once(s, 'connect')
    return s
  }
  const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [LINK_ALPN], ciphers: FORCED[transport] })
  await once(s, 'secureConnect')
  return s
}

const BLOCK = 16 * 1024

async function send(sock: Duplex, bytes: number, writes: Writes): Promise<void> {
  const bulk = Buffer.alloc(64 * 1024, 0xa5)
  const head = Buffer.alloc(13, 1)
  const block = Buffer.alloc(BLOCK, 0xa5)
  const joined = Buffer.concat([head, block])
  for (let sent = 0; sent < bytes; ) {
    let ok: boolean
    if (writes === 'bulk') {
      ok = sock.write(bulk)
      sent += bulk.length
    } else if (writes === 'joined') {
      ok = sock.write(joined)
      sent += joined.length
    } else {
      if (writes === 'corked') sock.cork()
      sock.write(head)
      ok = sock.write(block)
      if (writes === 'corked') sock.uncork()
      sent += head.length + block.length
    }
    if (!ok) await once(sock, 'drain')
  }
}

const args = flags(process.argv.slice(2))
const transport = args.transport as Transport
const bytes = Number(args.bytes)
const noiseDir = args['noise-dir'] ?? '/tmp/noise-bench'

function report(role: PeerReport['role'], t0: number, cpu0: NodeJS.CpuUsage, got: number, sock: Duplex): PeerReport {
  const cpu = process.cpuUsage(cpu0)
  return { role, ms: performance.now() - t0, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, bytes: got, link: describe(sock, transport) }
}

try {
  if (args.role === 'receive') {
    const sock = await accept(transport, noiseDir)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let got = 0
    await new Promise<void>((resolve, reject) => {
      sock.on('error', reject)
      sock.on('data', (b: Buffer) => {
        got += b.length
        if (got >= bytes) resolve()
      })
    })
    const r = report('receive', t0, cpu0, got, sock)
    sock.write(Buffer.from([1]))
    process.stdout.write(JSON.stringify(r) + '\n')
    sock.end()
  } else {
    const sock = await dial(transport, Number(args.port), noiseDir)
    const answered = new Promise<void>((resolve, reject) => {
      sock.once('data', () => resolve())
      sock.once('error', reject)
    })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await send(sock, bytes, (args.writes ?? 'bulk') as Writes)
    await answered
    process.stdout.write(JSON.stringify(report('send', t0, cpu0, bytes, sock)) + '\n')
    sock.destroy()
  }
  setTimeout(() => process.exit(0), 200).unref()
} catch (err) {
  process.stderr.write(`links ${args.role}: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
}
