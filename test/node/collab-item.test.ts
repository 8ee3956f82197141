// The sealed, chunked DHT items of a collaborative playlist (collab-item.ts):
// what one circle seals opens only for the friend circle it was sealed for,
// at the place it was sealed for, and only as one whole version; a set of
// several chunks goes through real DHT nodes on 127.0.0.1 and back.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { encode } from '../../src/codec/index.ts'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import { DhtNode } from '../../src/manifest/index.ts'
import { CHUNK_BYTES, CollabItemError, MAX_CHUNKS, collabItemSalt, itemChunk, itemHead, openItems, sealItems, type CollabItemPlace } from '../../src/node/collab-item.ts'

const place = (over: Partial<CollabItemPlace> = {}): CollabItemPlace => ({
  secret: Buffer.alloc(32, 7), kind: 'guest', owner: 'aa'.repeat(32), name: 'b2b', writer: 'bb'.repeat(32), ...over,
})

const open = (p: CollabItemPlace, values: ReturnType<typeof sealItems>) => openItems(p, itemHead(values[0]), values.slice(1).map(itemChunk))

const code = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return err instanceof CollabItemError ? err.code : `not a CollabItemError: ${(err as Error).message}`
  }
  return 'no error'
}

test('a set of several chunks opens whole, every item under BEP 44\'s 1000 bytes', (t) => {
  const data = randomBytes(3 * CHUNK_BYTES)
  const values = sealItems(place(), data)
  t.is(values.length, 4) // nonce and tag take the fourth
  for (const v of values) t.true(encode(v).length <= 1000)
  t.true(open(place(), values).equals(data))
})

test('a seal opens only at its place: another friendship, writer, kind or playlist refuses it', (t) => {
  const values = sealItems(place(), randomBytes(100))
  t.is(code(() => open(place({ secret: Buffer.alloc(32, 8) }), values)), 'ERR_SEAL')
  t.is(code(() => open(place({ writer: 'cc'.repeat(32) }), values)), 'ERR_SEAL')
  t.is(code(() => open(place({ kind: 'doc' }), values)), 'ERR_SEAL')
  t.is(code(() => open(place({ name: 'other' }), values)), 'ERR_SEAL')
  // Salts differ per friendship, kind, playlist and chunk: nothing is found at another's place.
  const salts = new Set([place(), place({ secret: Buffer.alloc(32, 8) }), place({ kind: 'doc' }), place({ name: 'other' })].flatMap((p) => [0, 1].map((i) => collabItemSalt(p, i).toString('hex'))))
  t.is(salts.size, 8)
})

test('chunks of two versions do not make one; a set past MAX_CHUNKS is refused; malformed items are named', (t) => {
  const a = sealItems(place(), randomBytes(2 * CHUNK_BYTES))
  const b = sealItems(place(), randomBytes(2 * CHUNK_BYTES))
  t.is(code(() => openItems(place(), itemHead(a[0]), b.slice(1).map(itemChunk))), 'ERR_INCOMPLETE')
  t.is(code(() => sealItems(place(), randomBytes(MAX_CHUNKS * CHUNK_BYTES))), 'ERR_TOO_LARGE')
  t.is(code(() => itemHead({ v: 1, n: MAX_CHUNKS + 1, h: Buffer.alloc(32), d: Buffer.alloc(1) })), 'ERR_MALFORMED')
  t.is(code(() => itemHead({ ih: Buffer.alloc(20) })), 'ERR_MALFORMED')
  t.is(code(() => itemChunk({ d: Buffer.alloc(CHUNK_BYTES + 1) })), 'ERR_MALFORMED')
})

test('a sealed set of several chunks put by one DHT node is read back whole by another', async (t) => {
  const boot = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [] })
  const at = `127.0.0.1:${boot.port}`
  const writer = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [at] })
  const reader = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [at] })
  t.teardown(() => Promise.all([boot, writer, reader].map((n) => n.close())))
  const seed = randomBytes(32)
  const publicKey = keyPairFromSeed(seed).publicKey
  const p = place({ writer: Buffer.from(publicKey).toString('hex') })
  const data = randomBytes(2 * CHUNK_BYTES + 10)
  const values = sealItems(p, data)
  for (const [i, v] of values.entries()) await writer.putItem({ seed, salt: collabItemSalt(p, i), seq: 5, v })
  const got = await Promise.all(values.map((_, i) => reader.getItem({ publicKey, salt: collabItemSalt(p, i) })))
  t.true(got.every((g) => g?.seq === 5))
  t.true(openItems(p, itemHead(got[0]!.v), got.slice(1).map((g) => itemChunk(g!.v))).equals(data))
})
