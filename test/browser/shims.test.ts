// The browser build's node:crypto shim (src/browser/shims/node-crypto.ts, on
// @noble/hashes) gives what node:crypto gives for the calls the portable
// modules make.
import test from 'ava'
import * as node from 'node:crypto'
import { createHash, createHmac, hashBackend, loadFastHashes, randomBytes } from '../../src/browser/shims/node-crypto.ts'

test('createHash sha1 and sha256, over bytes, text and several updates, as bytes or hex', (t) => {
  for (const alg of ['sha1', 'sha256']) {
    for (const size of [0, 1, 63, 64, 65, 100_000]) {
      const data = node.randomBytes(size)
      t.deepEqual(createHash(alg).update(data).digest(), node.createHash(alg).update(data).digest())
      t.is(createHash(alg).update(data.subarray(0, size >> 1)).update(data.subarray(size >> 1)).digest('hex'), node.createHash(alg).update(data).digest('hex'))
    }
    t.deepEqual(createHash(alg).update('djcloud/device-channel/v1 é').digest(), node.createHash(alg).update('djcloud/device-channel/v1 é').digest())
  }
})

test('once loaded, createHash runs on WebAssembly: digests interleave, copy() goes on apart, update() copies', async (t) => {
  t.true(await loadFastHashes())
  t.is(hashBackend('sha1'), 'wasm')
  t.is(hashBackend('sha256'), 'wasm')
  const a = node.randomBytes(300_000)
  const b = node.randomBytes(70_000)
  // Two digests of each algorithm in progress at once on the one instance per algorithm.
  const [s1, s2, h1, h2] = [createHash('sha256'), createHash('sha256'), createHash('sha1'), createHash('sha1')]
  s1.update(a.subarray(0, 1000))
  h1.update(b)
  s2.update(b)
  const fork = s1.copy()
  s1.update(a.subarray(1000))
  h2.update(a)
  fork.update(b)
  t.deepEqual(s1.digest(), node.createHash('sha256').update(a).digest())
  t.deepEqual(s2.digest(), node.createHash('sha256').update(b).digest())
  t.deepEqual(fork.digest(), node.createHash('sha256').update(a.subarray(0, 1000)).update(b).digest())
  t.is(h1.digest('hex'), node.createHash('sha1').update(b).digest('hex'))
  t.deepEqual(h2.digest(), node.createHash('sha1').update(a).digest())
  // The bytes are taken at update(), as Node takes them.
  const buf = Buffer.from('piece bytes')
  const h = createHash('sha1').update(buf)
  buf.fill(0)
  t.deepEqual(h.digest(), node.createHash('sha1').update('piece bytes').digest())
})

test('createHmac sha256 with a byte key or a text key', (t) => {
  const key = node.randomBytes(32)
  t.deepEqual(createHmac('sha256', key).update('djcloud/device-channel/v1').digest(), node.createHmac('sha256', key).update('djcloud/device-channel/v1').digest())
  t.deepEqual(createHmac('sha256', 'secret').update(key).digest(), node.createHmac('sha256', 'secret').update(key).digest())
})

test('an algorithm the shim lacks, or a second digest, is a clear error', (t) => {
  t.throws(() => createHash('md5'), { message: /no md5/ })
  const h = createHash('sha1')
  h.digest()
  t.throws(() => h.digest(), { message: /already/ })
})

test('randomBytes: the size asked, past getRandomValues\' 64 KiB a call, and not zeros', (t) => {
  const b = randomBytes(200_000)
  t.true(Buffer.isBuffer(b))
  t.is(b.length, 200_000)
  t.true(b.subarray(150_000).some((x) => x !== 0))
  t.notDeepEqual(randomBytes(16), randomBytes(16))
})
