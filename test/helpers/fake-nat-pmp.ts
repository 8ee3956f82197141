// A NAT-PMP gateway (RFC 6886) in the test process, on 127.0.0.1 with a port
// from the OS: it answers external-address and TCP-mapping requests as a
// router would and records every request, so tests see what the node asked
// without any packet leaving loopback.
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'

export interface PmpRequest {
  op: number
  internalPort?: number
  /** The external port asked for. */
  suggestedPort?: number
  /** Seconds asked for (0 removes the mapping). */
  lifetime?: number
  at: number
}

export interface FakeNatPmpOptions {
  /** The external address told (default 203.0.113.7, TEST-NET-3). */
  externalAddress?: string
  /** The external port given for a suggested one (default: the one suggested). */
  givePort?: (suggested: number) => number
  /** Seconds granted for the seconds asked (default: as asked). */
  grant?: (asked: number) => number
  /** A non-zero result code refuses every mapping (2: not authorized). */
  refuse?: number
  /** Requests left unanswered (as if lost), counted from the first. */
  drop?: number
  /** Answers are held back until `release()` (a slow router). */
  hold?: boolean
}

export interface FakeNatPmp {
  host: string
  port: number
  requests: PmpRequest[]
  /** Mapping requests only (op 2), removals included. */
  maps(): PmpRequest[]
  /** From now on nothing is answered (the router went away). */
  silence(): void
  /** Sends the answers held back (`hold`) and answers at once from now on. */
  release(): void
}

export async function fakeNatPmp(t: ExecutionContext, opts: FakeNatPmpOptions = {}): Promise<FakeNatPmp> {
  const socket = createSocket('udp4')
  const requests: PmpRequest[] = []
  const external = (opts.externalAddress ?? '203.0.113.7').split('.').map(Number)
  const epoch = Math.floor(Date.now() / 1000)
  let dropped = 0
  let silent = false
  let held: Array<() => void> | null = opts.hold ? [] : null
  socket.on('message', (msg, from) => {
    if (msg.length < 2 || msg[0] !== 0) return
    const op = msg[1]!
    const req: PmpRequest = { op, at: Date.now() }
    if (op === 2 && msg.length >= 12) {
      req.internalPort = msg.readUInt16BE(4)
      req.suggestedPort = msg.readUInt16BE(6)
      req.lifetime = msg.readUInt32BE(8)
    }
    requests.push(req)
    if (silent) return
    if (dropped < (opts.drop ?? 0)) return void dropped++
    const reply = Buffer.alloc(op === 0 ? 12 : 16)
    reply.writeUInt8(0, 0)
    reply.writeUInt8(128 + op, 1)
    reply.writeUInt32BE(Math.floor(Date.now() / 1000) - epoch, 4)
    if (op === 0) {
      Buffer.from(external).copy(reply, 8)
    } else if (op === 2) {
      reply.writeUInt16BE(opts.refuse && req.lifetime ? opts.refuse : 0, 2)
      reply.writeUInt16BE(req.internalPort!, 8)
      const removal = req.lifetime === 0
      reply.writeUInt16BE(removal ? 0 : (opts.givePort ?? ((p) => p))(req.suggestedPort!), 10)
      reply.writeUInt32BE(removal ? 0 : (opts.grant ?? ((s) => s))(req.lifetime!), 12)
    } else {
      reply.writeUInt16BE(5, 2) // unsupported opcode
    }
    const send = () => socket.send(reply, from.port, from.address)
    if (held) held.push(send)
    else send()
  })
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  t.teardown(() => socket.close())
  return { host: '127.0.0.1', port: socket.address().port, requests, maps: () => requests.filter((r) => r.op === 2), silence: () => void (silent = true),
    release: () => {
      const queued = held ?? []
      held = null
      for (const send of queued) send()
    },
  }
}
