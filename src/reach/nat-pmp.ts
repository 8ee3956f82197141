// A NAT-PMP client (RFC 6886): the external address and TCP mappings of the
// default gateway. Our own rather than @achingbrain/nat-port-mapper's: that
// one sends its millisecond TTL as seconds, drops the lifetime the gateway
// grants, sends each request once (a lost datagram hangs its queue for good)
// and binds the fixed client port 5350 (docs/decisions/port-mapping-library.md).
import { createSocket, type Socket } from 'node:dgram'
import { readFile } from 'node:fs/promises'
import { PortMappingError } from './errors.ts'

export const NAT_PMP_PORT = 5351 // RFC 6886 §3: the gateway listens here
const FIRST_RETRY = 250 // ms, RFC 6886 §3.1: then doubled each time
const OP_EXTERNAL_ADDRESS = 0
const OP_MAP_TCP = 2
const REPLY = 128 // a reply's opcode is the request's + 128

/** RFC 6886 §3.5 result codes. */
const RESULTS: Record<number, string> = {
  1: 'unsupported version',
  2: 'not authorized/refused (NAT-PMP turned off on the router?)',
  3: 'network failure (the router could not map, e.g. it has no external address yet)',
  4: 'out of resources (no ports left)',
  5: 'unsupported opcode',
}

export interface NatPmpOptions {
  /** The gateway's UDP port (default 5351; tests run a fake gateway on a port of their own). */
  port?: number
  /** ms one request may take, retransmissions included (first after 250 ms, then doubling). */
  timeoutMs: number
}

export interface PmpMapping {
  externalPort: number
  /** ms the gateway granted. */
  lifetimeMs: number
}

/** One gateway, asked over one UDP socket. Requests go one at a time. */
export class NatPmpClient {
  private socket: Socket | null = null
  private queue: Promise<unknown> = Promise.resolve()

  constructor(readonly gateway: string, private readonly opts: NatPmpOptions) {}

  /** The gateway's external IPv4 address. */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    const reply = await this.ask(Buffer.from([0, OP_EXTERNAL_ADDRESS]), OP_EXTERNAL_ADDRESS, 12, signal)
    return [...reply.subarray(8, 12)].join('.')
  }

  /** Maps TCP `internalPort`, asking for `externalPort` (the gateway may give another); lifetime 0 removes it. */
  async mapTcp(internalPort: number, externalPort: number, lifetimeMs: number, signal?: AbortSignal): Promise<PmpMapping> {
    const req = Buffer.alloc(12)
    req.writeUInt8(0, 0)
    req.writeUInt8(OP_MAP_TCP, 1)
    req.writeUInt16BE(internalPort, 4)
    req.writeUInt16BE(externalPort, 6)
    req.writeUInt32BE(Math.ceil(lifetimeMs / 1000), 8)
    const reply = await this.ask(req, OP_MAP_TCP, 16, signal, (r) => r.readUInt16BE(8) === internalPort)
    return { externalPort: reply.readUInt16BE(10), lifetimeMs: reply.readUInt32BE(12) * 1000 }
  }

  /** Removes the mapping of `internalPort` (RFC 6886 §3.4: lifetime 0, external port 0). */
  async unmapTcp(internalPort: number, signal?: AbortSignal): Promise<void> {
    await this.mapTcp(internalPort, 0, 0, signal)
  }

  close(): void {
    this.socket?.close()
    this.socket = null
  }

  private ask(req: Buffer, op: number, size: number, signal?: AbortSignal, matches: (r: Buffer) => boolean = () => true): Promise<Buffer> {
    const run = this.queue.then(() => this.exchange(req, op, size, signal, matches))
    this.queue = run.catch(() => {})
    return run
  }

  private async exchange(req: Buffer, op: number, size: number, signal: AbortSignal | undefined, matches: (r: Buffer) => boolean): Promise<Buffer> {
    const socket = await this.open()
    return new Promise<Buffer>((resolve, reject) => {
      let wait = FIRST_RETRY
      let timer: NodeJS.Timeout | undefined
      const deadline = setTimeout(() => done(new PortMappingError('ERR_NO_GATEWAY', `no NAT-PMP answer from ${this.gateway} within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs)
      const done = (err: Error | null, reply?: Buffer) => {
        clearTimeout(deadline)
        clearTimeout(timer)
        socket.off('message', onMessage)
        socket.off('error', onError)
        signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve(reply!)
      }
      const onAbort = () => done(new PortMappingError('ERR_ABORTED', 'port mapping stopped'))
      const onError = (err: Error) => done(new PortMappingError('ERR_NO_GATEWAY', `NAT-PMP gateway ${this.gateway}: ${err.message}`))
      // Replies are validated here, once: the sender is the gateway (a connected socket), the rest is checked.
      const onMessage = (msg: Buffer) => {
        if (msg.length < 8 || msg.readUInt8(0) !== 0 || msg.readUInt8(1) !== REPLY + op) return
        const result = msg.readUInt16BE(2)
        if (result !== 0) {
          return done(new PortMappingError('ERR_GATEWAY_REFUSED', `the NAT-PMP gateway ${this.gateway} refused: ${RESULTS[result] ?? `result code ${result}`}`))
        }
        if (msg.length < size || !matches(msg)) return
        done(null, msg)
      }
      const send = () => {
        socket.send(req, (err) => err && onError(err))
        timer = setTimeout(send, wait)
        timer.unref()
        wait *= 2
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      socket.on('message', onMessage)
      socket.on('error', onError)
      deadline.unref()
      send()
    })
  }

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket
    const socket = createSocket('udp4')
    this.socket = socket
    // An ICMP "port unreachable" surfaces as an error event: a router without NAT-PMP.
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(this.opts.port ?? NAT_PMP_PORT, this.gateway, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    socket.unref()
    return socket
  }
}

/**
 * The IPv4 default gateway, from the kernel's routing table (Linux); null
 * elsewhere or with no default route (then only UPnP is tried).
 */
export async function defaultGateway(routeFile = '/proc/net/route'): Promise<string | null> {
  const text = await readFile(routeFile, 'utf8').catch(() => '')
  for (const line of text.split('\n').slice(1)) {
    const [, destination, gateway, flags, , , , mask] = line.trim().split(/\s+/)
    if (destination !== '00000000' || mask !== '00000000' || !gateway || !(parseInt(flags ?? '0', 16) & 0x2)) continue
    const n = parseInt(gateway, 16)
    // Little-endian hex in the table: 0101A8C0 is 192.168.1.1.
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.')
  }
  return null
}
