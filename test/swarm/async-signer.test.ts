// dj_auth with an async signer (a non-extractable WebCrypto Ed25519 key, as a
// browser device holds): the proof is byte for byte what the device's seed
// gives, sessions authenticate over real TLS links either way round, and
// what the signing side sends right after its proof still comes after it.
import test, { type ExecutionContext } from 'ava'
import type { Server } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { once } from 'node:events'
import { randomBytes, webcrypto } from 'node:crypto'
import { createLinkServer } from '../../src/link/index.ts'
import { linkSocket } from '../helpers/link.ts'
import { authenticate, SessionError, type PeerSession, type SessionOptions } from '../../src/swarm/protocol/session.ts'
import { createAuthMessage, type Credentials, type DeviceSigner } from '../../src/swarm/protocol/auth.ts'
import { makeCircle, type TestDevice } from '../helpers/circle.ts'

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** The device's key as a WebCrypto key that cannot be exported, and a dj_auth signer on it. */
async function webCryptoSigner(d: TestDevice): Promise<DeviceSigner & { key: webcrypto.CryptoKey }> {
  const key = await webcrypto.subtle.importKey('pkcs8', Buffer.concat([PKCS8_PREFIX, d.key.seed]), { name: 'Ed25519' }, false, ['sign'])
  return { key, publicKey: d.key.publicKey, sign: async (m) => new Uint8Array(await webcrypto.subtle.sign({ name: 'Ed25519' }, key, m)) }
}

const withSigner = async (d: TestDevice): Promise<Credentials> => ({ signer: await webCryptoSigner(d), certificate: d.credentials.certificate })

async function listen(t: ExecutionContext, onSocket: (s: TLSSocket) => void): Promise<Server & { port: number }> {
  const server = await createLinkServer(onSocket)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return Object.assign(server, { port: (server.address() as { port: number }).port })
}

/** One session each way over a real TLS link; `first` is sent by the answering side the moment it is authenticated. */
async function pair(t: ExecutionContext, dialler: SessionOptions, answerer: SessionOptions): Promise<[PeerSession, PeerSession]> {
  const incoming = new Promise<PeerSession>((resolve, reject) => {
    void listen(t, (s) => authenticate(s, answerer).then((a) => {
      a.wire.have(7) // the very first thing after the (async) proof
      resolve(a)
    }, reject)).then((server) => {
      outgoing = authenticate(linkSocket(server.port), dialler)
      outgoing.catch(() => {})
    })
  })
  let outgoing: Promise<PeerSession> | undefined
  const a = await incoming
  const b = await outgoing!
  t.teardown(() => { a.wire.destroy(); b.wire.destroy() })
  return [a, b]
}

test('a WebCrypto key signs the same proof a seed does (Ed25519 is deterministic), and the key stays non-extractable', async (t) => {
  const c = makeCircle(['phone'])
  const d = c.devices[0]!
  const args = [randomBytes(20), randomBytes(20), randomBytes(20), randomBytes(32)] as const
  const fromSeed = createAuthMessage(d.credentials, ...args)
  const signer = await webCryptoSigner(d)
  const fromSigner = await createAuthMessage({ signer, certificate: d.credentials.certificate }, ...args)
  t.deepEqual(Buffer.from(fromSigner), Buffer.from(fromSeed))
  t.false(signer.key.extractable)
})

for (const side of ['dialler', 'answerer'] as const) {
  test(`an async signer as the ${side}: both sides verify each other, and the first message after the proof follows it`, async (t) => {
    t.timeout(30_000) // a message lost before the proof would leave the last wait hanging
    const c = makeCircle(['home', 'phone'])
    const infoHash = randomBytes(20)
    const home = c.devices[0]!
    const phone = c.devices[1]!
    const phoneCreds = await withSigner(phone)
    const answering = side === 'answerer' ? phone : home
    const dialling = side === 'answerer' ? home : phone
    const creds = (d: TestDevice) => (d === phone ? phoneCreds : d.credentials)
    const [a, b] = await pair(
      t,
      { credentials: creds(dialling), roster: () => c.roster, infoHash },
      { credentials: creds(answering), roster: () => c.roster, accept: (ih) => (ih.equals(infoHash) ? {} : null) },
    )
    t.is(a.peer.certificate.name, dialling === phone ? 'phone' : 'home')
    t.is(b.peer.certificate.name, answering === phone ? 'phone' : 'home')
    const have = once(b.wire, 'have')
    b.wire.resume()
    t.deepEqual(await have, [7])
  })
}

test('with proveSecond, an async signer answering first is checked and accepted', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const infoHash = randomBytes(20)
  const [a, b] = await pair(
    t,
    { credentials: c.devices[0]!.credentials, roster: () => c.roster, infoHash, proveSecond: true },
    { credentials: await withSigner(c.devices[1]!), roster: () => c.roster, accept: () => ({ answerFirst: true }) },
  )
  t.is(a.peer.certificate.name, 'home')
  t.is(b.peer.certificate.name, 'phone')
})

test('a signer that fails ends the session with a clear reason, on both sides', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const infoHash = randomBytes(20)
  const broken: Credentials = { signer: { publicKey: c.devices[1]!.key.publicKey, sign: () => Promise.reject(new Error('the key is gone')) }, certificate: c.devices[1]!.credentials.certificate }
  const answered = new Promise<unknown>((resolve) => {
    void listen(t, (s) => authenticate(s, { credentials: c.devices[0]!.credentials, roster: () => c.roster, accept: () => ({}), deadlineMs: 2_000 }).then(resolve, resolve)).then((server) => {
      dialled = authenticate(linkSocket(server.port), { credentials: broken, roster: () => c.roster, infoHash }).then(() => null, (e: unknown) => e)
    })
  })
  let dialled: Promise<unknown> | undefined
  const mine = await (async () => { await answered.catch(() => {}); return dialled! })()
  t.true(mine instanceof SessionError)
  t.is((mine as SessionError).reason, 'could not sign the proof: the key is gone')
  t.true((await answered) instanceof SessionError)
})
