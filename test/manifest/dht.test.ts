// DhtNode on small DHTs of its own on 127.0.0.1 (never the public DHT: every
// node gets an explicit bootstrap list).
import test, { type ExecutionContext } from 'ava'
import DHT from 'bittorrent-dht'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encode } from '../../src/codec/index.ts'
import { generateKeyPair, signBytes, verifyBytes, type KeyPair } from '../../src/identity/index.ts'
import { DhtNode, manifestSalt, parseHostPort } from '../../src/manifest/index.ts'
import { tempDir } from '../helpers/temp.ts'

interface Started {
  node: DhtNode
  warnings: Error[]
}

/** A DhtNode on 127.0.0.1, closed at teardown, its warnings collected. */
async function startNode(t: ExecutionContext, bootstrap: string[], extra: { stateFile?: string } = {}): Promise<Started> {
  const warnings: Error[] = []
  const node = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap, onWarning: (e) => warnings.push(e), ...extra })
  t.teardown(() => node.close())
  return { node, warnings }
}

const at = (n: DhtNode) => `127.0.0.1:${n.port}`

/** One bootstrap node and `size` nodes that joined through it. */
async function network(t: ExecutionContext, size: number) {
  const boot = await startNode(t, [])
  const nodes = await Promise.all(Array.from({ length: size }, () => startNode(t, [at(boot.node)])))
  return { boot, nodes: nodes.map((s) => s.node), started: nodes }
}

const salt = () => randomBytes(32)
const infoHash = () => randomBytes(20)

/** A raw bittorrent-dht node (no djcloud checks) in the test's network. */
async function rawNode(t: ExecutionContext, bootstrap: DhtNode, verify: (sig: Buffer, msg: Buffer, k: Buffer) => boolean): Promise<DHT> {
  const dht = new DHT({ bootstrap: [{ host: '127.0.0.1', port: bootstrap.port }], verify })
  dht.on('error', () => {})
  dht.on('warning', () => {})
  t.teardown(() => new Promise<void>((resolve) => dht.destroy(resolve)))
  dht.listen(0, '127.0.0.1')
  if (!dht.ready) await once(dht, 'ready')
  return dht
}

/** BEP 44's signed bytes for an item, built independently of dht.ts's helper. */
function sigData(saltBytes: Uint8Array, seq: number, v: Parameters<typeof encode>[0]): Buffer {
  const d = Buffer.from(encode({ salt: saltBytes, seq, v }))
  return d.subarray(1, d.length - 1)
}

function rawPut(dht: DHT, opts: { k: Uint8Array; salt: Uint8Array; seq: number; v: unknown; sig: Uint8Array }): Promise<number> {
  return new Promise((resolve) => {
    dht.put({ k: Buffer.from(opts.k), salt: Buffer.from(opts.salt), seq: opts.seq, v: opts.v, sig: Buffer.from(opts.sig) }, (_err, _key, n) => resolve(n ?? 0))
  })
}

test('a pointer put by one node is found by another; a higher seq replaces it, a lower or equal one never rolls it back', async (t) => {
  const { nodes, started } = await network(t, 8)
  const [a, b, c, d, e] = nodes as [DhtNode, DhtNode, DhtNode, DhtNode, DhtNode]
  const key = generateKeyPair()
  const s = salt()
  const ih1 = infoHash()

  t.is(await b.getPointer({ publicKey: key.publicKey, salt: s }), null, 'nothing there yet')
  const first = await a.putPointer({ seed: key.seed, salt: s, seq: 1, infoHash: ih1 })
  t.true(first.stored >= 4, `stored on ${first.stored} of 8 other nodes`)
  const got = await b.getPointer({ publicKey: key.publicKey, salt: s })
  t.deepEqual(got, { infoHash: ih1, seq: 1 })
  t.true(Buffer.isBuffer(got!.infoHash))

  const ih2 = infoHash()
  t.true((await a.putPointer({ seed: key.seed, salt: s, seq: 2, infoHash: ih2 })).stored >= 4)
  t.deepEqual(await c.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih2, seq: 2 })

  // Lower and equal seqs, from the writer and from another node with the same key: refused everywhere.
  const ih3 = infoHash()
  t.deepEqual(await a.putPointer({ seed: key.seed, salt: s, seq: 1, infoHash: ih3 }), { stored: 0 })
  t.deepEqual(await e.putPointer({ seed: key.seed, salt: s, seq: 2, infoHash: ih3 }), { stored: 0 })
  for (const reader of [a, d, e]) t.deepEqual(await reader.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih2, seq: 2 })
  t.deepEqual(started[0]!.warnings, [], 'a refused seq is no reason to warn')
})

