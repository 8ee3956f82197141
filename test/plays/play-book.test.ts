import test from 'ava'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, type KeyPair } from '../../src/identity/index.ts'
import { PlayBook, encodeEntry, parseEntry, signEntry, type DeviceTrust } from '../../src/plays/index.ts'
import { tempDir } from '../helpers/temp.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SHA = (n: number) => n.toString(16).padStart(64, '0')

function roster(own: KeyPair[], revoked: KeyPair[] = []): (d: string) => DeviceTrust {
  return (d) => (revoked.some((k) => hex(k.publicKey) === d) ? 'revoked' : own.some((k) => hex(k.publicKey) === d) ? 'own' : 'stranger')
}

async function open(dir: string, name: string, device: KeyPair, trust: (d: string) => DeviceTrust, now?: () => number) {
  return PlayBook.open({ path: join(dir, `${name}.log`), device, trust, ...(now ? { now } : {}) })
}

test('plays from two devices that were apart merge without double counting, both ways', async (t) => {
  const dir = await tempDir(t)
  const [a, b] = [generateKeyPair(), generateKeyPair()]
  const trust = roster([a, b])
  const la = await open(dir, 'a', a, trust)
  const lb = await open(dir, 'b', b, trust)
  await la.record({ sha256: SHA(1), at: 1000, source: 'web' })
  await la.record({ sha256: SHA(1), at: 2000, source: 'web' })
  await lb.record({ sha256: SHA(1), at: 3000, source: 'Symfonium' })
  await lb.record({ sha256: SHA(2), at: 4000, source: 'Symfonium' })
  // Each asks the other for what it lacks, twice over (a repeat adds nothing).
  for (let i = 0; i < 2; i++) {
    await la.merge(lb.since(la.have()).lines)
    await lb.merge(la.since(lb.have()).lines)
  }
  // And the whole log again, as a replay: duplicates only.
  const again = await la.merge(lb.all().map(encodeEntry))
  t.is(again.added, 0)
  t.is(again.refused.length, 0)
  for (const l of [la, lb]) {
    t.deepEqual(l.stats().get(SHA(1)), { count: 3, last: 3000 })
    t.deepEqual(l.stats().get(SHA(2)), { count: 1, last: 4000 })
  }
  // Reopened from disk: the same.
  const la2 = await open(dir, 'a', a, trust)
  t.deepEqual(la2.stats().get(SHA(1)), { count: 3, last: 3000 })
})

test('a tombstone removes a session from every device it reaches, plays recorded elsewhere included', async (t) => {
  const dir = await tempDir(t)
  const [a, b] = [generateKeyPair(), generateKeyPair()]
  const trust = roster([a, b])
  const la = await open(dir, 'a', a, trust)
  const lb = await open(dir, 'b', b, trust)
  await lb.record({ sha256: SHA(1), at: 10_000, source: 'web' }) // practice, on b
  await lb.record({ sha256: SHA(2), at: 50_000, source: 'web' }) // a real play, later
  await la.merge(lb.since(la.have()).lines)
  await la.remove(5_000, 20_000)
  t.is(la.stats().get(SHA(1)), undefined)
  await lb.merge(la.since(lb.have()).lines)
  t.is(lb.stats().get(SHA(1)), undefined)
  t.deepEqual(lb.stats().get(SHA(2)), { count: 1, last: 50_000 })
  t.deepEqual(lb.plays().map((p) => p.sha256), [SHA(2)])
})

