// The admission tracker over HTTPS: real tracker, real signed announces, all on 127.0.0.1.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { revokeDevice, addDevice, issueCertificate, encodeCertificate, removeFriend } from '../../src/identity/index.ts'
import { signedAnnounceParams } from '../../src/swarm/index.ts'
import { createAdmissionTracker, REFUSAL_REASONS, TrackerError } from '../../tracker/index.ts'
import {
  announce, deviceOf, httpGet, makeCircle, newInfoHash, newPeerId, rawAnnounce, refused, startTracker, TOKEN,
} from './fixtures.ts'

test('own devices are admitted and find each other, as compact and as dict peers', async (t) => {
  const { roster, laptop, pc } = makeCircle()
  const { tracker, url } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const a = await announce(url, { infoHash, peerId: newPeerId(), port: 6881, event: 'started', signer: laptop.signer })
  t.deepEqual(a.peers, [{ host: '127.0.0.1', port: 6881 }])
  t.true(a.interval > 0)
  const b = await announce(url, { infoHash, peerId: newPeerId(), port: 6882, event: 'started', signer: pc.signer, left: 1000 })
  t.deepEqual(
    [...b.peers].sort((x, y) => x.port - y.port),
    [{ host: '127.0.0.1', port: 6881 }, { host: '127.0.0.1', port: 6882 }],
  )
  t.like(b, { complete: 1, incomplete: 1 })
  // The same, as a dict peer list (compact=0).
  const again = await announce(url, { infoHash, peerId: newPeerId(), port: 6881, signer: laptop.signer, compact: false })
  t.true(again.peers.some((p) => p.host === '127.0.0.1' && p.port === 6882))
  t.like(tracker.stats(), { swarms: 1, peers: 2, admitted: 3 })

  await announce(url, { infoHash, peerId: newPeerId(), port: 6881, event: 'stopped', signer: laptop.signer })
  t.like(tracker.stats(), { swarms: 1, peers: 1, admitted: 4 })
  t.deepEqual(Object.values(tracker.stats().refusals), REFUSAL_REASONS.map(() => 0))
})

test("a friend's device is admitted; a stranger's is refused and gets no peers", async (t) => {
  const { roster, laptop, friend, stranger } = makeCircle()
  const { tracker, url } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  await announce(url, { infoHash, peerId: newPeerId(), port: 7001, event: 'started', signer: laptop.signer })
  const f = await announce(url, { infoHash, peerId: newPeerId(), port: 7002, event: 'started', signer: friend.signer })
  t.is(f.peers.length, 2)
  await refused(t, announce(url, { infoHash, peerId: newPeerId(), port: 7003, event: 'started', signer: stranger.signer }), 'unknown owner')
  // The refusal is the failure reason alone: no peers, no counts.
  const peerId = newPeerId()
  const raw = await rawAnnounce(url, { infoHash, peerId, port: 7003 }, signedAnnounceParams({ ...stranger.signer, infoHash, peerId, port: 7003 }))
  t.deepEqual(Object.keys(raw), ['failure reason'])
  t.like(tracker.stats(), { peers: 2, admitted: 2, refusals: { 'unknown owner': 2 } })
})

