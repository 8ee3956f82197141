import test, { type ExecutionContext } from 'ava'
import type { Server } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { channelBinding, createLinkServer } from '../../src/link/index.ts'
import { linkSocket } from '../helpers/link.ts'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { authenticate, SessionError, type PeerSession, type SessionOptions } from '../../src/swarm/protocol/session.ts'
import { Wire } from '../../src/swarm/protocol/wire.ts'
import { newPeerId } from '../../src/swarm/protocol/peer-id.ts'
import { createAuthMessage } from '../../src/swarm/protocol/auth.ts'
import { revokeDevice } from '../../src/identity/index.ts'
import { makeCircle, makeDevice, type TestDevice } from '../helpers/circle.ts'
import type { Roster } from '../../src/identity/index.ts'
import { deferred } from '../helpers/deferred.ts'

async function listen(t: ExecutionContext, onSocket: (s: TLSSocket) => void): Promise<Server & { port: number }> {
  const server = await createLinkServer(onSocket)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return Object.assign(server, { port: (server.address() as { port: number }).port })
}

function opts(d: TestDevice, roster: Roster, extra: Partial<SessionOptions> = {}): SessionOptions {
  return { credentials: d.credentials, roster: () => roster, ...extra }
}

test('two own devices authenticate each other, and messages sent right after auth are not lost', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const infoHash = randomBytes(20)
  const incoming = new Promise<PeerSession>((resolve, reject) => {
    void listen(t, (s) => authenticate(s, opts(c.devices[0]!, c.roster, { accept: (ih) => (ih.equals(infoHash) ? {} : null) })).then(resolve, reject))
      .then((server) => {
        const sock = linkSocket(server.port)
        authenticate(sock, opts(c.devices[1]!, c.roster, { infoHash })).then(
          (s) => {
            // the very first thing after auth, in the same chunk as nothing else
            s.wire.have(7)
            outgoing.resolve(s)
          },
          reject,
        )
      })
  })
  const outgoing = deferred<PeerSession>()
  const [a, b] = await Promise.all([incoming, outgoing.promise])
  t.teardown(() => { a.wire.destroy(); b.wire.destroy() })
  t.is(a.peer.certificate.name, 'laptop')
  t.is(b.peer.certificate.name, 'home')
  t.is(a.peer.kind, 'own')
  const have = once(a.wire, 'have')
  a.wire.resume()
  const [index] = await have
  t.is(index, 7)
})

/** A client that authenticates itself but never checks the server: it only sends. */
function rawDial(port: number, infoHash: Buffer, credentials: { deviceSeed: Uint8Array; certificate: Uint8Array }) {
  const sock = linkSocket(port)
  sock.on('error', () => {})
  const w = new Wire(sock, ['dj_auth'])
  const myId = newPeerId()
  w.handshake(infoHash, myId)
  w.on('handshake', (_ih, theirId) => {
    w.extendedHandshake()
    w.once('extended-handshake', () => w.extended('dj_auth', createAuthMessage(credentials, infoHash, myId, theirId, channelBinding(sock))))
  })
}

async function refusedBy(t: ExecutionContext, serverOpts: SessionOptions, dial: (port: number) => void): Promise<string> {
  const result = deferred<string>()
  const server = await listen(t, (s) =>
    authenticate(s, serverOpts).then(
      () => result.reject(new Error('authenticated a peer it should not have')),
      (err: SessionError) => result.resolve(err.reason),
    ),
  )
  dial(server.port)
  return result.promise
}

test('a device of another circle is refused', async (t) => {
  const mine = makeCircle(['home'])
  const theirs = makeCircle(['stranger'])
  const infoHash = randomBytes(20)
  const reason = await refusedBy(t, opts(mine.devices[0]!, mine.roster, { accept: () => ({}) }), (port) => {
    rawDial(port, infoHash, theirs.devices[0]!.credentials)
  })
  t.is(reason, 'unknown-owner')
})

