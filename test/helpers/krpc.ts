// A stranger on a DHT: a bare UDP socket speaking KRPC (BEP 5, BEP 44) to
// one node, written here rather than with the library under test.
import type { ExecutionContext } from 'ava'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { decode, encode, type BDict, type BValue } from '../../src/codec/index.ts'

/** A stranger: a bare UDP socket that speaks KRPC to one node. */
export class Stranger {
  readonly id = randomBytes(20)
  readonly answers = new Map<string, BDict>()
  #next = 0
  private constructor(
    readonly sock: Socket,
    readonly port: number,
  ) {
    sock.on('message', (buf) => {
      try {
        const m = decode(buf) as BDict
        this.answers.set(Buffer.from(m.t as Uint8Array).toString('hex'), m)
      } catch {
        // not ours to judge
      }
    })
  }

  static async open(t: ExecutionContext, victim: { port: number }, address = '127.0.0.1'): Promise<Stranger> {
    const sock = createSocket('udp4')
    sock.bind(0, address)
    await once(sock, 'listening')
    t.teardown(() => sock.close())
    return new Stranger(sock, victim.port)
  }

  /** Sends a query; returns its transaction id (hex). */
  send(q: string, a: BDict): string {
    const t = Buffer.alloc(4)
    t.writeUInt32BE(this.#next++)
    this.sock.send(Buffer.from(encode({ t, y: 'q', q, a: { id: this.id, ...a } })), this.port, '127.0.0.1')
    return t.toString('hex')
  }

  /** Sends and waits for the answer (errors count as answers). */
  async ask(q: string, a: BDict, ms = 5_000): Promise<BDict> {
    const tid = this.send(q, a)
    const end = Date.now() + ms
    while (!this.answers.has(tid)) {
      if (Date.now() > end) throw new Error(`no answer to ${q} within ${ms} ms`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return this.answers.get(tid)!
  }

  /** A write token for `target` (from a get). */
  async token(target: Buffer = randomBytes(20)): Promise<Buffer> {
    const r = (await this.ask('get', { target })).r as BDict
    return Buffer.from(r.token as Uint8Array)
  }

  /** Whether the node answers a get of `target` with a value. */
  async holds(target: Buffer): Promise<boolean> {
    const m = await this.ask('get', { target })
    return (m.r as BDict | undefined)?.v !== undefined
  }

  /** Every query sent so far has been handled once a ping sent after them is answered (one socket, in order). */
  async drain(): Promise<void> {
    await this.ask('ping', {})
  }
}

/** A KRPC error's code (0 for an answer). */
export const errorCode = (m: BDict) => (m.y instanceof Uint8Array && Buffer.from(m.y).toString() === 'e' ? Number((m.e as BValue[])[0]) : 0)