test('every refusal gets its failure reason, no peers, and is counted by reason', async (t) => {
  const { roster, owner, laptop, pc, stranger } = makeCircle()
  const phone = deviceOf(owner, 'phone')
  const { tracker, url } = await startTracker(t, { roster: addDevice(roster, phone.cert) })
  const infoHash = newInfoHash()
  const port = 6881
  const sign = (o: Partial<Parameters<typeof signedAnnounceParams>[0]> = {}) =>
    signedAnnounceParams({ ...laptop.signer, infoHash, peerId, port, ...o })
  const peerId = newPeerId()
  const base0 = { infoHash, peerId, port }
  const expected: Record<string, number> = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0]))
  const expect = async (p: Promise<unknown>, reason: string, what: string) => {
    await refused(t, p, reason, what)
    expected[reason]!++
  }

  // unknown owner
  await expect(announce(url, { ...base0, signer: stranger.signer }), 'unknown owner', 'a stranger')

  // revoked device: admitted, then the roster changes at run time
  await announce(url, { ...base0, peerId: newPeerId(), port: 6990, signer: phone.signer })
  tracker.setRoster(revokeDevice(tracker.roster, phone.cert.device))
  await expect(announce(url, { ...base0, signer: phone.signer }), 'revoked device', 'a revoked phone')

  // stale timestamps, either way
  await expect(announce(url, { ...base0, ...sign({ ts: Date.now() - 61_000 }) }), 'stale timestamp', 'a minute old')
  await expect(announce(url, { ...base0, ...sign({ ts: Date.now() + 61_000 }) }), 'stale timestamp', 'from the future')

  // replayed nonce: the same proof twice
  const once = sign()
  await announce(url, { ...base0, ...once })
  await expect(announce(url, { ...base0, ...once }), 'replayed nonce', 'the same announce again')
  // a fresh timestamp does not make a seen nonce new
  const nonce = randomBytes(16)
  await announce(url, { ...base0, ...sign({ nonce }) })
  await expect(announce(url, { ...base0, ...sign({ nonce, ts: Date.now() + 1 }) }), 'replayed nonce', 'a reused nonce')

  // tampering with any signed field
  await expect(announce(url, { ...base0, port: 6999, ...sign() }), 'bad signature', 'a tampered port')
  await expect(announce(url, { ...base0, event: 'completed', ...sign() }), 'bad signature', 'a tampered event')
  await expect(announce(url, { ...base0, event: 'stopped', ...sign({ event: 'started' }) }), 'bad signature', 'started signed, stopped sent')
  await expect(announce(url, { ...base0, infoHash: newInfoHash(), ...sign() }), 'bad signature', 'another infohash')
  await expect(announce(url, { ...base0, peerId: newPeerId(), ...sign() }), 'bad signature', 'another peer id')
  // our own certificate, signed by another own device's key
  const stolen = { ...sign(), dj_sig: signedAnnounceParams({ ...pc.signer, infoHash, peerId, port }).dj_sig }
  await expect(announce(url, { ...base0, ...stolen }), 'bad signature', "the laptop's certificate with the pc's signature")

  // missing proof: none, or part of one
  await expect(announce(url, base0), 'missing proof', 'no proof')
  const { dj_cert, dj_ts } = sign()
  const partial = await rawAnnounce(url, base0, undefined, `dj_cert=${dj_cert}&dj_ts=${dj_ts}`)
  t.deepEqual(partial, { 'failure reason': Buffer.from('missing proof') })
  expected['missing proof']!++

  // certificates that do not verify
  const garbage = randomBytes(100).toString('base64url')
  await expect(announce(url, { ...base0, ...sign(), dj_cert: garbage }), 'bad certificate', 'a garbage certificate')
  const forged = issueCertificate(stranger.key.seed, { owner: owner.publicKey, device: stranger.key.publicKey, name: 'forged', role: 'admin', created: 1 })
  // issueCertificate signs with the stranger's key although the owner field says ours
  const forgedSigner = { seed: stranger.key.seed, certificate: encodeCertificate(forged) }
  await expect(announce(url, { ...base0, signer: forgedSigner }), 'bad certificate', 'a certificate claiming our owner')
  await expect(announce(url, { ...base0, ...sign(), dj_cert: randomBytes(600).toString('base64url') }), 'bad certificate', 'an oversized certificate')

  // malformed proofs
  const malformed: Array<[string, Record<string, string>]> = [
    ['a signature that is not base64url', { dj_sig: '!!!not-base64!!!' }],
    ['a padded signature', { dj_sig: randomBytes(64).toString('base64') }],
    ['a 63-byte signature', { dj_sig: randomBytes(63).toString('base64url') }],
    ['a 65-byte signature', { dj_sig: randomBytes(65).toString('base64url') }],
    ['a 15-byte nonce', { dj_nonce: randomBytes(15).toString('hex') }],
    ['a nonce that is not hex', { dj_nonce: 'z'.repeat(32) }],
    ['a timestamp that is not a number', { dj_ts: 'yesterday' }],
    ['a negative timestamp', { dj_ts: '-5' }],
    ['a certificate that is not base64url', { dj_cert: 'a+b/c' }],
    ['an empty certificate', { dj_cert: '' }],
  ]
  for (const [what, change] of malformed) {
    await expect(announce(url, { ...base0, ...sign(), ...change }), 'malformed announce', what)
  }
  // repeated parameters and bad standard fields, sent raw
  const proof = sign()
  const rawCases: Array<[string, Parameters<typeof rawAnnounce>]> = [
    ['a repeated signature', [url, base0, proof, `dj_sig=${proof.dj_sig}`]],
    ['an unknown event', [url, { ...base0 }, sign({}), 'event=bogus']],
    ['a 19-byte info_hash', [url, base0, proof, 'info_hash=%01']],
  ]
  for (const [what, args] of rawCases) {
    t.deepEqual(await rawAnnounce(...args), { 'failure reason': Buffer.from('malformed announce') }, what)
    expected['malformed announce']!++
  }
  const fractional = await httpGet(`${url}?info_hash=${'%01'.repeat(20)}&peer_id=${'%02'.repeat(20)}&port=6881.5`)
  t.regex(fractional.body.toString(), /malformed announce/)
  expected['malformed announce']!++

  const stats = tracker.stats()
  t.deepEqual(stats.refusals, expected)
  // Only admitted announces made peers: the phone's (dropped when it was revoked) and the laptop's.
  t.like(stats, { swarms: 1, peers: 1, admitted: 3 })
})

