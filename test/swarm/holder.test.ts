// The 'holder' peer kind: a restoring device knows no friends yet, so it may
// accept, on a dial it makes, a device of an owner its roster does not know
// (what it fetches is checked by the owner signature). Only when it asks for
// it, and only on the dialling side.
import test, { type ExecutionContext } from 'ava'
import { createServer, connect, type Server } from 'node:net'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { addFriend } from '../../src/identity/index.ts'
import { authenticate, type PeerSession } from '../../src/swarm/index.ts'
import { makeCircle } from '../helpers/circle.ts'

async function listen(t: ExecutionContext, onSession: (s: Promise<PeerSession>) => void, opts: Parameters<typeof authenticate>[1]): Promise<number> {
  const server: Server = createServer((sock) => onSession(authenticate(sock, opts)))
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
  const dial = (trustAnyOwner: boolean) => {
    const sock = connect(port, '127.0.0.1')
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
  const sock = connect(strangerPort, '127.0.0.1')
  t.teardown(() => void sock.destroy())
  const out = authenticate(sock, { credentials: friend.devices[0]!.credentials, roster: () => friendRoster, infoHash, remote: { host: '127.0.0.1', port: strangerPort }, allow: () => true })
  await t.throwsAsync(out)
  await t.throwsAsync(sessions.at(-1)!, { message: /unknown-owner/ })
})
