// The multiplexer over a real data channel (node-datachannel on loopback):
// several byte streams both ways, backpressure on bufferedAmount, framing
// errors, and the per-stream channel binding both ends agree on.
import test from 'ava'
import { createHash, randomBytes } from 'node:crypto'
import { FLAG_DATA, FLAG_OPEN, FRAME_HEADER, FRAME_PAYLOAD, RtcError, type MuxStream } from '../../src/rtc/index.ts'
import { rtcPair } from '../helpers/rtc.ts'
import { streamDuplex } from '../../src/swarm/index.ts'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Everything a stream receives until it closes. */
function collect(s: MuxStream): Promise<Buffer> {
  const parts: Uint8Array[] = []
  s.on('data', (c) => parts.push(Uint8Array.from(c)))
  return new Promise((resolve) => s.once('close', () => resolve(Buffer.concat(parts))))
}

test('streams opened by either side carry their bytes, in order, and END closes them on both sides', async (t) => {
  const { offerer, answerer } = await rtcPair(t)
  const incoming: MuxStream[] = []
  const got = new Map<number, Promise<Buffer>>()
  for (const [side, other] of [[offerer, answerer], [answerer, offerer]] as const) {
    other.mux.on('stream', (s) => {
      incoming.push(s)
      got.set(s.id * 10 + (side === offerer ? 1 : 2), collect(s))
    })
  }
  const sent = new Map<number, Buffer>()
  const opened: MuxStream[] = []
  for (const [side, tag] of [[offerer, 1], [answerer, 2], [offerer, 1], [answerer, 2], [offerer, 1]] as const) {
    const s = side.mux.open()
    const bytes = randomBytes(100_000 + opened.length * 7_000)
    sent.set(s.id * 10 + tag, bytes)
    s.write(bytes.subarray(0, 5)) // a small first write, then the rest in one
    s.write(bytes.subarray(5))
    s.end()
    opened.push(s)
  }
  t.deepEqual(opened.map((s) => s.id), [0, 2, 1, 4, 3], 'the offerer opens 0 and odd ids, the answerer even ids from 2')
  await new Promise<void>((resolve) => {
    const check = () => (got.size === 5 ? resolve() : setTimeout(check, 20))
    check()
  })
  for (const [key, bytes] of sent) t.is(sha(await got.get(key)!), sha(bytes), `stream ${Math.floor(key / 10)}`)
  t.is(offerer.mux.streams.size, 0)
  t.is(answerer.mux.streams.size, 0)
})

test('a large transfer never lets bufferedAmount exceed the high mark by more than one frame, and writes wait for the channel', async (t) => {
  const high = 256 * 1024
  let max = 0
  const { offerer, answerer } = await rtcPair(t, { mux: { highWaterMark: high, lowWaterMark: 64 * 1024, onSent: (b) => (max = Math.max(max, b)) } })
  const bytes = randomBytes(24 * 1024 * 1024)
  const received = new Promise<Buffer>((resolve) => answerer.mux.once('stream', (s) => resolve(collect(s))))
  const s = offerer.mux.open()
  let writesDone = 0
  let pendingAtMost = 0
  const chunk = 128 * 1024
  for (let at = 0; at < bytes.length; at += chunk) s.write(bytes.subarray(at, at + chunk), () => writesDone++)
  // Right after queuing 24 MiB, the channel holds no more than the high mark plus a frame; the rest waits here.
  t.true(offerer.channel.bufferedAmount <= high + FRAME_HEADER + FRAME_PAYLOAD, `buffered ${offerer.channel.bufferedAmount}`)
  pendingAtMost = bytes.length / chunk - writesDone
  t.true(pendingAtMost > 100, `writes wait for the channel (${pendingAtMost} of ${bytes.length / chunk} pending)`)
  s.end()
  const got = await received
  t.is(sha(got), sha(bytes))
  t.is(writesDone, bytes.length / chunk)
  t.true(max > high / 2, `the channel was kept busy (max ${max})`)
  t.true(max <= high + FRAME_HEADER + FRAME_PAYLOAD, `bufferedAmount peaked at ${max}, high mark ${high}`)
})

test('both ends agree on each stream binding, which differs per stream and per connection', async (t) => {
  const a = await rtcPair(t)
  const b = await rtcPair(t)
  t.deepEqual(a.offerer.binding(0), a.answerer.binding(0))
  t.deepEqual(a.offerer.binding(7), a.answerer.binding(7))
  t.notDeepEqual(a.offerer.binding(0), a.offerer.binding(1))
  t.notDeepEqual(a.offerer.binding(0), b.offerer.binding(0))
  t.not(a.offerer.offerFingerprint, a.offerer.answerFingerprint)
})

test('a frame that breaks the framing closes the connection with ERR_PROTOCOL', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['a stream id of the wrong side (odd: the offerer\'s)', Uint8Array.from([FLAG_OPEN | FLAG_DATA, 0, 0, 0, 1, 9])],
    ['a frame over 16 KiB of payload', new Uint8Array(FRAME_HEADER + FRAME_PAYLOAD + 1)],
    ['unknown flags', Uint8Array.from([0x80, 0, 0, 0, 2])],
    ['a payload without DATA', Uint8Array.from([FLAG_OPEN, 0, 0, 0, 2, 7])],
  ]
  for (const [what, frame] of cases) {
    const { offerer, answerer } = await rtcPair(t)
    const closed = new Promise<Error | undefined>((resolve) => offerer.once('close', resolve))
    answerer.channel.send(frame)
    const err = await closed
    t.true(err instanceof RtcError && err.code === 'ERR_PROTOCOL', `${what}: ${err?.message}`)
  }
})

// A write finishes only once its frames are handed to the channel, so the Duplex's end comes after them.
test('a stream Duplex ended and destroyed on purpose (as a Wire closes) still delivers every byte written before', async (t) => {
  const { offerer, answerer } = await rtcPair(t, { mux: { highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024 } })
  const bytes = randomBytes(1024 * 1024)
  const received = new Promise<Buffer>((resolve) => answerer.mux.once('stream', (s) => resolve(collect(s))))
  const d = streamDuplex(offerer.mux.open())
  d.write(bytes)
  d.end(() => d.destroy()) // Wire.destroy() without an error
  t.is(sha(await received), sha(bytes))
})
