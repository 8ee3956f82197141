// A DHT node's store under strangers' puts (docs/manifests.md, "The DHT
// node"): what it put and what it keeps survive a flood that cycles the
// strangers' store, oversize values and salts are refused with BEP 44's
// errors for every kind of put, and puts are rate limited per source
// address. Strangers are raw UDP sockets speaking KRPC written here (not the
// library under test), on 127.0.0.x.
import test, { type ExecutionContext } from 'ava'
import { createHash, randomBytes } from 'node:crypto'
import { encode, type BDict, type BValue } from '../../src/codec/index.ts'
import { generateKeyPair, signBytes } from '../../src/identity/index.ts'
import { DhtNode, type DhtStartOptions } from '../../src/manifest/index.ts'
import { ItemStore } from '../../src/manifest/dht-store.ts'
import { PutLimiter } from '../../src/manifest/put-limiter.ts'
import { errorCode, Stranger } from '../helpers/krpc.ts'

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest()
const at = (n: DhtNode) => `127.0.0.1:${n.port}`

async function startNode(t: ExecutionContext, opts: Partial<DhtStartOptions> = {}): Promise<DhtNode> {
  const node = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [], ...opts })
  t.teardown(() => node.close())
  return node
}

/** BEP 44's signed bytes, built here. */
function sigData(salt: Uint8Array, seq: number, v: BValue): Buffer {
  const d = Buffer.from(encode({ salt, seq, v }))
  return d.subarray(1, d.length - 1)
}


test('a flood of strangers\' puts cycles the strangers\' store but never evicts what the node put or keeps', async (t) => {
  t.timeout(120_000)
  // No rate limit here: this is about the store (one address could not flood this fast otherwise).
  const victim = await startNode(t, { putLimits: { rate: 1e6, burst: 1e6 } })
  const owner = generateKeyPair()
  const friend = generateKeyPair()
  const ownSalt = Buffer.from('djcloud/backup')
  const ownV = { v: 1, b: [{ q: 3, s: randomBytes(32), n: 1234 }] }
  await victim.putItem({ seed: owner.seed, salt: ownSalt, seq: 3, v: ownV })
  // A friend's pointer this node keeps (put again here, as backups.ts does).
  const keptSalt = randomBytes(32)
  const keptV = { v: 1, b: [{ q: 7, s: randomBytes(32), n: 99 }] }
  await victim.putSigned({ publicKey: friend.publicKey, salt: keptSalt, seq: 7, v: keptV, sig: signBytes(friend.seed, sigData(keptSalt, 7, keptV)) })
  // An item another node put, which this node reads with keep (its owner's roster pointer).
  const other = await startNode(t, { bootstrap: [at(victim)] })
  const rosterSalt = randomBytes(32)
  const rosterIh = randomBytes(20)
  t.true((await other.putPointer({ seed: owner.seed, salt: rosterSalt, seq: 12, infoHash: rosterIh })).stored >= 1)
  t.deepEqual(await victim.getPointer({ publicKey: owner.publicKey, salt: rosterSalt, keep: true }), { infoHash: rosterIh, seq: 12 })
  await other.close()

  // A stranger's item from before the flood: the flood must push it out, or it flooded nothing.
  const flooder = await Stranger.open(t, victim)
  const token = await flooder.token()
  const early = randomBytes(500)
  t.false(errorCode(await flooder.ask('put', { token, v: early })) !== 0)
  const earlyTarget = sha1(encode(early))
  t.true(await flooder.holds(earlyTarget))

  // 1,100 immutable puts of up to 1000 bytes, in batches (a UDP socket buffer holds only so much).
  let stored = 0
  for (let i = 0; i < 1_100; i += 50) {
    const tids = Array.from({ length: 50 }, () => flooder.send('put', { token, v: randomBytes(900) }))
    await flooder.drain()
    stored += tids.filter((tid) => flooder.answers.has(tid) && errorCode(flooder.answers.get(tid)!) === 0).length
  }
  t.true(stored >= 1_050, `the node took ${stored} of 1,100 strangers' puts`)
  t.false(await flooder.holds(earlyTarget), 'the flood cycled the strangers\' store')

  // A node that knows only the victim finds all three (its own store is empty).
  const reader = await startNode(t, { bootstrap: [at(victim)] })
  const own = await reader.getItem({ publicKey: owner.publicKey, salt: ownSalt })
  t.is(own?.seq, 3)
  t.deepEqual(encode(own!.v as BValue), encode(ownV))
  const kept = await reader.getItem({ publicKey: friend.publicKey, salt: keptSalt })
  t.is(kept?.seq, 7)
  t.deepEqual(encode(kept!.v as BValue), encode(keptV))
  t.deepEqual(await reader.getPointer({ publicKey: owner.publicKey, salt: rosterSalt }), { infoHash: rosterIh, seq: 12 })
  const stats = victim.storeStats()
  t.true(stats.strangers <= 1_000 && stats.strangerBytes <= 1_000 * 1024, JSON.stringify(stats))
  t.is(stats.kept, 3)

  // A kept target still takes a newer version from the network (and still refuses an older one).
  const newer = { v: 1, b: [{ q: 8, s: randomBytes(32), n: 100 }] }
  await reader.putSigned({ publicKey: friend.publicKey, salt: keptSalt, seq: 8, v: newer, sig: signBytes(friend.seed, sigData(keptSalt, 8, newer)) })
  const reader2 = await startNode(t, { bootstrap: [at(victim)] })
  await reader.close()
  t.is((await reader2.getItem({ publicKey: friend.publicKey, salt: keptSalt }))?.seq, 8)
})

