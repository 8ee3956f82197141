// The network part's pure pieces: the DHT pointer value (fits BEP 44, names
// the newest versions, refuses malformed values) and the folders of versions
// (keep the last few, fit a quota by dropping the oldest, never serve a file
// damaged on disk).
import test from 'ava'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encode } from '../../src/codec/index.ts'
import { decodePointer, encodePointer, KEEP_VERSIONS, VersionDir, type BackupVersion } from '../../src/backup/index.ts'
import { tempDir } from '../helpers/temp.ts'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

test('the pointer names the newest versions, newest first, well inside BEP 44\'s 1000 bytes', (t) => {
  const versions: BackupVersion[] = [1, 5, 3, 4, 2].map((seq) => ({ seq, sha256: sha(String(seq)), size: 2 ** 40 + seq }))
  const v = encodePointer(versions)
  t.true(encode(v).length < 400)
  t.deepEqual(decodePointer(v)!.map((x) => x.seq), [5, 4, 3])
  t.is(decodePointer(v)!.length, KEEP_VERSIONS)
  t.deepEqual(decodePointer(v)![0], versions[1])
})

test('a malformed pointer value is refused', (t) => {
  const good = encodePointer([{ seq: 1, sha256: sha('a'), size: 10 }])
  for (const bad of [null, 7, Buffer.from('x'), [], { v: 2, b: good.b }, { v: 1, b: [] }, { v: 1, b: [{ q: 0, s: good.b[0]!.s, n: 1 }] },
    { v: 1, b: [{ q: 1, s: Buffer.alloc(31), n: 1 }] }, { v: 1, b: [{ q: 1, s: good.b[0]!.s, n: 0 }] }, { v: 1, b: [{ q: 1.5, s: good.b[0]!.s, n: 1 }] }]) {
    t.is(decodePointer(bad), null, JSON.stringify(bad))
  }
})

test('a version folder keeps the last few and fits the quota by dropping the oldest', async (t) => {
  const dir = new VersionDir(join(await tempDir(t), 'held'))
  for (let seq = 1; seq <= 4; seq++) await dir.add(seq, Buffer.alloc(1000, seq))
  t.deepEqual((await dir.prune(KEEP_VERSIONS)).map((v) => v.seq), [1])
  t.deepEqual((await dir.list()).map((v) => v.seq), [2, 3, 4])
  t.deepEqual((await dir.prune(KEEP_VERSIONS, 2500)).map((v) => v.seq), [2])
  t.deepEqual((await dir.list()).map((v) => v.seq), [3, 4])
  t.deepEqual((await dir.prune(KEEP_VERSIONS, 999)).map((v) => v.seq), [3, 4]) // even the newest, when alone it does not fit
  t.deepEqual(await dir.list(), [])
})

test('a file damaged on disk is not served', async (t) => {
  const dir = new VersionDir(join(await tempDir(t), 'held'))
  const v = await dir.add(7, Buffer.from('a backup'))
  t.deepEqual(await dir.read(v.sha256), Buffer.from('a backup'))
  await writeFile(join(dir.dir, `7-${v.sha256}.djbackup`), 'a backuq')
  t.is(await dir.read(v.sha256), undefined)
  t.is(await dir.read(sha('other')), undefined)
})

test('a fetched copy is checked against the pointer: its SHA-256, the owner signature, the seq', async (t) => {
  const { checkCopy } = await import('../../src/node/index.ts')
  const { sealBackup } = await import('../../src/backup/index.ts')
  const { generateKeyPair } = await import('../../src/identity/index.ts')
  const owner = generateKeyPair()
  const bytes = sealBackup(Buffer.from('compressed content'), { owner, backupKey: Buffer.alloc(32, 7), seq: 5, created: Date.now() })
  const named = (b: Uint8Array, seq = 5) => ({ seq, sha256: createHash('sha256').update(b).digest('hex'), size: b.length })
  t.is(checkCopy(bytes, owner.publicKey, named(bytes)), null)
  const flipped = Buffer.from(bytes)
  flipped[100]! ^= 1
  t.regex(checkCopy(flipped, owner.publicKey, named(bytes))!, /do not hash/)
  t.regex(checkCopy(flipped, owner.publicKey, named(flipped))!, /^ERR_BAD_SIGNATURE/) // a pointer naming a forged file (it cannot be: the pointer is signed too)
  t.regex(checkCopy(bytes, generateKeyPair().publicKey, named(bytes))!, /^ERR_OTHER_OWNER/)
  t.regex(checkCopy(bytes, owner.publicKey, named(bytes, 4))!, /seq 5, not 4/)
})