test('the highest seq wins even when most nodes on the way hold an older one', async (t) => {
  // Two DHTs that do not know each other: six nodes hold seq 1, two hold seq 5.
  const one = await network(t, 5)
  const two = await network(t, 1)
  const key = generateKeyPair()
  const s = salt()
  const old = infoHash()
  const newest = infoHash()
  await one.nodes[0]!.putPointer({ seed: key.seed, salt: s, seq: 1, infoHash: old })
  await two.nodes[0]!.putPointer({ seed: key.seed, salt: s, seq: 5, infoHash: newest })
  t.deepEqual(await one.nodes[1]!.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: old, seq: 1 })

  // A node whose own store holds seq 1 (the network refused it) still takes seq 5 from the network.
  const late = await startNode(t, [at(two.boot.node)])
  t.deepEqual(await late.node.putPointer({ seed: key.seed, salt: s, seq: 1, infoHash: old }), { stored: 0 })
  t.deepEqual(await late.node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: newest, seq: 5 })

  const reader = await startNode(t, [at(one.boot.node), at(two.boot.node)])
  t.deepEqual(await reader.node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: newest, seq: 5 })
})

test('different salts and different keys are separate items', async (t) => {
  const { nodes } = await network(t, 4)
  const key = generateKeyPair()
  const other = generateKeyPair()
  const [s1, s2] = [salt(), salt()]
  const [ih1, ih2, ih3] = [infoHash(), infoHash(), infoHash()]
  await nodes[0]!.putPointer({ seed: key.seed, salt: s1, seq: 3, infoHash: ih1 })
  await nodes[1]!.putPointer({ seed: key.seed, salt: s2, seq: 1, infoHash: ih2 })
  await nodes[1]!.putPointer({ seed: other.seed, salt: s1, seq: 9, infoHash: ih3 })
  t.deepEqual(await nodes[3]!.getPointer({ publicKey: key.publicKey, salt: s1 }), { infoHash: ih1, seq: 3 })
  t.deepEqual(await nodes[3]!.getPointer({ publicKey: key.publicKey, salt: s2 }), { infoHash: ih2, seq: 1 })
  t.deepEqual(await nodes[3]!.getPointer({ publicKey: other.publicKey, salt: s1 }), { infoHash: ih3, seq: 9 })
  t.is(await nodes[3]!.getPointer({ publicKey: key.publicKey, salt: salt() }), null)
})

test('an item signed by another key is never returned: storing nodes refuse it and readers check what they get', async (t) => {
  const { boot, nodes } = await network(t, 4)
  const owner = generateKeyPair()
  const forger = generateKeyPair()
  const s = salt()
  const evil = infoHash()
  const forgedSig = signBytes(forger.seed, sigData(s, 99, { ih: evil }))
  t.false(verifyBytes(owner.publicKey, sigData(s, 99, { ih: evil }), forgedSig))

  // A node that checks nothing keeps the forgery in its store and serves it...
  const liar = await rawNode(t, boot.node, () => true)
  const target = createHash('sha1').update(Buffer.concat([owner.publicKey, s])).digest('hex')
  liar._values.set(target, { v: { ih: evil }, k: Buffer.from(owner.publicKey), salt: s, sig: Buffer.from(forgedSig), seq: 99, id: liar.nodeId })
  // ...and puts it to everybody else, who refuse (no answer: the put times out).
  t.is(await rawPut(liar, { k: owner.publicKey, salt: s, seq: 99, v: { ih: evil }, sig: forgedSig }), 0)
  t.is(await nodes[0]!.getPointer({ publicKey: owner.publicKey, salt: s }), null)

  // The real item at seq 1 wins over the forged seq 99.
  const real = infoHash()
  await nodes[1]!.putPointer({ seed: owner.seed, salt: s, seq: 1, infoHash: real })
  t.deepEqual(await nodes[2]!.getPointer({ publicKey: owner.publicKey, salt: s }), { infoHash: real, seq: 1 })
})