test('oversize values and salts are refused with BEP 44\'s errors and not stored, for every kind of put', async (t) => {
  const victim = await startNode(t)
  const s = await Stranger.open(t, victim)
  const token = await s.token()
  const key = generateKeyPair()
  const mutable = (salt: Uint8Array, v: BValue, seq = 1) => ({ token, k: Buffer.from(key.publicKey), salt, seq, v, sig: signBytes(key.seed, sigData(salt, seq, v)) })
  const bigDict = { pad: randomBytes(30_000) }
  const cases: Array<[string, BDict, Buffer, number]> = [
    ['immutable bytes of 1001', { token, v: randomBytes(1001) }, Buffer.alloc(0), 205],
    ['immutable dict of 30 KB', { token, v: bigDict }, sha1(encode(bigDict)), 205],
    ['immutable list of 1.2 KB', { token, v: [randomBytes(600), randomBytes(600)] }, Buffer.alloc(0), 205],
    ['mutable dict of 30 KB', mutable(Buffer.from('s'), bigDict), sha1(Buffer.concat([key.publicKey, Buffer.from('s')])), 205],
    ['mutable salt of 100 bytes', mutable(Buffer.alloc(100, 7), { ih: randomBytes(20) }), sha1(Buffer.concat([key.publicKey, Buffer.alloc(100, 7)])), 207],
    ['mutable salt of 65 bytes', mutable(Buffer.alloc(65, 8), { ih: randomBytes(20) }), sha1(Buffer.concat([key.publicKey, Buffer.alloc(65, 8)])), 207],
    ['immutable with a salt of 100 bytes', { token, v: Buffer.from('x'), salt: Buffer.alloc(100) }, sha1(encode(Buffer.from('x'))), 207],
  ]
  for (const [what, a, target, code] of cases) {
    t.is(errorCode(await s.ask('put', a)), code, what)
    if (target.length) t.false(await s.holds(target), `${what}: not stored`)
  }
  t.deepEqual(victim.storeStats(), { kept: 0, strangers: 0, strangerBytes: 0, putsRefused: 0 })

  // At the limits exactly: taken.
  const full = Buffer.alloc(995, 1) // "995:" + 995 bytes = 999 bytes bencoded
  t.is(errorCode(await s.ask('put', { token, v: full })), 0)
  t.true(await s.holds(sha1(encode(full))))
  const salt64 = Buffer.alloc(64, 9)
  t.is(errorCode(await s.ask('put', mutable(salt64, { ih: randomBytes(20) }))), 0)
  t.true(await s.holds(sha1(Buffer.concat([key.publicKey, salt64]))))

  // Our own puts refuse the same before anything leaves.
  await t.throwsAsync(victim.putItem({ seed: key.seed, salt: Buffer.from('x'), seq: 1, v: { pad: Buffer.alloc(1000) } }), { message: /1000 bytes/ })
  await t.throwsAsync(victim.putSigned({ publicKey: key.publicKey, salt: Buffer.from('x'), seq: 1, v: bigDict, sig: Buffer.alloc(64) }), { message: /1000 bytes/ })
})