test('fields bittorrent-tracker would crash on are refused even from an own device', async (t) => {
  // Unfiltered bittorrent-tracker 11 stores an HTTP `socket` parameter as a
  // WebSocket and throws on the peer's next `stopped`, killing the process.
  const { roster, laptop } = makeCircle()
  const { tracker, url } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const peerId = newPeerId()
  for (const event of ['started', 'stopped'] as const) {
    const o = { infoHash, peerId, port: 6881, event }
    const res = await rawAnnounce(url, o, signedAnnounceParams({ ...laptop.signer, ...o }), 'socket=x')
    t.deepEqual(res, { 'failure reason': Buffer.from('malformed announce') })
  }
  const ok = await announce(url, { infoHash, peerId, port: 6881, signer: laptop.signer })
  t.is(ok.peers.length, 1)
  t.like(tracker.stats(), { admitted: 1, refusals: { 'malformed announce': 2 } })
})

test('the timestamp window is 60 s either way on the tracker clock', async (t) => {
  const { roster, laptop } = makeCircle()
  const now = 1_800_000_000_000
  const { url } = await startTracker(t, { roster, clock: () => now })
  const o = { infoHash: newInfoHash(), peerId: newPeerId(), port: 6881 }
  for (const ts of [now - 60_000, now + 60_000]) {
    await t.notThrowsAsync(announce(url, { ...o, ...signedAnnounceParams({ ...laptop.signer, ...o, ts }) }), `ts ${ts - now}`)
  }
  for (const ts of [now - 60_001, now + 60_001]) {
    await refused(t, announce(url, { ...o, ...signedAnnounceParams({ ...laptop.signer, ...o, ts }) }), 'stale timestamp')
  }
})

test('a new roster drops the peers of a revoked device and of a removed friend at once', async (t) => {
  const { roster, owner, laptop, friend, friendOwner } = makeCircle()
  const phone = deviceOf(owner, 'phone')
  const { tracker, url } = await startTracker(t, { roster: addDevice(roster, phone.cert) })
  const infoHash = newInfoHash()
  const join = (signer: typeof laptop.signer, port: number) =>
    announce(url, { infoHash, peerId: newPeerId(), port, event: 'started', signer })
  await join(laptop.signer, 7001)
  await join(phone.signer, 7002)
  const all = await join(friend.signer, 7003)
  t.deepEqual(all.peers.map((p) => p.port).sort(), [7001, 7002, 7003])

  tracker.setRoster(revokeDevice(tracker.roster, phone.cert.device))
  const afterRevoke = await announce(url, { infoHash, peerId: newPeerId(), port: 7001, signer: laptop.signer })
  t.deepEqual(afterRevoke.peers.map((p) => p.port).sort(), [7001, 7003])

  tracker.setRoster(removeFriend(tracker.roster, friendOwner.publicKey))
  const afterUnfriend = await announce(url, { infoHash, peerId: newPeerId(), port: 7001, signer: laptop.signer })
  t.deepEqual(afterUnfriend.peers.map((p) => p.port), [7001])
  await refused(t, join(friend.signer, 7003), 'unknown owner')
  t.like(tracker.stats(), { peers: 1 })
})