test('values that are not a pointer {ih: 20 bytes} are skipped with a warning', async (t) => {
  const { boot, nodes, started } = await network(t, 4)
  const key = generateKeyPair()
  const writer = await rawNode(t, boot.node, (sig, msg, k) => verifyBytes(k, msg, sig))
  const reader = started[3]!
  const cases: Array<[string, Parameters<typeof encode>[0]]> = [
    ['a byte string', Buffer.from('hello')],
    ['a short ih', { ih: randomBytes(19) }],
    ['no ih', { other: randomBytes(20) }],
    ['a list', [randomBytes(20)]],
  ]
  for (const [what, v] of cases) {
    const s = salt()
    const stored = await rawPut(writer, { k: key.publicKey, salt: s, seq: 1, v, sig: signBytes(key.seed, sigData(s, 1, v)) })
    t.true(stored >= 2, `${what}: stored on ${stored}`)
    reader.warnings.length = 0
    t.is(await reader.node.getPointer({ publicKey: key.publicKey, salt: s }), null, what)
    t.true(reader.warnings.some((w) => /not a pointer/.test(w.message)), what)
  }

  // A pointer later on, under the same salt, is found again.
  const s = salt()
  const bytes = Buffer.from('not a pointer')
  await rawPut(writer, { k: key.publicKey, salt: s, seq: 1, v: bytes, sig: signBytes(key.seed, sigData(s, 1, bytes)) })
  const ih = infoHash()
  t.true((await nodes[0]!.putPointer({ seed: key.seed, salt: s, seq: 2, infoHash: ih })).stored >= 2)
  t.deepEqual(await reader.node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih, seq: 2 })
})

test('a node alone keeps what it puts and serves it; seqs still only go up', async (t) => {
  const { node, warnings } = await startNode(t, [])
  t.is(node.nodeCount(), 0)
  const key = generateKeyPair()
  const s = salt()
  const ih = infoHash()
  t.deepEqual(await node.putPointer({ seed: key.seed, salt: s, seq: 5, infoHash: ih }), { stored: 0 })
  t.deepEqual(await node.putPointer({ seed: key.seed, salt: s, seq: 3, infoHash: infoHash() }), { stored: 0 })
  t.deepEqual(await node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih, seq: 5 })
  t.deepEqual(warnings, [], 'an empty network is no reason to warn')

  // A node joining later gets it from this one's store.
  const late = await startNode(t, [at(node)])
  t.deepEqual(await late.node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih, seq: 5 })
  t.is(node.nodeCount(), 1)
})

test('an unreadable state file is reported and replaced', async (t) => {
  const stateFile = join(await tempDir(t), 'dht.json')
  await writeFile(stateFile, 'not json')
  const { node, warnings } = await startNode(t, [], { stateFile })
  t.true(warnings.some((w) => /is not a DHT state file/.test(w.message)))
  await node.close()
  t.like(JSON.parse(await readFile(stateFile, 'utf8')), { version: 1, nodes: [] })
})