test('forged, altered, strangers\' and revoked devices\' entries are refused; own ones are not', async (t) => {
  const dir = await tempDir(t)
  const [a, b, friend, lost] = [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()]
  const la = await open(dir, 'a', a, roster([a, b, lost], [lost]))
  const good = signEntry({ kind: 'play', device: hex(b.publicKey), seq: 1, sha256: SHA(1), at: 1, source: 'web' }, b.seed)
  const forged = { ...signEntry({ kind: 'play', device: hex(b.publicKey), seq: 2, sha256: SHA(2), at: 2, source: 'web' }, friend.seed) }
  const altered = { ...signEntry({ kind: 'play', device: hex(b.publicKey), seq: 3, sha256: SHA(3), at: 3, source: 'web' }, b.seed), at: 99 }
  const stranger = signEntry({ kind: 'play', device: hex(friend.publicKey), seq: 1, sha256: SHA(4), at: 4, source: 'web' }, friend.seed)
  const revoked = signEntry({ kind: 'play', device: hex(lost.publicKey), seq: 1, sha256: SHA(5), at: 5, source: 'web' }, lost.seed)
  const tomb = signEntry({ kind: 'rm', device: hex(friend.publicKey), seq: 2, from: 0, to: 10 }, friend.seed)
  const r = await la.merge([good, forged, altered, stranger, revoked, tomb].map(encodeEntry).concat(['{"kind":"play"', 'x'.repeat(5000)]))
  t.is(r.added, 1)
  t.deepEqual(r.refused.map((x) => x.reason), ['forged', 'forged', 'stranger', 'revoked', 'stranger', 'malformed', 'malformed'])
  // A replay of a held id with other fields (the same seq reused) is refused; the first stays.
  const reused = signEntry({ kind: 'play', device: hex(b.publicKey), seq: 1, sha256: SHA(6), at: 6, source: 'web' }, b.seed)
  const r2 = await la.merge([encodeEntry(reused), encodeEntry(good)])
  t.deepEqual(r2.refused.map((x) => x.reason), ['conflict'])
  t.is(r2.duplicate, 1)
  t.deepEqual([...la.stats().keys()], [SHA(1)])
  t.deepEqual((await open(dir, 'a', a, roster([a, b]))).all().map((e) => e.seq), [1])
})

test('a torn last entry (kill -9 mid-append) is cut; every entry before it stays, and the next append is whole', async (t) => {
  const dir = await tempDir(t)
  const a = generateKeyPair()
  const trust = roster([a])
  const l = await open(dir, 'a', a, trust)
  for (let i = 1; i <= 5; i++) await l.record({ sha256: SHA(i), at: i, source: 'web' })
  const path = join(dir, 'a.log')
  const whole = await readFile(path)
  const next = encodeEntry(signEntry({ kind: 'play', device: hex(a.publicKey), seq: 1e15, sha256: SHA(9), at: 9, source: 'web' }, a.seed))
  await appendFile(path, next.slice(0, 40)) // the write cut short
  const l2 = await open(dir, 'a', a, trust)
  t.is(l2.plays().length, 5)
  t.deepEqual(await readFile(path), whole)
  await l2.record({ sha256: SHA(7), at: 7, source: 'web' })
  const l3 = await open(dir, 'a', a, trust)
  t.deepEqual(l3.plays().map((p) => p.sha256), [1, 2, 3, 4, 5, 7].map(SHA))
})

test('a line damaged in the middle of the log is skipped, the entries after it kept', async (t) => {
  const dir = await tempDir(t)
  const a = generateKeyPair()
  const l = await open(dir, 'a', a, roster([a]))
  for (let i = 1; i <= 3; i++) await l.record({ sha256: SHA(i), at: i, source: 'web' })
  const path = join(dir, 'a.log')
  const lines = (await readFile(path, 'utf8')).split('\n')
  lines[1] = lines[1]!.slice(0, 10)
  await writeFile(path, lines.join('\n'))
  const warnings: Error[] = []
  const l2 = await PlayBook.open({ path, device: a, trust: roster([a]), onWarning: (e) => warnings.push(e) })
  t.deepEqual(l2.plays().map((p) => p.sha256), [SHA(1), SHA(3)])
  t.is(warnings.length, 1)
})

test('seqs never go back: a log restored from an older copy does not reuse one', async (t) => {
  const dir = await tempDir(t)
  const a = generateKeyPair()
  let clock = 1_000_000
  const l = await open(dir, 'a', a, roster([a]), () => clock)
  const e1 = await l.record({ sha256: SHA(1), at: 1, source: 'web' })
  await writeFile(join(dir, 'a.log'), '') // restored to before that play
  clock += 5
  const l2 = await open(dir, 'a', a, roster([a]), () => clock)
  const e2 = await l2.record({ sha256: SHA(2), at: 2, source: 'web' })
  t.true(e2.seq > e1.seq)
})

test('since pages by bytes, each page a prefix of every device\'s sequence', async (t) => {
  const dir = await tempDir(t)
  const [a, b] = [generateKeyPair(), generateKeyPair()]
  const la = await open(dir, 'a', a, roster([a, b]))
  const lb = await open(dir, 'b', b, roster([a, b]))
  for (let i = 0; i < 40; i++) await la.record({ sha256: SHA(i), at: i, source: 'web' })
  let pages = 0
  for (;;) {
    const page = la.since(lb.have(), 2000)
    pages++
    await lb.merge(page.lines)
    if (!page.more) break
  }
  t.true(pages > 3)
  t.is(lb.plays().length, 40)
  t.true(parseEntry(encodeEntry(lb.all()[0]!)).seq > 0)
})