test('a revoked device is refused', async (t) => {
  const c = makeCircle(['home', 'phone'])
  const roster = revokeDevice(c.roster, c.devices[1]!.key.publicKey)
  const reason = await refusedBy(t, opts(c.devices[0]!, roster, { accept: () => ({}) }), (port) => {
    rawDial(port, randomBytes(20), c.devices[1]!.credentials)
  })
  t.is(reason, 'revoked')
})

test('a device holding another device\'s certificate (not its key) fails the signature', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const thief = makeDevice(c.owner, 'x')
  const stolen = { deviceSeed: thief.key.seed, certificate: c.devices[1]!.credentials.certificate }
  const reason = await refusedBy(t, opts(c.devices[0]!, c.roster, { accept: () => ({}) }), (port) => {
    rawDial(port, randomBytes(20), stolen)
  })
  t.is(reason, 'bad-signature')
})

test('a plain BitTorrent peer without the extension is dropped, and one that stays silent is dropped by the deadline', async (t) => {
  const c = makeCircle(['home'])
  const infoHash = randomBytes(20)
  const noExt = await refusedBy(t, opts(c.devices[0]!, c.roster, { accept: () => ({}) }), (port) => {
    const sock = linkSocket(port)
    // handshake with the extension bit off
    sock.write(Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), infoHash, randomBytes(20)]))
    sock.on('error', () => {})
  })
  t.is(noExt, 'no extension protocol (BEP 10)')
  const started = Date.now()
  const silent = await refusedBy(t, opts(c.devices[0]!, c.roster, { accept: () => ({}), deadlineMs: 300 }), (port) => {
    const sock = linkSocket(port)
    sock.on('error', () => {})
    const w = new Wire(sock, ['dj_auth'])
    w.handshake(infoHash, randomBytes(20))
    w.on('handshake', () => w.extendedHandshake()) // speaks BEP 10, never authenticates
  })
  t.is(silent, 'did not authenticate in time')
  t.true(Date.now() - started < 5_000, 'the 300 ms deadline applied, not the 5 s default')
})

test('an infohash not served here is refused before anything else', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const reason = await refusedBy(t, opts(c.devices[0]!, c.roster, { accept: () => null }), (port) => {
    rawDial(port, randomBytes(20), c.devices[1]!.credentials)
  })
  t.is(reason, 'asked for an infohash not served here')
})

test('a message longer than the cap closes the wire', async (t) => {
  const server = await listen(t, () => {})
  const sock = linkSocket(server.port)
  const w = new Wire(sock)
  const closed = once(w, 'close')
  // feed our own parser a handshake and then a 1 GB length prefix
  ;(w as unknown as { onData(b: Buffer): void }).onData(
    Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(48), Buffer.from([0x40, 0, 0, 0])]),
  )
  const [err] = await closed
  t.regex((err as Error).message, /over the limit/)
})

test('the answering side reveals nothing about itself to a peer that has not proved itself', async (t) => {
  const c = makeCircle(['home'])
  const server = await listen(t, (s) => {
    authenticate(s, opts(c.devices[0]!, c.roster, { accept: () => ({}), deadlineMs: 500 })).catch(() => {})
  })
  const sock = linkSocket(server.port)
  sock.on('error', () => {})
  const w = new Wire(sock, ['dj_auth'])
  const got: string[] = []
  let handshake: Record<string, unknown> | null = null
  w.on('extended', (name) => got.push(name))
  w.on('extended-handshake', (d) => (handshake = d))
  w.handshake(randomBytes(20), newPeerId())
  w.on('handshake', () => w.extendedHandshake())
  await once(w, 'close')
  t.deepEqual(got, []) // no dj_auth: no certificate, no owner key, no device name
  t.truthy(handshake)
  t.deepEqual(Object.keys(handshake!), ['m']) // and no client name
})

/** A listener that records every byte a dialler sends it and answers as `d` would (proving itself when asked). */
async function recordingListener(t: ExecutionContext, d: TestDevice, roster: Roster): Promise<{ port: number; received: () => Buffer; sessions: Array<Promise<PeerSession>> }> {
  const chunks: Buffer[] = []
  const sessions: Array<Promise<PeerSession>> = []
  const server = await listen(t, (s) => {
    s.on('data', (c: Buffer) => chunks.push(c))
    const p = authenticate(s, opts(d, roster, { accept: () => ({ allow: () => true, answerFirst: true }), deadlineMs: 2_000 }))
    p.catch(() => {})
    sessions.push(p)
  })
  return { port: server.port, received: () => Buffer.concat(chunks), sessions }
}