test('announce and lookup find the announcing port, once', async (t) => {
  const { nodes } = await network(t, 6)
  const ih = infoHash()
  await nodes[0]!.announce(ih, 40001)
  await nodes[0]!.announce(ih, 40001)
  await nodes[1]!.announce(ih, 40002)
  const peers = await nodes[4]!.lookup(ih)
  t.deepEqual(
    peers.sort((x, y) => x.port - y.port),
    [{ host: '127.0.0.1', port: 40001 }, { host: '127.0.0.1', port: 40002 }],
  )
  const started = Date.now()
  t.deepEqual(await nodes[5]!.lookup(infoHash(), 500), [])
  t.true(Date.now() - started < 1500)
  await t.throwsAsync(nodes[0]!.announce(ih, 0), { message: /1-65535/ })
})

test('an announce after the node that held it restarted reaches it again (fresh tokens from a new walk, not the first walk\'s)', async (t) => {
  const dir = await tempDir(t)
  const stateFile = join(dir, 'b.json')
  const first = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [], stateFile })
  const port = first.port
  // A does not list itself in its own store (no advertise): only B can tell others where A is.
  const a = await startNode(t, [`127.0.0.1:${port}`])
  const ih = infoHash()
  await a.node.announce(ih, 40001)
  const c = await startNode(t, [`127.0.0.1:${port}`])
  t.deepEqual(await c.node.lookup(ih), [{ host: '127.0.0.1', port: 40001 }], 'B holds the announce')
  // B restarts on its address with its id (its peer store empty, its token secret new), as a device does.
  await first.close()
  const again = await DhtNode.start({ port, host: '127.0.0.1', bootstrap: [], stateFile })
  t.teardown(() => again.close())
  await a.node.announce(ih, 40001)
  const d = await startNode(t, [`127.0.0.1:${port}`])
  t.deepEqual(await d.node.lookup(ih), [{ host: '127.0.0.1', port: 40001 }], 'the restarted node took the new announce')
})

test('the routing table survives a restart: with the state file and no bootstrap list the node is back in the DHT', async (t) => {
  const { boot, nodes } = await network(t, 5)
  const dir = await tempDir(t)
  const stateFile = join(dir, 'dht.json')
  const key = generateKeyPair()
  const s = salt()
  const ih = infoHash()
  await nodes[0]!.putPointer({ seed: key.seed, salt: s, seq: 7, infoHash: ih })

  const first = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [at(boot.node)], stateFile })
  t.teardown(() => first.close())
  t.true(first.nodeCount() >= 5)
  await first.close()
  await first.close() // idempotent
  const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { version: number; id: string; nodes: Array<{ host: string; port: number }> }
  t.is(saved.version, 1)
  t.regex(saved.id, /^[0-9a-f]{40}$/)
  t.true(saved.nodes.some((n) => n.port === boot.node.port))
  await t.throwsAsync(first.getPointer({ publicKey: key.publicKey, salt: s }), { message: /closed/ })
  await t.throwsAsync(first.putPointer({ seed: key.seed, salt: s, seq: 8, infoHash: ih }), { message: /closed/ })

  const again = await startNode(t, [], { stateFile })
  t.true(again.node.nodeCount() > 0)
  t.deepEqual(await again.node.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih, seq: 7 })
  await again.node.close()
  const resaved = JSON.parse(await readFile(stateFile, 'utf8')) as { id: string }
  t.is(resaved.id, saved.id, 'the node id is kept too')
})

test('a table emptied by dead nodes does not overwrite the saved one', async (t) => {
  const dir = await tempDir(t)
  const stateFile = join(dir, 'dht.json')
  {
    const { boot } = await network(t, 0)
    const first = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [at(boot.node)], stateFile })
    await first.close()
    await boot.node.close() // the whole DHT is gone
  }
  const saved = await readFile(stateFile, 'utf8')
  t.true((JSON.parse(saved) as { nodes: unknown[] }).nodes.length > 0)

  const alone = await startNode(t, [], { stateFile })
  const deadline = Date.now() + 8000
  while (alone.node.nodeCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  t.is(alone.node.nodeCount(), 0, 'the dead node dropped out')
  await alone.node.close()
  t.is(await readFile(stateFile, 'utf8'), saved)
})