test('a roster is replaced only by a newer one of the same owner', async (t) => {
  const { roster, owner, laptop } = makeCircle()
  const phone = deviceOf(owner, 'phone')
  const { tracker } = await startTracker(t, { roster })
  const newer = addDevice(roster, phone.cert)
  tracker.setRoster(newer)
  t.is(tracker.roster.seq, newer.seq)
  t.is(t.throws(() => tracker.setRoster(roster), { instanceOf: TrackerError })?.code, 'ERR_TRACKER_ROSTER')
  const other = makeCircle().roster
  t.is(t.throws(() => tracker.setRoster({ ...other, seq: 99 }), { instanceOf: TrackerError })?.code, 'ERR_TRACKER_ROSTER')
  t.is(laptop.cert.name, 'laptop')
})

test('/stats.json shows counts to anyone and infohashes only with the operator token', async (t) => {
  const { roster, laptop, stranger } = makeCircle()
  const { tracker, url, base } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const hex = infoHash.toString('hex')
  await announce(url, { infoHash, peerId: newPeerId(), port: 6881, event: 'started', signer: laptop.signer })
  await refused(t, announce(url, { infoHash: newInfoHash(), peerId: newPeerId(), port: 6881, signer: stranger.signer }), 'unknown owner')

  const open = await httpGet(`${base}/stats.json`)
  t.is(open.status, 200)
  const counts = JSON.parse(open.body.toString())
  t.deepEqual(Object.keys(counts).sort(), ['admitted', 'peers', 'refusals', 'swarms'])
  t.like(counts, { swarms: 1, peers: 1, admitted: 1, refusals: { 'unknown owner': 1 } })
  t.false(open.body.toString().includes(hex))

  const wrong = await httpGet(`${base}/stats.json`, { authorization: 'Bearer not-the-token-at-all' })
  t.is(wrong.status, 401)
  t.false(wrong.body.toString().includes(hex))

  const operator = await httpGet(`${base}/stats.json`, { authorization: `Bearer ${TOKEN}` })
  t.is(operator.status, 200)
  t.deepEqual(JSON.parse(operator.body.toString()).infoHashes, [hex])
  t.deepEqual(tracker.stats({ infoHashes: true }).infoHashes, [hex])

  // bittorrent-tracker's own pages and scrape (which lists every swarm) are not served
  t.is((await httpGet(`${base}/stats`)).status, 404)
  const binary = infoHash.toString('latin1')
  for (const path of ['/scrape', `/scrape?info_hash=${[...infoHash].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`]) {
    const scrape = await httpGet(`${base}${path}`)
    t.regex(scrape.body.toString(), /failure reason.*scrape is not served/)
    t.false(scrape.body.toString('latin1').includes(binary))
  }
  t.is((await httpGet(`${base}/`)).status, 404)
})

test('close is idempotent and stops serving; a taken port is a typed error', async (t) => {
  const { roster, laptop } = makeCircle()
  const { tracker, url, port } = await startTracker(t, { roster })
  const second = createAdmissionTracker({ roster, token: TOKEN, deviceSeed: laptop.key.seed })
  const taken = await t.throwsAsync(second.listen(port, '127.0.0.1'), { instanceOf: TrackerError })
  t.is(taken?.code, 'ERR_TRACKER_LISTEN')
  await second.close()

  await Promise.all([tracker.close(), tracker.close()])
  await tracker.close()
  const err = await t.throwsAsync(announce(url, { infoHash: newInfoHash(), peerId: newPeerId(), port: 6881, signer: laptop.signer, timeoutMs: 2000 }))
  t.is((err as { code?: string }).code, 'ERR_TRACKER_UNREACHABLE')
  await t.throwsAsync(tracker.listen(0), { instanceOf: TrackerError })
})

test("a friend's device its owner revoked is refused and its peers leave at once", async (t) => {
  const { roster, laptop, friend } = makeCircle()
  const { tracker, url } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  await announce(url, { infoHash, peerId: newPeerId(), port: 7001, event: 'started', signer: laptop.signer })
  const f = await announce(url, { infoHash, peerId: newPeerId(), port: 7002, event: 'started', signer: friend.signer })
  t.is(f.peers.length, 2)
  // The friend's owner revoked that device (its roster, followed by the node, says so).
  const revokedDevice = Buffer.from(friend.cert.device)
  tracker.setFriendRevoked((owner, device) => Buffer.from(owner).equals(friend.cert.owner) && revokedDevice.equals(device))
  const after = await announce(url, { infoHash, peerId: newPeerId(), port: 7001, signer: laptop.signer })
  t.deepEqual(after.peers.map((p) => p.port), [7001])
  await refused(t, announce(url, { infoHash, peerId: newPeerId(), port: 7002, event: 'started', signer: friend.signer }), 'revoked device')
})
