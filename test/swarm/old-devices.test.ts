// Issue 13: devices of versions before encrypted links are refused with a
// clear reason, not a hang, whichever side dials. The older device is played
// by what it ran: this wire (BEP 3 + BEP 10 in clear) on a plain socket.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { dialLink, LinkError } from '../../src/link/index.ts'
import { Wire } from '../../src/swarm/protocol/wire.ts'
import { newPeerId } from '../../src/swarm/protocol/peer-id.ts'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { listening, refusals } from '../helpers/link.ts'



test('a device of a version before encrypted links dialling in is refused at once with a reason naming it, and gets no byte back', async (t) => {
  const c = makeCircle(['home', 'old-laptop'])
  const dir = await tempDir(t)
  const home = await startSwarm(t, c, 0, dir)
  const refused = refusals(home)
  // What an older device sends: the plaintext BitTorrent handshake of its wire, for the device channel.
  const sock = connect(home.port, '127.0.0.1')
  const got: Buffer[] = []
  sock.on('data', (d: Buffer) => got.push(d))
  sock.on('error', () => {})
  const wire = new Wire(sock, ['dj_auth'])
  const t0 = Date.now()
  wire.handshake(randomBytes(20), newPeerId())
  await once(sock, 'close')
  const took = Date.now() - t0
  t.true(took < 2_000, `the old device's connection closed after ${took} ms, not at a deadline`)
  t.is(Buffer.concat(got).length, 0, 'nothing came back: not a handshake, not an alert')
  const r = await until(async () => refused[0], 5_000)
  t.is(r.host, '127.0.0.1')
  t.regex(r.reason, /^not an encrypted link: a plaintext peer \(a djcloud device older than encrypted links/)
})

test('dialling a device of a version before encrypted links fails at once with a reason naming it', async (t) => {
  // An older device's listener: its wire reads our TLS ClientHello as a bad BitTorrent handshake and hangs up.
  const old = createServer((sock) => {
    sock.on('error', () => {})
    const w = new Wire(sock, ['dj_auth'])
    w.on('close', () => sock.destroy())
  })
  const port = await listening(t, old)
  const t0 = Date.now()
  const err = await t.throwsAsync(dialLink('127.0.0.1', port), { instanceOf: LinkError })
  t.regex(err!.message, /^peer 127\.0\.0\.1:\d+: the peer closed the link in the encrypted handshake \(a djcloud device older than encrypted links, or not djcloud\)$/)
  t.true(Date.now() - t0 < 2_000)
})
