import test from 'ava'
import { encode, type BDict, type BInput } from '../../src/codec/index.ts'
import {
  addFriend, encodeCertificate, generateKeyPair, issueCertificate, revokeDevice, signRoster,
} from '../../src/identity/index.ts'
import { decode } from '../../src/codec/index.ts'
import {
  decodeManifest, encodeManifest, ManifestError, MANIFEST_LIMITS, type ManifestErrorCode, type ManifestKind,
} from '../../src/manifest/index.ts'
import { makeDevice } from '../helpers/circle.ts'
import { circle, encodeUnsorted, NOW, signRaw, unsignedOf } from './helpers.ts'

function refused(t: import('ava').ExecutionContext, fn: () => unknown, code: ManifestErrorCode, message?: RegExp) {
  const err = t.throws(fn, { instanceOf: ManifestError })
  t.is(err?.code, code, err?.message)
  t.false(/\n/.test(err?.message ?? ''), 'one-line message')
  if (message) t.regex(err?.message ?? '', message)
}

const libraryBody = { tracks: [{ sha256: new Uint8Array(32), title: 'Intro', bpm: 124, cues: [1000, 64000] }] }

test('every kind round-trips through encode and verified decode', (t) => {
  const c = circle()
  const device = c.devices[1]!
  for (const kind of ['library', 'playlist', 'backup'] as ManifestKind[]) {
    const name = kind === 'playlist' ? 'warm-up set' : undefined
    const bytes = encodeManifest({ kind, name, seq: 7, created: NOW, body: libraryBody }, device.credentials)
    const m = decodeManifest(bytes, { roster: c.roster, expectedKind: kind, now: NOW })
    t.is(m.kind, kind)
    t.is(m.seq, 7)
    t.is(m.created, NOW)
    t.is(m.name, name)
    t.deepEqual(Buffer.from(m.signer), Buffer.from(device.key.publicKey))
    t.is(m.certificate?.name, 'phone')
    t.deepEqual(encode(m.body as BInput), encode(libraryBody))
    // The bytes are canonical: re-encoding the envelope gives them back.
    t.deepEqual(Buffer.from(encode(decode(bytes, { maxBytes: 1 << 24 }) as BInput)), Buffer.from(bytes))
  }
  const rosterBytes = encodeManifest({ kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }, c.ownerSigner)
  const m = decodeManifest(rosterBytes, { roster: c.roster, now: NOW })
  t.is(m.kind, 'roster')
  t.is(m.certificate, undefined)
  t.is((decode(rosterBytes) as BDict).cert, undefined)
  t.deepEqual(Buffer.from(m.signer), Buffer.from(c.owner.publicKey))
  t.is(m.roster?.devices.length, 3)
})

test('a newer roster from the same owner verifies against the current one', (t) => {
  const c = circle()
  const next = addFriend(c.roster, generateKeyPair().publicKey, 'Ana')
  const body = decode(signRoster(next, c.owner.seed)) as BInput
  const bytes = encodeManifest({ kind: 'roster', seq: next.seq, created: NOW, body }, c.ownerSigner)
  const m = decodeManifest(bytes, { roster: c.roster, expectedKind: 'roster', known: () => c.roster.seq, now: NOW })
  t.is(m.roster?.friends[0]?.name, 'Ana')
})

test('encodeManifest refuses the wrong signer for the kind and a mismatched seed', (t) => {
  const c = circle()
  const d = c.devices[0]!
  refused(t, () => encodeManifest({ kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }, d.credentials), 'ERR_UNTRUSTED_SIGNER')
  refused(t, () => encodeManifest({ kind: 'library', seq: 1, created: NOW, body: {} }, c.ownerSigner), 'ERR_UNTRUSTED_SIGNER')
  refused(t, () => encodeManifest({ kind: 'library', seq: 1, created: NOW, body: {} }, { ...d.credentials, deviceSeed: generateKeyPair().seed }), 'ERR_UNTRUSTED_SIGNER')
  refused(t, () => encodeManifest({ kind: 'library', seq: 0, created: NOW, body: {} }, d.credentials), 'ERR_MALFORMED')
  refused(t, () => encodeManifest({ kind: 'roster', seq: 5, created: NOW, body: c.rosterBody as BInput }, c.ownerSigner), 'ERR_MALFORMED', /differs/)
})

