// PlaySync over a device channel stand-in that connects two books: a notice
// makes the told device pull; pages follow until the end; a device that is
// not an own one (a friend's, a revoked one) gets nothing from the command.
import test from 'ava'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { generateKeyPair, type KeyPair } from '../../src/identity/index.ts'
import { PlayBook, PlaySync, PLAYS_COMMAND, type DeviceTrust, type PlayChannel } from '../../src/plays/index.ts'
import { CommandError, type CommandAnswer, type DeviceLink, type ManifestNotice } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SHA = (n: number) => n.toString(16).padStart(64, '0')

/** One end of a pair of channels: what it sends arrives at the other end as from `link`. */
class FakeChannel extends EventEmitter implements PlayChannel {
  other?: FakeChannel
  readonly handlers = new Map<string, (body: Uint8Array, link: DeviceLink) => Promise<CommandAnswer>>()
  asked = 0
  constructor(readonly link: DeviceLink) {
    super()
  }
  notify(n: ManifestNotice): void {
    this.other!.emit('notice', this.other!.peer, n)
  }
  get peer(): DeviceLink {
    return this.other!.link
  }
  onCommand(kind: string, h: ((body: Uint8Array, link: DeviceLink) => Promise<CommandAnswer>) | null): void {
    if (h) this.handlers.set(kind, h)
    else this.handlers.delete(kind)
  }
  async command(_link: DeviceLink, kind: string, body: Uint8Array): Promise<Uint8Array> {
    this.asked++
    const h = this.other!.handlers.get(kind)
    if (!h) throw new CommandError('ERR_REFUSED', `"${kind}" is not served here`)
    const a = await h(body, this.link)
    if ('refused' in a) throw new Error(a.refused)
    return a.body
  }
}

const linkOf = (k: KeyPair, name: string) => ({ name, device: hex(k.publicKey) }) as DeviceLink

function pair(a: KeyPair, b: KeyPair): [FakeChannel, FakeChannel] {
  const ca = new FakeChannel(linkOf(a, 'a'))
  const cb = new FakeChannel(linkOf(b, 'b'))
  ca.other = cb
  cb.other = ca
  return [ca, cb]
}

const trustOf = (own: KeyPair[]) => (d: string): DeviceTrust => (own.some((k) => hex(k.publicKey) === d) ? 'own' : 'stranger')

test('a notice makes the other own device pull every page; a play there is told back', async (t) => {
  const dir = await tempDir(t)
  const [a, b] = [generateKeyPair(), generateKeyPair()]
  const trust = trustOf([a, b])
  const [ca, cb] = pair(a, b)
  const la = await PlayBook.open({ path: join(dir, 'a.log'), device: a, trust })
  const lb = await PlayBook.open({ path: join(dir, 'b.log'), device: b, trust })
  // Many entries before the two link: more than one page.
  for (let i = 0; i < 600; i++) await la.record({ sha256: SHA(i % 7), at: i, source: 'a-rather-long-app-name-to-fill-pages' })
  const sa = new PlaySync({ book: la, channel: ca, trust })
  const sb = new PlaySync({ book: lb, channel: cb, trust })
  sa.start()
  sb.start()
  t.teardown(() => (sa.stop(), sb.stop()))
  cb.emit('link', ca.link) // b links to a
  await until(async () => (lb.plays().length === 600 ? true : undefined), 10_000, 20)
  t.true(cb.asked > 1)
  await lb.record({ sha256: SHA(99), at: 1_000, source: 'web' })
  await until(async () => (la.stats().get(SHA(99))?.count === 1 ? true : undefined), 10_000, 20)
  t.is(la.plays().length, 601)
})

test('a device that is not an own one is refused by the plays command and gets nothing', async (t) => {
  const dir = await tempDir(t)
  const [a, friend] = [generateKeyPair(), generateKeyPair()]
  const [ca] = pair(a, friend)
  const la = await PlayBook.open({ path: join(dir, 'a.log'), device: a, trust: trustOf([a]) })
  await la.record({ sha256: SHA(1), at: 1, source: 'web' })
  const sa = new PlaySync({ book: la, channel: ca, trust: trustOf([a]) })
  sa.start()
  t.teardown(() => sa.stop())
  const answer = await ca.handlers.get(PLAYS_COMMAND)!(Buffer.from('{}'), linkOf(friend, 'fiona-pc'))
  t.deepEqual(answer, { refused: 'not an own device' })
  const own = await ca.handlers.get(PLAYS_COMMAND)!(Buffer.from('{}'), linkOf(a, 'self'))
  t.true('body' in own && Buffer.from(own.body).toString().startsWith('end\n{'))
  // A malformed ask is refused too.
  t.deepEqual(await ca.handlers.get(PLAYS_COMMAND)!(Buffer.from('{"zz":1}'), linkOf(a, 'self')), { refused: 'malformed ask' })
})

test('an own device of a version without play history (the command not served) is passed over without a warning', async (t) => {
  const dir = await tempDir(t)
  const [a, old] = [generateKeyPair(), generateKeyPair()]
  const [ca] = pair(a, old)
  const la = await PlayBook.open({ path: join(dir, 'a.log'), device: a, trust: trustOf([a, old]) })
  const warnings: Error[] = []
  const sa = new PlaySync({ book: la, channel: ca, trust: trustOf([a, old]), onWarning: (e) => warnings.push(e) })
  sa.start()
  t.teardown(() => sa.stop())
  ca.emit('link', ca.peer)
  await until(async () => (ca.asked === 1 ? true : undefined), 10_000, 20)
  await new Promise((r) => setImmediate(r))
  t.deepEqual(warnings, [])
})
