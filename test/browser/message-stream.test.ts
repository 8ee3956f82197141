// messageStream (src/browser/message-stream.ts): a message channel as the
// wire's byte stream, here over a real WebSocket on 127.0.0.1 (ws in Node,
// the same interface an RTCDataChannel has). Bytes arrive whole and in
// order, writes are cut into messages of at most maxMessage, a write waits
// while the channel holds more than highWater unsent, and closing either end
// ends the other.
import test, { type ExecutionContext } from 'ava'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { WebSocketServer, WebSocket } from 'ws'
import { messageStream, type MessageChannelLike } from '../../src/browser/message-stream.ts'
import { until } from '../helpers/until.ts'

async function connected(t: ExecutionContext): Promise<{ client: WebSocket; server: WebSocket; sizes: number[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  t.teardown(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
  })
  const serverSide = once(wss, 'connection')
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`)
  client.binaryType = 'arraybuffer'
  await once(client, 'open')
  const [server] = (await serverSide) as [WebSocket]
  const sizes: number[] = []
  server.on('message', (d: Buffer) => sizes.push(d.length))
  return { client, server, sizes }
}

test('bytes arrive whole and in order, in messages no larger than maxMessage, both ways', async (t) => {
  const { client, server, sizes } = await connected(t)
  const stream = messageStream(client as unknown as MessageChannelLike, { maxMessage: 1000 })
  const sent = randomBytes(50_000)
  const got: Buffer[] = []
  server.on('message', (d: Buffer) => got.push(d))
  stream.write(sent.subarray(0, 12_345))
  stream.write(sent.subarray(12_345))
  await until(async () => (Buffer.concat(got).length >= sent.length ? true : undefined), 30_000, 10)
  t.true(Buffer.concat(got).equals(sent))
  t.true(Math.max(...sizes) <= 1000)
  const back = randomBytes(3000)
  const read = once(stream, 'data')
  server.send(back)
  const [chunk] = await read
  t.true(Buffer.isBuffer(chunk))
  t.true((chunk as Buffer).equals(back))
})

test('a write waits while the channel holds more than highWater unsent', async (t) => {
  // A channel whose unsent bytes the test controls.
  let buffered = 0
  const sent: number[] = []
  const fake: MessageChannelLike = {
    readyState: 'open',
    get bufferedAmount() {
      return buffered
    },
    send: (d) => {
      sent.push(d.length)
      buffered += d.length
    },
    close: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
  }
  const stream = messageStream(fake, { highWater: 10_000, drainPollMs: 1 })
  let calledBack = 0
  for (let i = 0; i < 3; i++) stream.write(Buffer.alloc(8_000), () => calledBack++)
  await until(async () => (calledBack === 1 && sent.length === 2 ? true : undefined), 30_000, 5)
  // The second write is sent but waits (16 000 > 10 000 unsent); the third is not sent before it returns.
  await new Promise((r) => setTimeout(r, 30))
  t.deepEqual(sent, [8_000, 8_000])
  t.is(calledBack, 1)
  buffered = 0 // the channel sent what it held
  await until(async () => (calledBack === 3 ? true : undefined), 30_000, 5)
  t.deepEqual(sent, [8_000, 8_000, 8_000])
})

test('the channel closing ends the stream; destroying the stream closes the channel', async (t) => {
  const a = await connected(t)
  const stream = messageStream(a.client as unknown as MessageChannelLike)
  stream.on('error', () => {})
  const closed = once(stream, 'close')
  a.server.close()
  await closed
  t.true(stream.destroyed)
  const b = await connected(t)
  const other = messageStream(b.client as unknown as MessageChannelLike)
  const serverClosed = once(b.server, 'close')
  other.destroy()
  await serverClosed
  t.is(b.server.readyState, WebSocket.CLOSED)
})
