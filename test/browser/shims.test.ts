// The browser build's node:crypto shim (src/browser/shims/node-crypto.ts, on
// @noble/hashes) gives what node:crypto gives for the calls the portable
// modules make.
import test from 'ava'
import * as node from 'node:crypto'
import { createHash, createHmac, randomBytes } from '../../src/browser/shims/node-crypto.ts'

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
