import test from 'ava'
import { PassThrough } from 'node:stream'
import { createHash, randomBytes } from 'node:crypto'
import { Wire } from '../../src/swarm/protocol/wire.ts'

/** Bytes a peer would send: handshake, then have, request, a 16 KiB piece, a keep-alive, cancel. */
function peerBytes(block: Buffer): Buffer {
  const hs = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), randomBytes(20), randomBytes(20)])
  hs[25] = 0x10
  const msg = (id: number, ints: number[], payload: Buffer = Buffer.alloc(0)) => {
    const b = Buffer.alloc(5 + 4 * ints.length)
    b.writeUInt32BE(1 + 4 * ints.length + payload.length, 0)
    b[4] = id
    ints.forEach((v, i) => b.writeUInt32BE(v, 5 + 4 * i))
    return Buffer.concat([b, payload])
  }
  return Buffer.concat([hs, msg(4, [3]), msg(6, [1, 0, 16384]), msg(7, [2, 16384], block), Buffer.alloc(4), msg(8, [1, 0, 16384])])
}

function collect(w: Wire): string[] {
  const seen: string[] = []
  w.on('handshake', (_ih, _id, ext) => seen.push(`handshake ext=${ext}`))
  w.on('have', (i) => seen.push(`have ${i}`))
  w.on('request', (i, o, l) => seen.push(`request ${i} ${o} ${l}`))
  w.on('piece', (i, o, b) => seen.push(`piece ${i} ${o} ${b.length} ${createHash('sha1').update(b).digest('hex')}`))
  w.on('cancel', (i, o, l) => seen.push(`cancel ${i} ${o} ${l}`))
  return seen
}

test('messages are parsed the same however the bytes are split', (t) => {
  const block = randomBytes(16384)
  const bytes = peerBytes(block)
  const expected = ['handshake ext=true', 'have 3', 'request 1 0 16384', `piece 2 16384 16384 ${createHash('sha1').update(block).digest('hex')}`, 'cancel 1 0 16384']
  // 16384: TLS records, which split nearly every piece message in two.
  for (const size of [1, 3, 4, 5, 67, 68, 69, 70, 71, 72, 1000, 16384, 16397, 16398, 65536, bytes.length]) {
    const socket = new PassThrough()
    const w = new Wire(socket)
    const seen = collect(w)
    for (let at = 0; at < bytes.length; at += size) socket.emit('data', bytes.subarray(at, at + size))
    t.deepEqual(seen, expected, `chunks of ${size}`)
  }
})

test('a paused wire keeps what arrives and delivers it, in order, on resume', (t) => {
  const block = randomBytes(16384)
  const bytes = peerBytes(block)
  const socket = new PassThrough()
  const w = new Wire(socket)
  const seen = collect(w)
  socket.emit('data', bytes.subarray(0, 68))
  w.pause()
  socket.emit('data', bytes.subarray(68, 5000))
  socket.emit('data', bytes.subarray(5000))
  t.deepEqual(seen, ['handshake ext=true'])
  w.resume()
  t.is(seen.length, 5)
  t.is(seen[4], 'cancel 1 0 16384')
})
