// The signed pull request, checked as the target checks it: every refusal.
import test from 'ava'
import { encode } from '../../src/codec/index.ts'
import { revokeDevice, signBytes } from '../../src/identity/index.ts'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import {
  checkPullRequest, encodeSigned, NonceBook, PULL_NONCES_FILE, pullNoncesPath, RequestRefused, signPullRequest, PULL_REQUEST_TTL,
} from '../../src/node/pull-request.ts'
import { makeCircle, makeDevice } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'

const circle = makeCircle(['laptop', 'home-pc', 'phone'])
const [laptop, homePc, phone] = circle.devices as [typeof circle.devices[0], typeof circle.devices[0], typeof circle.devices[0]]
const keys = (d: typeof laptop) => ({ seed: d.key.seed, publicKey: d.key.publicKey })

const ctx = (over: Partial<Parameters<typeof checkPullRequest>[1]> = {}) => ({
  roster: circle.roster,
  self: laptop.key.publicKey,
  sender: homePc.key.publicKey,
  nonces: new NonceBook(),
  ...over,
})

function refusal(wire: Uint8Array, c = ctx()): string {
  try {
    checkPullRequest(wire, c)
  } catch (err) {
    if (err instanceof RequestRefused) return err.reason
    throw err
  }
  return 'accepted'
}

/** A request signed by `signer` (its fields overridable), as the wire carries it. */
function craft(signer: { seed: Uint8Array; publicKey: Uint8Array }, fields: Record<string, unknown> = {}, sign = true): Uint8Array {
  const req = encode({
    type: 'djcloud-device-request', v: 1, kind: 'pull', playlist: 'Friday', nonce: Buffer.alloc(16, 7),
    expires: Date.now() + 30_000, from: signer.publicKey, to: laptop.key.publicKey, ...fields,
  } as Parameters<typeof encode>[0])
  return encodeSigned({ req, ...(sign ? { sig: signBytes(signer.seed, req) } : {}) })
}

test('a request signed by the sending own device, for this device, is accepted once', (t) => {
  const { request, wire } = signPullRequest(keys(homePc), laptop.key.publicKey, 'Friday')
  const c = ctx()
  const r = checkPullRequest(wire, c)
  t.is(r.playlist, 'Friday')
  t.is(r.expires, request.expires)
  t.true(r.expires - Date.now() <= PULL_REQUEST_TTL)
  t.is(c.nonces.size, 1)
  t.is(refusal(wire, c), 'replayed request')
})

test('refusals: unsigned, bad signature, foreign signer, revoked, replayed, expired, and more', (t) => {
  t.is(refusal(craft(keys(homePc), {}, false)), 'unsigned request')
  // signed by the phone but claiming to be from the home PC
  const req = encode({ type: 'djcloud-device-request', v: 1, kind: 'pull', playlist: 'Friday', nonce: Buffer.alloc(16, 7), expires: Date.now() + 30_000, from: homePc.key.publicKey, to: laptop.key.publicKey })
  t.is(refusal(encodeSigned({ req, sig: signBytes(phone.key.seed, req) })), 'bad signature')
  // a device of another owner (a friend's, say), sending on its own link
  const stranger = makeDevice(makeCircle(['x']).owner, 'friend-laptop')
  t.is(refusal(craft(keys(stranger)), ctx({ sender: stranger.key.publicKey })), 'foreign signer')
  // the home PC revoked
  t.is(refusal(craft(keys(homePc)), ctx({ roster: revokeDevice(circle.roster, homePc.key.publicKey) })), 'revoked signer')
  t.is(refusal(craft(keys(homePc), { expires: Date.now() - 1 })), 'expired request')
  t.is(refusal(craft(keys(homePc), { expires: Date.now() + 3_600_000 })), 'expiry too far ahead')
  t.is(refusal(craft(keys(homePc), { to: phone.key.publicKey })), 'not for this device')
  // a valid request of the phone's, relayed by the home PC
  t.is(refusal(craft(keys(phone))), 'signer is not the sending device')
  t.is(refusal(craft(keys(homePc), { kind: 'delete' })), 'malformed request')
  t.is(refusal(Buffer.from('garbage')), 'malformed request')
  // replayed: the same nonce twice, even in a freshly signed request
  const c = ctx()
  t.is(refusal(craft(keys(homePc)), c), 'accepted')
  t.is(refusal(craft(keys(homePc), { expires: Date.now() + 40_000 }), c), 'replayed request')
})

test('nonces are forgotten once their requests expired', (t) => {
  const book = new NonceBook()
  const now = Date.now()
  book.use(Buffer.alloc(16, 1), now + 1_000, now)
  t.throws(() => book.use(Buffer.alloc(16, 1), now + 1_000, now + 500), { instanceOf: RequestRefused, message: 'replayed request' })
  book.use(Buffer.alloc(16, 2), now + 10_000, now + 2_000)
  t.is(book.size, 1)
})

test('accepted nonces outlive a restart: the book re-opened from the same home refuses the replay', async (t) => {
  const home = await tempDir(t)
  const file = pullNoncesPath(home)
  const { wire } = signPullRequest(keys(homePc), laptop.key.publicKey, 'Friday')
  const first = await NonceBook.open(file)
  t.is(checkPullRequest(wire, ctx({ nonces: first })).playlist, 'Friday')
  await first.save()
  t.is((await stat(file)).mode & 0o777, 0o600)
  // The target restarts within the request's lifetime.
  const reopened = await NonceBook.open(file)
  t.is(reopened.size, 1)
  t.is(refusal(wire, ctx({ nonces: reopened })), 'replayed request')
  // Another request still goes through, and is kept too.
  const other = signPullRequest(keys(homePc), laptop.key.publicKey, 'Saturday')
  t.is(checkPullRequest(other.wire, ctx({ nonces: reopened })).playlist, 'Saturday')
  await reopened.save()
  t.is((await NonceBook.open(file)).size, 2)
  // Expired nonces are not carried over a restart, and are pruned from the file on the next save.
  const later = Date.now() + PULL_REQUEST_TTL + 1
  const pruned = await NonceBook.open(file, { now: later })
  t.is(pruned.size, 0)
  pruned.use(Buffer.alloc(16, 9), later + 1_000, later)
  await pruned.save()
  t.deepEqual(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { nonces: object }).nonces), ['09'.repeat(16)])
  t.deepEqual((await readdir(home)).sort(), [PULL_NONCES_FILE], 'no temp files left')
})

test('a nonce file that is not a book is set aside with a warning, and the book starts empty', async (t) => {
  const home = await tempDir(t)
  const file = pullNoncesPath(home)
  for (const bad of ['not json', '{"v":2,"nonces":{}}', `{"v":1,"nonces":{"zz":1}}`]) {
    await writeFile(file, bad)
    const warnings: Error[] = []
    const book = await NonceBook.open(file, { onBad: (e) => warnings.push(e) })
    t.is(book.size, 0, bad)
    t.regex(warnings[0]?.message ?? '', /is not a nonce book/, bad)
    t.is(await readFile(`${file}.bad`, 'utf8'), bad)
  }
})