test('a malformed packet neither crashes a node nor stops it answering', async (t) => {
  const { nodes, started } = await network(t, 3)
  const victim = started[0]!
  const udp = createSocket('udp4')
  t.teardown(() => udp.close())
  const id = 'a'.repeat(20)
  const packets = [
    // Each of these throws inside bittorrent-dht 11's handler and ends an unguarded process.
    `d1:ad2:id20:${id}5:tokeni1e1:v1:xe1:q3:put1:t2:aa1:y1:qe`,
    `d1:ad2:id20:${id}6:targeti1ee1:q9:find_node1:t2:ab1:y1:qe`,
    `d1:ad2:id20:${id}9:info_hashi7ee1:q9:get_peers1:t2:ac1:y1:qe`,
    'not bencode at all',
  ]
  for (const p of packets) udp.send(Buffer.from(p), victim.node.port, '127.0.0.1')
  await new Promise((r) => setTimeout(r, 200))
  t.true(victim.warnings.filter((w) => /malformed DHT packet/.test(w.message)).length >= packets.length)

  const key = generateKeyPair()
  const s = salt()
  const ih = infoHash()
  await victim.node.putPointer({ seed: key.seed, salt: s, seq: 1, infoHash: ih })
  t.deepEqual(await nodes[2]!.getPointer({ publicKey: key.publicKey, salt: s }), { infoHash: ih, seq: 1 })
})

test('bad arguments are refused', async (t) => {
  const { node } = await startNode(t, [])
  const key: KeyPair = generateKeyPair()
  const ok = { seed: key.seed, salt: salt(), seq: 1, infoHash: infoHash() }
  await t.throwsAsync(node.putPointer({ ...ok, seed: randomBytes(31) }), { message: /seed must be 32 bytes/ })
  await t.throwsAsync(node.putPointer({ ...ok, salt: new Uint8Array(0) }), { message: /salt must be 1-64 bytes/ })
  await t.throwsAsync(node.putPointer({ ...ok, salt: randomBytes(65) }), { message: /salt must be 1-64 bytes/ })
  await t.throwsAsync(node.putPointer({ ...ok, infoHash: randomBytes(19) }), { message: /infoHash must be 20 bytes/ })
  await t.throwsAsync(node.putPointer({ ...ok, seq: -1 }), { message: /seq/ })
  await t.throwsAsync(node.putPointer({ ...ok, seq: 1.5 }), { message: /seq/ })
  await t.throwsAsync(node.getPointer({ publicKey: randomBytes(33), salt: salt() }), { message: /publicKey must be 32 bytes/ })
  await t.throwsAsync(node.lookup(randomBytes(21)), { message: /infoHash/ })
  await t.throwsAsync(DhtNode.start({ bootstrap: ['nowhere'] }), { message: /HOST:PORT/ })
  await t.throwsAsync(DhtNode.start({ host: '::1', bootstrap: [] }), { message: /IPv4/ })
  const warnings: Error[] = []
  const wildcard = await DhtNode.start({ host: '::', bootstrap: [], onWarning: (e) => warnings.push(e) })
  t.teardown(() => wildcard.close())
  t.is(wildcard.address().host, '0.0.0.0')
  t.regex(warnings[0]?.message ?? '', /IPv4 only/)
  await t.throwsAsync(DhtNode.start({ host: '127.0.0.1', port: node.port, bootstrap: [] }), { message: /EADDRINUSE/ })
})

