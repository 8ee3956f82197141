// encodeManifestAsync: a browser device signs manifests with a key whose seed
// it cannot read (docs/browser.md, "Playlists: the page writes as itself").
// Same checks and canonical bytes as encodeManifest; Node devices take what
// it signs with a `browser` certificate in unchanged, and refuse the forged
// and the replayed as any other.
import test from 'ava'
import { encodeCertificate, generateKeyPair, issueCertificate, signBytes } from '../../src/identity/index.ts'
import { decodeManifest, encodeManifest, encodeManifestAsync, ManifestError, type ManifestErrorCode } from '../../src/manifest/index.ts'
import { circle, NOW, signRaw, unsignedOf } from './helpers.ts'

async function refused(t: import('ava').ExecutionContext, p: Promise<unknown>, code: ManifestErrorCode) {
  const err = await t.throwsAsync(p, { instanceOf: ManifestError })
  t.is(err?.code, code, err?.message)
}

function browserDevice(c: ReturnType<typeof circle>) {
  const key = generateKeyPair()
  const certificate = encodeCertificate(issueCertificate(c.owner.seed, { owner: c.owner.publicKey, device: key.publicKey, name: 'phone browser', role: 'browser', created: NOW }))
  const signer = { publicKey: key.publicKey, sign: async (m: Uint8Array) => signBytes(key.seed, m) }
  return { key, certificate, signer }
}

const body = { clock: 1, next: 0, entries: [], moves: [], removed: [], shares: [] }

test('an async signer gives the very bytes a seed gives, and a Node device verifies them under its roster', async (t) => {
  const c = circle()
  const d = browserDevice(c)
  const fields = { kind: 'playlist' as const, name: 'warm-up', seq: 3, created: NOW, body }
  const bytes = await encodeManifestAsync(fields, { signer: d.signer, certificate: d.certificate })
  t.deepEqual(Buffer.from(bytes), Buffer.from(encodeManifest(fields, { deviceSeed: d.key.seed, certificate: d.certificate })))
  const m = decodeManifest(bytes, { roster: c.roster, expectedKind: 'playlist', now: NOW })
  t.is(m.certificate?.role, 'browser')
  t.is(m.name, 'warm-up')
  // Replayed (or rolled back): refused once a seq at or above it was seen.
  t.throws(() => decodeManifest(bytes, { roster: c.roster, expectedKind: 'playlist', now: NOW, known: () => 3 }), { instanceOf: ManifestError, message: /replay/ })
  // Forged: the page's fields signed by another key under its certificate.
  t.throws(() => decodeManifest(signRaw(unsignedOf(bytes) as never, generateKeyPair().seed), { roster: c.roster, now: NOW }), { instanceOf: ManifestError, message: /signature does not verify/ })
})

test('an async signer is refused when its key is not its certificate\'s, its signature is another key\'s, it fails, or it signs a roster', async (t) => {
  const c = circle()
  const d = browserDevice(c)
  const other = generateKeyPair()
  const fields = { kind: 'library' as const, seq: 1, created: NOW, body: { count: 0, pages: [], playlists: [] } }
  await refused(t, encodeManifestAsync(fields, { signer: { publicKey: other.publicKey, sign: async (m) => signBytes(other.seed, m) }, certificate: d.certificate }), 'ERR_UNTRUSTED_SIGNER')
  await refused(t, encodeManifestAsync(fields, { signer: { publicKey: d.key.publicKey, sign: async (m) => signBytes(other.seed, m) }, certificate: d.certificate }), 'ERR_BAD_SIGNATURE')
  await refused(t, encodeManifestAsync(fields, { signer: { publicKey: d.key.publicKey, sign: async () => Promise.reject(new Error('the key is gone')) }, certificate: d.certificate }), 'ERR_UNTRUSTED_SIGNER')
  await refused(t, encodeManifestAsync({ ...fields, kind: 'roster' }, { signer: d.signer, certificate: d.certificate }), 'ERR_UNTRUSTED_SIGNER')
  await refused(t, encodeManifestAsync({ ...fields, seq: 0 }, { signer: d.signer, certificate: d.certificate }), 'ERR_MALFORMED')
})
