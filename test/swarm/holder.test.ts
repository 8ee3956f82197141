// The 'holder' peer kind: a restoring device knows no friends yet, so it may
// accept, on a dial it makes, a device of an owner its roster does not know
// (what it fetches is checked by the owner signature). Only when it asks for
// it, and only on the dialling side.
import test, { type ExecutionContext } from 'ava'
import type { Server } from 'node:net'
import { createLinkServer, dialLink } from '../../src/link/index.ts'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { addFriend, friendSecret } from '../../src/identity/index.ts'
import { authenticate, type PeerSession } from '../../src/swarm/index.ts'
import { makeCircle } from '../helpers/circle.ts'
import { until } from '../helpers/until.ts'

async function listen(t: ExecutionContext, onSession: (s: Promise<PeerSession>) => void, opts: Parameters<typeof authenticate>[1]): Promise<number> {
  const server: Server = await createLinkServer((sock) => onSession(authenticate(sock, opts)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return (server.address() as { port: number }).port
}

test('a dial with trustAnyOwner accepts a device of an unknown owner as a holder; without it, or answering, it is refused', async (t) => {
  const owner = makeCircle(['restoring'])
  const friend = makeCircle(['friend-pc'])
  const friendRoster = addFriend(friend.roster, owner.owner.publicKey, 'Owner')
  const infoHash = randomBytes(20)
  const sessions: Array<Promise<PeerSession>> = []
  const port = await listen(t, (s) => sessions.push(s), {
    credentials: friend.devices[0]!.credentials,
    roster: () => friendRoster,
    accept: (ih) => (ih.equals(infoHash) ? { allow: (p) => p.kind === 'friend' } : null),
  })
  const dial = async (trustAnyOwner: boolean) => {
    const sock = await dialLink('127.0.0.1', port)
    t.teardown(() => void sock.destroy())
    return authenticate(sock, {
      credentials: owner.devices[0]!.credentials, roster: () => owner.roster, infoHash, remote: { host: '127.0.0.1', port }, allow: () => true, trustAnyOwner,
    })
  }
  const s = await dial(true)
  t.is(s.peer.kind, 'holder')
  t.deepEqual(Buffer.from(s.peer.certificate.owner), Buffer.from(friend.owner.publicKey))
  t.is((await sessions[0]!).peer.kind, 'friend') // the friend sees a device of the owner it trusts
  s.wire.destroy()
  await t.throwsAsync(dial(false), { message: /unknown-owner/ })

  // The answering side never takes up trustAnyOwner: a stranger dialling it stays a stranger.
  const strangerPort = await listen(t, (p) => sessions.push(p), {
    credentials: owner.devices[0]!.credentials, roster: () => owner.roster, accept: () => ({ allow: () => true }), trustAnyOwner: true,
  })
  const sock = await dialLink('127.0.0.1', strangerPort)
  t.teardown(() => void sock.destroy())
  const out = authenticate(sock, { credentials: friend.devices[0]!.credentials, roster: () => friendRoster, infoHash, remote: { host: '127.0.0.1', port: strangerPort }, allow: () => true })
  await t.throwsAsync(out)
  await t.throwsAsync(sessions.at(-1)!, { message: /unknown-owner/ })
})

test('a backup channel carries a blob past the manifest cap, in windows, to whom it admits; others are refused', async (t) => {
  const { Swarm, backupChannelInfoHash } = await import('../../src/swarm/index.ts')
  const { tempDir } = await import('../helpers/temp.ts')
  const owner = makeCircle(['restoring'])
  const friend = makeCircle(['friend-pc'])
  const stranger = makeCircle(['stranger'])
  let friendRoster = addFriend(friend.roster, owner.owner.publicKey, 'Owner')
  const channel = backupChannelInfoHash(friendSecret(owner.owner, friend.owner.publicKey), owner.owner.publicKey)
  const big = randomBytes(9 * 1024 * 1024 + 12345)
  const sha = (await import('node:crypto')).createHash('sha256').update(big).digest('hex')
  const dir = await tempDir(t)
  const holder = new Swarm({
    credentials: friend.devices[0]!.credentials, roster: () => friendRoster, circleSecret: friend.circleSecret, cacheDir: `${dir}/h`, port: 0, host: '127.0.0.1',
    backups: {
      admit: (ih) => (ih === channel.toString('hex') ? (p) => p.kind === 'friend' && Buffer.from(p.certificate.owner).equals(owner.owner.publicKey) : undefined),
      holds: async (_ih, s) => s === sha,
      blob: async (_ih, s) => (s === sha ? big : undefined),
    },
  })
  await holder.start()
  t.teardown(() => holder.close())
  const client = (c: ReturnType<typeof makeCircle>, name: string) =>
    new Swarm({ credentials: c.devices[0]!.credentials, roster: () => c.roster, circleSecret: c.circleSecret, cacheDir: `${dir}/${name}`, port: 0, host: '127.0.0.1' })
  const me = client(owner, 'me')
  await me.start()
  t.teardown(() => me.close())
  const link = await me.connectHolder('127.0.0.1', holder.port, channel, () => true, true)
  t.deepEqual((await me.holders.lookup(sha, 1500, [link])).map((h) => h.link), [link])
  const got = await me.holders.fetchBlob(sha, [link], true)
  t.true(got?.data.equals(big))
  t.is(await me.holders.fetchBlob('00'.repeat(32), [link], true), null)

  const other = client(stranger, 'other')
  await other.start()
  t.teardown(() => other.close())
  await t.throwsAsync(other.connectHolder('127.0.0.1', holder.port, channel, () => true, true))

  // The owner taken off the holder's roster: its open link on the channel is dropped.
  friendRoster = friend.roster
  const closed = new Promise((r) => link.session.wire.once('close', r))
  t.is(await holder.enforceRoster(), 1)
  await closed
  t.is(me.holders.online().length, 0)
})

test('joining a share or backup channel at an address found on the DHT gives a stranger there no certificate and no signature', async (t) => {
  const { Swarm } = await import('../../src/swarm/index.ts')
  const { tempDir } = await import('../helpers/temp.ts')
  const me = makeCircle(['laptop'])
  const friend = makeCircle(['friend-pc'])
  const stranger = makeCircle(['stranger'])
  const roster = addFriend(me.roster, friend.owner.publicKey, 'Friend')
  const received: Buffer[] = []
  // The stranger answers as its own device would (proving itself when asked) and records what reaches it.
  const server: Server = await createLinkServer((sock) => {
    sock.on('data', (c: Buffer) => received.push(c))
    authenticate(sock, { credentials: stranger.devices[0]!.credentials, roster: () => stranger.roster, accept: () => ({ allow: () => true, answerFirst: true }) }).catch(() => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const strangerPort = (server.address() as { port: number }).port
  const dir = await tempDir(t)
  const swarm = new Swarm({ credentials: me.devices[0]!.credentials, roster: () => roster, circleSecret: me.circleSecret, cacheDir: `${dir}/c`, port: 0, host: '127.0.0.1' })
  await swarm.start()
  t.teardown(() => swarm.close())
  const friendHex = Buffer.from(friend.owner.publicKey).toString('hex')
  await t.throwsAsync(swarm.connectFriend('127.0.0.1', strangerPort, randomBytes(20), friendHex))
  await t.throwsAsync(swarm.connectHolder('127.0.0.1', strangerPort, randomBytes(20), (p) => p.kind === 'friend'))
  const all = Buffer.concat(received)
  t.true(all.length > 0)
  t.false(all.includes(Buffer.from(me.devices[0]!.key.publicKey)), 'a certificate reached the stranger')
  t.false(all.includes(Buffer.from('3:sig64:')), 'a signature reached the stranger')
})

test('a holder that closes the link, or stays silent, between the handshake and its hello fails the dial instead of leaving it waiting', async (t) => {
  const { Swarm, backupChannelInfoHash } = await import('../../src/swarm/index.ts')
  const { tempDir } = await import('../helpers/temp.ts')
  const owner = makeCircle(['laptop'])
  const friend = makeCircle(['friend-pc'])
  const friendRoster = addFriend(friend.roster, owner.owner.publicKey, 'Owner')
  const channel = backupChannelInfoHash(friendSecret(owner.owner, friend.owner.publicKey), owner.owner.publicKey)
  // The friend's device completes the handshake (as a node killed right after it would) and then, per dial,
  // closes its end at once or says nothing: no hello ever comes.
  let mode: 'close' | 'silent' = 'close'
  const open: PeerSession[] = []
  const port = await listen(t, (s) => void s.then((session) => (mode === 'close' ? session.wire.destroy() : open.push(session)), () => {}), {
    credentials: friend.devices[0]!.credentials,
    roster: () => friendRoster,
    accept: (ih) => (ih.equals(channel) ? { allow: (p) => p.kind === 'own' || p.kind === 'friend', answerFirst: true } : null),
  })
  t.teardown(() => open.forEach((s) => s.wire.destroy()))
  const dir = await tempDir(t)
  const roster = addFriend(owner.roster, friend.owner.publicKey, 'Friend')
  const swarm = new Swarm({
    credentials: owner.devices[0]!.credentials, roster: () => roster, circleSecret: owner.circleSecret, cacheDir: `${dir}/c`, port: 0, host: '127.0.0.1', helloTimeoutMs: 300,
  })
  await swarm.start()
  t.teardown(() => swarm.close())
  const ofFriend = (p: { kind: string }) => p.kind === 'friend'
  await t.throwsAsync(swarm.connectHolder('127.0.0.1', port, channel, ofFriend), { message: /closed the link before its hello/ })
  mode = 'silent'
  const t0 = Date.now()
  await t.throwsAsync(swarm.connectHolder('127.0.0.1', port, channel, ofFriend), { message: /sent no hello within 300 ms/ })
  t.true(Date.now() - t0 < 5_000)
  await until(async () => (open.length === 1 && open[0]!.wire.destroyed) || undefined, 5_000) // the dialler closed the silent link
  t.is(swarm.holders.online().length, 0, 'no half-made link is left online')
})