test('a forged or tampered signature is refused', (t) => {
  const c = circle()
  const d = c.devices[0]!
  const bytes = encodeManifest({ kind: 'library', seq: 3, created: NOW, body: libraryBody }, d.credentials)
  const unsigned = unsignedOf(bytes)
  // Another key's signature over the same envelope.
  refused(t, () => decodeManifest(signRaw(unsigned as never, generateKeyPair().seed), { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE')
  // A changed field under the original signature.
  const sig = (decode(bytes) as BDict).sig as Uint8Array
  const bumped = encode({ ...unsigned, seq: 4, sig } as never)
  refused(t, () => decodeManifest(bumped, { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE')
  // Another device's certificate with this device's signature.
  const swapped = encode({ ...unsigned, cert: c.devices[1]!.credentials.certificate, sig } as never)
  refused(t, () => decodeManifest(swapped, { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE')
  // A roster envelope signed by someone other than the owner.
  const r = encodeManifest({ kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }, c.ownerSigner)
  refused(t, () => decodeManifest(signRaw(unsignedOf(r) as never, generateKeyPair().seed), { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE')
})

test('a certificate not signed by the owner, or of a friend, is an untrusted signer', (t) => {
  const c = circle()
  // Claims our owner but is signed by a stranger key.
  const stranger = generateKeyPair()
  const key = generateKeyPair()
  const fake = issueCertificate(stranger.seed, { owner: c.owner.publicKey, device: key.publicKey, name: 'fake', role: 'admin', created: NOW })
  const bytes = encodeManifest(
    { kind: 'library', seq: 1, created: NOW, body: {} },
    // encodeManifest checks the certificate itself, so sign the raw envelope.
    c.devices[0]!.credentials,
  )
  const forged = signRaw({ ...unsignedOf(bytes), cert: encodeCertificate(fake) } as never, key.seed)
  refused(t, () => decodeManifest(forged, { roster: c.roster, now: NOW }), 'ERR_UNTRUSTED_SIGNER', /does not verify/)
  // A properly signed certificate of another owner.
  const other = makeDevice(generateKeyPair(), 'elsewhere')
  const theirs = encodeManifest({ kind: 'library', seq: 1, created: NOW, body: {} }, other.credentials)
  refused(t, () => decodeManifest(theirs, { roster: c.roster, now: NOW }), 'ERR_UNTRUSTED_SIGNER', /not a device of this owner/)
  // A friend's device: trusted for the swarm, not for our library or playlists.
  const friendOwner = generateKeyPair()
  const friendDevice = makeDevice(friendOwner, 'friend')
  const withFriend = addFriend(c.roster, friendOwner.publicKey, 'Ana')
  for (const kind of ['library', 'playlist', 'backup'] as ManifestKind[]) {
    const fm = encodeManifest({ kind, seq: 1, created: NOW, body: {} }, friendDevice.credentials)
    refused(t, () => decodeManifest(fm, { roster: withFriend, now: NOW }), 'ERR_UNTRUSTED_SIGNER', /own device/)
  }
})

test('a revoked device is refused', (t) => {
  const c = circle()
  const d = c.devices[2]!
  const bytes = encodeManifest({ kind: 'playlist', name: 'x', seq: 1, created: NOW, body: [] }, d.credentials)
  t.notThrows(() => decodeManifest(bytes, { roster: c.roster, now: NOW }))
  const revoked = revokeDevice(c.roster, d.key.publicKey)
  refused(t, () => decodeManifest(bytes, { roster: revoked, now: NOW }), 'ERR_REVOKED')
})

test('a roster signed by a device, even an admin one, is refused', (t) => {
  const c = circle()
  const adminKey = generateKeyPair()
  const adminCert = encodeCertificate(issueCertificate(c.owner.seed, { owner: c.owner.publicKey, device: adminKey.publicKey, name: 'admin', role: 'admin', created: NOW }))
  const base = { type: 'djcloud-manifest', v: 1, kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }
  for (const [cert, seed] of [[adminCert, adminKey.seed], [c.devices[0]!.credentials.certificate, c.devices[0]!.key.seed]] as const) {
    const withCert = signRaw({ ...base, cert }, seed)
    refused(t, () => decodeManifest(withCert, { roster: c.roster, now: NOW }), 'ERR_UNTRUSTED_SIGNER', /owner key/)
    const withoutCert = signRaw(base, seed)
    refused(t, () => decodeManifest(withoutCert, { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE')
  }
})

test('a roster body of another owner, or with a bad inner signature, is refused', (t) => {
  const c = circle()
  const other = circle()
  const wrapped = signRaw({ type: 'djcloud-manifest', v: 1, kind: 'roster', seq: c.roster.seq, created: NOW, body: other.rosterBody as BInput }, c.owner.seed)
  refused(t, () => decodeManifest(wrapped, { roster: c.roster, now: NOW }), 'ERR_UNTRUSTED_SIGNER', /another owner/)
  const tampered = { ...(c.rosterBody as BDict), created: 5 }
  const bad = signRaw({ type: 'djcloud-manifest', v: 1, kind: 'roster', seq: c.roster.seq, created: NOW, body: tampered as BInput }, c.owner.seed)
  refused(t, () => decodeManifest(bad, { roster: c.roster, now: NOW }), 'ERR_BAD_SIGNATURE', /roster body/)
})

test('a replayed or rolled-back seq is refused, a higher one accepted', (t) => {
  const c = circle()
  const d = c.devices[0]!
  const seen: { kind: string; key: string; name?: string }[] = []
  const known = (kind: ManifestKind, key: Uint8Array, name?: string) => {
    seen.push({ kind, key: Buffer.from(key).toString('hex'), ...(name === undefined ? {} : { name }) })
    return 5
  }
  const at = (seq: number) => encodeManifest({ kind: 'playlist', name: 'peak', seq, created: NOW, body: [] }, d.credentials)
  refused(t, () => decodeManifest(at(5), { roster: c.roster, known, now: NOW }), 'ERR_REPLAY', /replay/)
  refused(t, () => decodeManifest(at(2), { roster: c.roster, known, now: NOW }), 'ERR_REPLAY')
  t.is(decodeManifest(at(6), { roster: c.roster, known, now: NOW }).seq, 6)
  t.deepEqual(seen[0], { kind: 'playlist', key: Buffer.from(d.key.publicKey).toString('hex'), name: 'peak' })
  const r = encodeManifest({ kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }, c.ownerSigner)
  refused(t, () => decodeManifest(r, { roster: c.roster, known: () => c.roster.seq, now: NOW }), 'ERR_REPLAY')
  // A replay is only judged once the manifest is authentic: a forgery stays a forgery.
  const forged = signRaw({ ...unsignedOf(at(1)) } as never, generateKeyPair().seed)
  refused(t, () => decodeManifest(forged, { roster: c.roster, known, now: NOW }), 'ERR_BAD_SIGNATURE')
})

test('the wrong kind, bad seq and insane created are refused', (t) => {
  const c = circle()
  const d = c.devices[0]!
  const lib = encodeManifest({ kind: 'library', seq: 1, created: NOW, body: {} }, d.credentials)
  refused(t, () => decodeManifest(lib, { roster: c.roster, expectedKind: 'playlist', now: NOW }), 'ERR_WRONG_KIND')
  const u = unsignedOf(lib)
  const sign = (f: object) => signRaw({ ...u, ...f } as never, d.key.seed)
  refused(t, () => decodeManifest(sign({ kind: 'diary' }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /unknown manifest kind/)
  refused(t, () => decodeManifest(sign({ seq: 0 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /seq/)
  refused(t, () => decodeManifest(sign({ seq: -3 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /seq/)
  refused(t, () => decodeManifest(sign({ seq: 2n ** 60n }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /seq/)
  refused(t, () => decodeManifest(sign({ created: 3 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /created/)
  refused(t, () => decodeManifest(sign({ created: NOW + 2 * 86_400_000 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /created/)
  refused(t, () => decodeManifest(sign({ extra: 1 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /unknown field/)
  refused(t, () => decodeManifest(sign({ v: 2 }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /version/)
  refused(t, () => decodeManifest(sign({ cert: undefined }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /certificate/)
})

test('an oversized manifest is refused before it is parsed, and per kind', (t) => {
  const c = circle()
  const d = c.devices[0]!
  refused(t, () => decodeManifest(new Uint8Array(MANIFEST_LIMITS.library.maxBytes + 1), { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE')
  // 6 MiB is fine for a library (8 MiB) and too big for a playlist (4 MiB).
  const big = { blob: new Uint8Array(60 * 1024), list: Array.from({ length: 120 }, () => new Uint8Array(50 * 1024)) }
  const lib = encodeManifest({ kind: 'library', seq: 1, created: NOW, body: big }, d.credentials)
  t.is(decodeManifest(lib, { roster: c.roster, now: NOW }).kind, 'library')
  const asPlaylist = signRaw({ ...unsignedOf(lib), kind: 'playlist' } as never, d.key.seed)
  refused(t, () => decodeManifest(asPlaylist, { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE')
  refused(t, () => decodeManifest(asPlaylist, { roster: c.roster, expectedKind: 'playlist', now: NOW }), 'ERR_TOO_LARGE')
  refused(t, () => encodeManifest({ kind: 'playlist', seq: 1, created: NOW, body: big }, d.credentials), 'ERR_TOO_LARGE')
  // One string over the cap; too many items.
  const longString = signRaw({ ...unsignedOf(lib), kind: 'playlist', body: new Uint8Array(20 * 1024) } as never, d.key.seed)
  refused(t, () => decodeManifest(longString, { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE')
  const many = signRaw({ ...unsignedOf(lib), kind: 'playlist', body: new Array(MANIFEST_LIMITS.playlist.maxItems + 1).fill(0) } as never, d.key.seed)
  refused(t, () => decodeManifest(many, { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE', /items/)
})

test('a deeply nested body is refused', (t) => {
  const c = circle()
  const d = c.devices[0]!
  let deep: BInput = 1
  for (let i = 0; i < 40; i++) deep = [deep]
  refused(t, () => encodeManifest({ kind: 'library', seq: 1, created: NOW, body: deep }, d.credentials), 'ERR_TOO_LARGE', /nested/)
  const lib = encodeManifest({ kind: 'library', seq: 1, created: NOW, body: {} }, d.credentials)
  const raw = signRaw({ ...unsignedOf(lib), body: deep } as never, d.key.seed)
  refused(t, () => decodeManifest(raw, { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE', /nested/)
  // Thousands of levels: refused, no stack overflow.
  const bomb = Buffer.concat([Buffer.from('d4:body'), Buffer.alloc(100_000, 'l'), Buffer.alloc(100_000, 'e'), Buffer.from('e')])
  refused(t, () => decodeManifest(bomb, { roster: c.roster, now: NOW }), 'ERR_TOO_LARGE', /nested/)
})

test('malformed encodings are refused: truncated, unsorted keys, trailing bytes, not a dict', (t) => {
  const c = circle()
  const d = c.devices[0]!
  const bytes = encodeManifest({ kind: 'library', seq: 1, created: NOW, body: libraryBody }, d.credentials)
  for (const cut of [0, 1, 10, bytes.length >> 1, bytes.length - 1]) {
    refused(t, () => decodeManifest(bytes.subarray(0, cut), { roster: c.roster, now: NOW }), 'ERR_MALFORMED')
  }
  const unsorted = encodeUnsorted(decode(bytes) as BDict)
  t.is(unsorted.length, bytes.length)
  refused(t, () => decodeManifest(unsorted, { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /not sorted/)
  refused(t, () => decodeManifest(Buffer.concat([bytes, Buffer.from('i0e')]), { roster: c.roster, now: NOW }), 'ERR_MALFORMED', /trailing/)
  refused(t, () => decodeManifest(encode(['djcloud-manifest']), { roster: c.roster, now: NOW }), 'ERR_MALFORMED')
  refused(t, () => decodeManifest(encode({ type: 'djcloud-device-cert' }), { roster: c.roster, now: NOW }), 'ERR_MALFORMED')
})