test('a flood from one address is rate limited while another address still gets its puts stored', async (t) => {
  const victim = await startNode(t, { putLimits: { rate: 1, burst: 20 } })
  const flooder = await Stranger.open(t, victim, '127.0.0.2')
  const token = await flooder.token()
  const tids = Array.from({ length: 200 }, () => flooder.send('put', { token, v: randomBytes(100) }))
  await flooder.drain()
  const answered = tids.filter((tid) => flooder.answers.has(tid)).length
  t.true(answered >= 20 && answered <= 25, `${answered} of 200 puts from one address answered`)
  t.true(victim.storeStats().strangers <= 25)
  t.true(victim.storeStats().putsRefused >= 175)

  const honest = await Stranger.open(t, victim, '127.0.0.3')
  const honestToken = await honest.token()
  const v = randomBytes(100)
  t.is(errorCode(await honest.ask('put', { token: honestToken, v })), 0)
  t.true(await honest.holds(sha1(encode(v))), 'the other address\'s put is stored')
  // The flooder is still held to the rate.
  const more = Array.from({ length: 20 }, () => flooder.send('put', { token, v: randomBytes(100) }))
  await flooder.drain()
  t.true(more.filter((tid) => flooder.answers.has(tid)).length <= 5)
})

test('PutLimiter: a token bucket per address, its map capped and failing closed', (t) => {
  let now = 0
  const l = new PutLimiter({ rate: 2, burst: 3, maxSources: 2 }, () => now)
  t.deepEqual([1, 2, 3, 4].map(() => l.take('a')), [true, true, true, false])
  now += 500 // one token back
  t.deepEqual([l.take('a'), l.take('a')], [true, false])
  t.true(l.take('b'))
  t.false(l.take('c'), 'the map is full of addresses still below a full bucket')
  now += 10_000 // both refilled: their buckets are dropped for a new address
  t.true(l.take('c'))
  t.is(l.refused, 3)
  t.throws(() => new PutLimiter({ rate: 0 }), { message: /rate/ })
})

test('ItemStore: strangers bounded in entries and bytes, kept items apart and updated only by a higher seq', (t) => {
  const s = new ItemStore({ maxValues: 3, maxValueBytes: 1_000, maxKept: 2 })
  const id = Buffer.alloc(20)
  const item = (n: number, seq?: number) => ({ v: Buffer.alloc(n), id, ...(seq === undefined ? {} : { seq, k: Buffer.alloc(32), sig: Buffer.alloc(64) }) })
  t.true(s.putKept('own', item(10, 5)))
  t.false(s.putKept('own', item(10, 5)), 'an equal seq is not taken')
  t.false(s.putKept('own', item(10, 4)))
  for (const k of ['a', 'b', 'c', 'd']) s.set(k, item(10))
  t.is(s.get('a'), undefined, 'oldest stranger out')
  t.truthy(s.get('own'))
  s.set('big', item(900))
  t.true(s.stats().strangerBytes <= 1_000)
  t.is(s.stats().strangers, 1, 'the byte cap pushed the others out')
  s.set('huge', item(2_000))
  t.is(s.get('huge'), undefined, 'larger than the whole cap: not held')
  // A kept target: the library's set (a verified put of a higher seq) lands in the kept part.
  t.true(s.keep('roster'))
  s.set('roster', item(10, 9))
  for (const k of ['e', 'f', 'g', 'h']) s.set(k, item(10))
  t.is(s.get('roster')?.seq, 9)
  t.false(s.keep('third'), 'maxKept')
  t.deepEqual(s.stats().kept, 2)
})