test('manifestSalt: HMAC-SHA256 of the kind and name under the circle secret, 32 bytes', (t) => {
  const secret = randomBytes(32)
  const salt1 = manifestSalt(secret, 'playlist', 'Friday')
  t.is(salt1.length, 32)
  t.deepEqual(salt1, createHmac('sha256', secret).update('djcloud/dht-salt/v1:playlist:Friday').digest())
  t.deepEqual(manifestSalt(secret, 'playlist', 'Friday'), salt1)
  t.deepEqual(manifestSalt(secret, 'library'), createHmac('sha256', secret).update('djcloud/dht-salt/v1:library:').digest())
  const others = [
    manifestSalt(secret, 'playlist', 'Saturday'),
    manifestSalt(secret, 'library', 'Friday'),
    manifestSalt(secret, 'playlist'),
    manifestSalt(randomBytes(32), 'playlist', 'Friday'),
  ]
  for (const o of others) t.notDeepEqual(o, salt1)
  t.throws(() => manifestSalt(secret, 'play:list', 'x'), { message: /kind/ })
  t.throws(() => manifestSalt(randomBytes(8), 'library'), { message: /secret/ })
})

test('parseHostPort reads host:port, IPv4 and bracketed IPv6, and refuses the rest in one line', (t) => {
  t.deepEqual(parseHostPort('dht.example.org:7464'), { host: 'dht.example.org', port: 7464 })
  t.deepEqual(parseHostPort('10.0.0.2:1'), { host: '10.0.0.2', port: 1 })
  t.deepEqual(parseHostPort('localhost:65535'), { host: 'localhost', port: 65535 })
  t.deepEqual(parseHostPort('[::1]:7464'), { host: '::1', port: 7464 })
  t.deepEqual(parseHostPort('[fe80::1:2]:80'), { host: 'fe80::1:2', port: 80 })
  const bad = [
    '', 'host', 'host:', ':80', 'host:0', 'host:65536', 'host:123456', '::1:80', '[::1]', '[nothost]:80', '[1.2.3.4]:80',
    '999.1.1.1:80', '1.2.3:80', 'a b:80', '-bad.org:80', 'bad-.org:80', 'a..b:80', 'host:80\nother:81', 'host:+80', 'x'.repeat(300) + ':80',
  ]
  for (const text of bad) {
    const err = t.throws(() => parseHostPort(text), undefined, JSON.stringify(text))
    t.false(err?.message.includes('\n'), JSON.stringify(text))
  }
})

test('any small item: put, got with its signature, put again by another node after the publisher left; a forged signature is refused', async (t) => {
  const a = await startNode(t, [])
  const owner = generateKeyPair()
  const s = Buffer.from('djcloud/backup')
  const v = { v: 1, b: [{ q: 3, s: randomBytes(32), n: 1234 }] }
  await a.node.putItem({ seed: owner.seed, salt: s, seq: 3, v })
  const b = await startNode(t, [at(a.node)])
  const got = await b.node.getItem({ publicKey: owner.publicKey, salt: s })
  t.is(got?.seq, 3)
  t.is(got?.sig?.length, 64)
  t.deepEqual(encode(got!.v as never), encode(v))
  await a.node.close()
  // A node that joins later through b finds it only once b puts it again.
  const c = await startNode(t, [at(b.node)])
  await b.node.putSigned({ publicKey: owner.publicKey, salt: s, seq: got!.seq, v: got!.v as never, sig: got!.sig! })
  const again = await c.node.getItem({ publicKey: owner.publicKey, salt: s })
  t.is(again?.seq, 3)
  t.deepEqual(encode(again!.v as never), encode(v))
  const forged = Buffer.from(got!.sig!)
  forged[0]! ^= 1
  await t.throwsAsync(b.node.putSigned({ publicKey: owner.publicKey, salt: s, seq: 4, v: got!.v as never, sig: got!.sig! }), { message: /does not verify/ })
  await t.throwsAsync(b.node.putSigned({ publicKey: owner.publicKey, salt: s, seq: 3, v: got!.v as never, sig: forged }), { message: /does not verify/ })
  await t.throwsAsync(b.node.putItem({ seed: owner.seed, salt: s, seq: 5, v: { big: Buffer.alloc(1000) } }), { message: /1000 bytes/ })
})
