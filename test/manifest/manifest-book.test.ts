// The manifest book between two devices of one circle, with blobs handed
// over directly: what one publishes the other takes in, and every kind of bad
// input is refused with a logged reason while the known state stays as it was.
import test, { type ExecutionContext } from 'ava'
import { randomBytes } from 'node:crypto'
import { brotliCompressSync } from 'node:zlib'
import { decode, encode, type BDict } from '../../src/codec/index.ts'
import { revokeDevice, signRoster, type Identity } from '../../src/identity/index.ts'
import {
  addTracks, blobOf, encodeManifest, ManifestBook, ManifestStore, packBlob, unionTracks, unpackBlob, type BlobFetcher, type ManifestTrack,
} from '../../src/manifest/index.ts'
import { makeCircle, makeDevice, type TestCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { signRaw, unsignedOf } from './helpers.ts'
import { fakeTracks } from './fake-tracks.ts'

function identityOf(c: TestCircle, i: number, home: string): Identity {
  const d = c.devices[i]!
  return { home, device: d.key, certificate: d.certificate, circleSecret: c.circleSecret, roster: c.roster, ...(i === 0 ? { owner: c.owner } : {}) }
}

async function pair(t: ExecutionContext, c = makeCircle(['laptop', 'phone', 'desk'])) {
  const books: ManifestBook[] = []
  const ids: Identity[] = []
  for (let i = 0; i < 2; i++) {
    const home = await tempDir(t)
    const id = identityOf(c, i, home)
    ids.push(id)
    books.push(await ManifestBook.open({ store: await ManifestStore.open(home, c.circleSecret), identity: () => id }))
  }
  const [a, b] = books as [ManifestBook, ManifestBook]
  const fromA: BlobFetcher = async (id) => (await a.store.getBlob(id)) ?? null
  return { c, a, b, fromA, ids }
}

/** What B knows, to compare before and after a refusal. */
const snapshot = (b: ManifestBook) => JSON.stringify({ libs: b.remoteLibraries(), known: b.store.state.known, names: b.playlistNames() })

test('a library published by one device is taken in by the other and shows in the union with its holder', async (t) => {
  const { a, b, fromA, c } = await pair(t)
  const tracks = fakeTracks(300)
  const pub = (await a.publishLibrary(tracks))!
  t.is(pub.seq, 1)
  t.is(await a.publishLibrary(tracks), null, 'nothing changed: no new version')
  t.true(await b.applyLibrary(pub.blob.data, fromA, 'laptop'))
  const union = unionTracks({ self: { device: 'me', name: 'phone' }, local: [], remotes: b.remoteLibraries(), online: new Set() })
  t.is(union.size, 300)
  const one = union.get(tracks[7]!.sha256)!
  t.deepEqual(one.holders, [{ device: Buffer.from(c.devices[0]!.key.publicKey).toString('hex'), name: 'laptop', online: false, self: false }])
  t.is(one.track.tags.title, tracks[7]!.tags.title)
})

test('a replayed or rolled-back library is refused as a replay; the newer one stays', async (t) => {
  const { a, b, fromA } = await pair(t)
  const v1 = (await a.publishLibrary(fakeTracks(10)))!
  const v1data = Buffer.from(v1.blob.data)
  const v1pages = new Map<string, Buffer>()
  for (const id of unpackRootPages(v1data)) v1pages.set(id, (await a.store.getBlob(id))!)
  const v2 = (await a.publishLibrary(fakeTracks(12)))!
  t.true(await b.applyLibrary(v2.blob.data, fromA, 'laptop'))
  const before = snapshot(b)
  t.false(await b.applyLibrary(v2.blob.data, fromA, 'laptop'))
  t.false(await b.applyLibrary(v1data, async (id) => v1pages.get(id) ?? null, 'laptop'))
  t.deepEqual(b.refusals.map((r) => r.code), ['ERR_REPLAY', 'ERR_REPLAY'])
  t.is(snapshot(b), before)
  t.is(b.remoteLibraries()[0]!.tracks.length, 12)
})

function unpackRootPages(data: Buffer): string[] {
  const env = decode(unpackBlob(data, 1 << 24)) as BDict
  return ((env.body as BDict).pages as Uint8Array[]).map((p) => Buffer.from(p).toString('hex'))
}

test('forged, foreign, revoked, non-admin, oversized, nested, malformed and mismatched manifests are refused with a reason; state unchanged', async (t) => {
  const { c, a, b, fromA, ids } = await pair(t)
  // B already knows one good version of A's library.
  const good = (await a.publishLibrary(fakeTracks(20)))!
  t.true(await b.applyLibrary(good.blob.data, fromA, 'laptop'))
  const before = snapshot(b)
  const secret = c.circleSecret
  const plain = unpackBlob(good.blob.data, 1 << 24)
  const unsigned = unsignedOf(plain)
  const laptop = c.devices[0]!
  const cases: Array<[string, string, () => Promise<boolean>]> = []
  const lib = (bytes: Uint8Array, fetch: BlobFetcher = fromA) => () => b.applyLibrary(packBlob(bytes, secret).data, fetch, 'test')

  // Forged signature: a newer seq, the signature of the old bytes.
  const forged = decode(plain) as BDict
  forged.seq = 99
  cases.push(['forged signature', 'ERR_BAD_SIGNATURE', lib(encode(forged))])
  // A certificate signed by another owner.
  const stranger = makeCircle(['evil'])
  cases.push(['certificate of another owner', 'ERR_UNTRUSTED_SIGNER', lib(encodeManifest({ kind: 'library', seq: 5, created: Date.now(), body: decode(encode((decode(plain) as BDict).body!)) }, stranger.devices[0]!.credentials))])
  // A device the roster revoked (desk), signing a well-formed library.
  const desk = c.devices[2]!
  ids[1]!.roster = revokeDevice(c.roster, desk.key.publicKey)
  cases.push(['revoked signer', 'ERR_REVOKED', lib(encodeManifest({ kind: 'library', seq: 1, created: Date.now(), body: (decode(plain) as BDict).body! }, desk.credentials))])
  // A certificate that claims our owner but is self-signed by a device.
  const fake = makeDevice(laptop.key, 'fake')
  const fakeCert = { ...fake.credentials, certificate: encode({ ...(decode(fake.credentials.certificate) as BDict), owner: c.owner.publicKey }) }
  cases.push(['certificate not signed by the owner', 'ERR_UNTRUSTED_SIGNER', lib(signRaw({ ...unsigned, seq: 7, cert: fakeCert.certificate }, fake.key.seed))])
  // Over the library cap once inflated (a decompression bomb), and nested past the depth cap.
  cases.push(['oversized', 'ERR_TOO_LARGE', () => b.applyLibrary(blobOf(brotliCompressSync(Buffer.alloc(9 * 1024 * 1024, 0x61)), secret).data, fromA, 'test')])
  let deep: unknown = 'x'
  for (let i = 0; i < 40; i++) deep = [deep]
  cases.push(['deeply nested', 'ERR_TOO_LARGE', lib(signRaw({ ...unsigned, seq: 8, body: deep as never }, laptop.key.seed))])
  // Not bencode at all, and bencode with its keys out of order.
  cases.push(['malformed', 'ERR_MALFORMED', lib(randomBytes(500))])
  cases.push(['truncated', 'ERR_MALFORMED', lib(plain.subarray(0, plain.length - 10))])
  // A valid root whose page comes back as other bytes.
  const next = (await a.publishLibrary(fakeTracks(21)))!
  const wrongPages: BlobFetcher = async (id) => ((await a.store.getBlob(id)) ? packBlob(encode({ tracks: [] }), secret).data : null)
  cases.push(['a page that does not match the root', 'ERR_MISMATCH', () => b.applyLibrary(next.blob.data, wrongPages, 'test')])
  // A root that counts more tracks than its pages hold.
  const lying = decode(plain) as BDict
  ;(lying.body as BDict).count = 21
  cases.push(['a root whose count its pages do not hold', 'ERR_MISMATCH', lib(signRaw({ ...unsignedOf(encode(lying)), seq: 9 }, laptop.key.seed))])

  for (const [what, code, run] of cases) {
    const n = b.refusals.length
    t.false(await run(), what)
    t.is(b.refusals.length, n + 1, `${what}: one refusal logged`)
    t.is(b.refusals.at(-1)!.code, code, `${what}: ${b.refusals.at(-1)!.reason}`)
    t.regex(b.refusals.at(-1)!.reason, /\S/)
    t.is(snapshot(b), before, `${what}: known state unchanged`)
  }
})

test('bytes fetched for a pointer or a page that do not hash to it are refused and logged', async (t) => {
  const { a, b } = await pair(t)
  const pub = (await a.publishLibrary(fakeTracks(5)))!
  t.true(b.checkFetched(pub.blob.data, pub.blob.infoHash, 'laptop'))
  t.true(b.checkFetched(pub.blob.data, pub.blob.sha256, 'laptop'))
  const other = packBlob(Buffer.from('something else'), randomBytes(32))
  t.false(b.checkFetched(other.data, pub.blob.infoHash, 'laptop'))
  t.is(b.refusals.at(-1)!.code, 'ERR_MISMATCH')
  t.false(b.checkFetched(other.data, pub.blob.sha256, 'laptop'))
  t.is(b.refusals.at(-1)!.code, 'ERR_MISMATCH')
  t.is(b.refusals.length, 2)
})

test('a roster manifest signed by a device (even an admin one) is refused; an owner-signed newer roster is read', async (t) => {
  const { c, b } = await pair(t)
  const next = { ...c.roster, seq: c.roster.seq + 1, created: Date.now() }
  const body = decode(signRoster(next, c.owner.seed))
  const byDevice = signRaw({ type: 'djcloud-manifest', v: 1, kind: 'roster', seq: next.seq, created: Date.now(), cert: c.devices[0]!.credentials.certificate, body }, c.devices[0]!.key.seed)
  t.is(b.readRoster(packBlob(byDevice, c.circleSecret).data, 'test'), null)
  t.is(b.refusals.at(-1)!.code, 'ERR_UNTRUSTED_SIGNER')
  const byOwner = encodeManifest({ kind: 'roster', seq: next.seq, created: Date.now(), body }, { ownerSeed: c.owner.seed, ownerPublicKey: c.owner.publicKey })
  const read = b.readRoster(packBlob(byOwner, c.circleSecret).data, 'test')
  t.is(read!.roster.seq, next.seq)
  // The same roster again is a replay once adopted.
  const old = b.readRoster(packBlob(encodeManifest({ kind: 'roster', seq: c.roster.seq, created: Date.now(), body: decode(signRoster(c.roster, c.owner.seed)) }, { ownerSeed: c.owner.seed, ownerPublicKey: c.owner.publicKey }), c.circleSecret).data, 'test')
  t.is(old, null)
  t.is(b.refusals.at(-1)!.code, 'ERR_REPLAY')
})

test('playlists: both devices edit, each takes in the other\'s edits, and the merge is the same on both', async (t) => {
  const { a, b, fromA, ids } = await pair(t)
  const tracks: ManifestTrack[] = fakeTracks(4)
  const ref = (i: number) => ({ sha256: tracks[i]!.sha256, audio: tracks[i]!.audioHash })
  const selfA = Buffer.from(ids[0]!.device.publicKey).toString('hex')
  const selfB = Buffer.from(ids[1]!.device.publicKey).toString('hex')
  const pa = await a.editPlaylist('Gig', (own, m) => addTracks(own, m, selfA, [ref(0), ref(1)]), { create: true })
  t.true(await b.applyPlaylist(pa.publication.blob.data, 'laptop'))
  const pb = await b.editPlaylist('Gig', (own, m) => addTracks(own, m, selfB, [ref(2)], 0))
  const pa2 = await a.editPlaylist('Gig', (own, m) => addTracks(own, m, selfA, [ref(3)]))
  t.true(await a.applyPlaylist(pb.publication.blob.data, 'phone'))
  t.true(await b.applyPlaylist(pa2.publication.blob.data, 'laptop'))
  const order = (x: ManifestBook) => x.playlist('Gig')!.entries.map((e) => e.track.sha256)
  t.deepEqual(order(a), order(b))
  t.deepEqual(order(a), [2, 0, 1, 3].map((i) => tracks[i]!.sha256))
  // A playlist blob claiming a name the library root does not name is not taken from a root.
  const lib = (await a.publishLibrary(tracks))!
  t.true(await b.applyLibrary(lib.blob.data, fromA, 'laptop'))
  t.deepEqual(b.playlistNames(), ['Gig'])
})