test('with proveSecond the dialler sends a stranger at the address no certificate and no signature', async (t) => {
  const me = makeCircle(['laptop'])
  const friend = makeCircle(['friend-pc'])
  const stranger = makeCircle(['stranger'])
  const { addFriend } = await import('../../src/identity/index.ts')
  const roster = addFriend(me.roster, friend.owner.publicKey, 'Friend')
  const friendRoster = addFriend(friend.roster, me.owner.publicKey, 'Me')
  const expectFriend = (p: { kind: string; certificate: { owner: Uint8Array } }) => p.kind === 'friend' && Buffer.from(p.certificate.owner).equals(friend.owner.publicKey)
  const dial = (port: number, proveSecond: boolean) =>
    authenticate(linkSocket(port).on('error', () => {}), opts(me.devices[0]!, roster, { infoHash: randomBytes(20), remote: { host: '127.0.0.1', port }, allow: expectFriend, proveSecond, deadlineMs: 2_000 }))
  const mine = Buffer.from(me.devices[0]!.key.publicKey)

  // A stranger listening on an announced address: it proves itself (it was asked), the dialler refuses it and hands over nothing.
  const s = await recordingListener(t, stranger.devices[0]!, stranger.roster)
  await t.throwsAsync(dial(s.port, true), { message: /unknown-owner/ })
  t.false(s.received().includes(mine), 'the dialler sent its device key (its certificate)')
  t.false(s.received().includes(Buffer.from('3:sig64:')), 'the dialler sent a signature')
  // Without proveSecond, the dialler's certificate reaches the stranger: what the option prevents.
  const s2 = await recordingListener(t, stranger.devices[0]!, stranger.roster)
  await t.throwsAsync(dial(s2.port, false))
  t.true(s2.received().includes(mine))

  // The expected friend's device proves itself first, then gets the dialler's proof: both sides authenticated.
  const f = await recordingListener(t, friend.devices[0]!, friendRoster)
  const out = await dial(f.port, true)
  const inc = await f.sessions[0]!
  t.teardown(() => { out.wire.destroy(); inc.wire.destroy() })
  t.is(out.peer.kind, 'friend')
  t.is(out.peer.certificate.name, 'friend-pc')
  t.is(inc.peer.kind, 'friend')
  t.is(inc.peer.certificate.name, 'laptop')
})

test('an "ask" where the answering side does not answer first, twice, or an "ok" to it, drops the wire', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const infoHash = randomBytes(20)
  const listener = (answerFirst: boolean) =>
    listen(t, (s) => void authenticate(s, opts(c.devices[0]!, c.roster, { accept: () => ({ answerFirst }), deadlineMs: 2_000 })).catch(() => {}))
  const send = async (port: number, controls: string[]) => {
    const sock = linkSocket(port)
    sock.on('error', () => {})
    const w = new Wire(sock, ['dj_auth'])
    const got: string[] = []
    w.on('extended', (name) => got.push(name))
    w.on('handshake', () => w.extendedHandshake())
    w.on('extended-handshake', () => {
      for (const c of controls) w.extended('dj_auth', Buffer.from(`d${c.length}:${c}i1ee`))
    })
    w.handshake(infoHash, newPeerId())
    await once(w, 'close')
    return got
  }
  const first = await listener(true)
  // "ask" twice: the proof answering the first came, then the wire closed.
  t.deepEqual(await send(first.port, ['ask', 'ask']), ['dj_auth'])
  // A lone "ok": nothing came back.
  t.deepEqual(await send(first.port, ['ok']), [])
  // Where this side does not answer first (a track's infohash, which a leaked .torrent shows), "ask" gets nothing.
  t.deepEqual(await send((await listener(false)).port, ['ask']), [])
})
