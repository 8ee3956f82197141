// The pairing protocol in-process, over real TCP on 127.0.0.1.
import test, { type ExecutionContext } from 'ava'
import { createConnection, createServer, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { access, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  decodePairingCode, encodePairingCode, generateKeyPair, initIdentity, joinWithCode, loadIdentity, PairingError,
  saveJoinedIdentity, shortId, startPairingHost, IdentityError,
  type Identity, type PairingHostOptions, type PairingPeer, type PairingWarning,
} from '../../src/identity/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { pickEviction } from '../../src/identity/pairing.ts'
import { encode } from '../../src/codec/index.ts'

async function admin(t: ExecutionContext, name = 'home-pc'): Promise<Identity> {
  return initIdentity(await tempDir(t), { name })
}

async function host(t: ExecutionContext, opts: Partial<PairingHostOptions> & { identity: Identity }) {
  const warnings: PairingWarning[] = []
  const peers: PairingPeer[] = []
  const h = await startPairingHost({
    listen: '127.0.0.1',
    port: 0,
    ttlMs: 60_000,
    onWarning: (w) => warnings.push(w),
    onFingerprint: (p) => peers.push(p),
    ...opts,
  })
  t.teardown(() => h.close())
  return { h, warnings, peers }
}

/** The same code with another secret: what a wrong (but well-formed) code looks like. */
function withWrongSecret(code: string): string {
  const c = decodePairingCode(code)
  return encodePairingCode({ ...c, secret: c.secret.map((b) => b ^ 0xff) })
}

const exists = (p: string) => access(p).then(() => true, () => false)

async function errorOf(p: Promise<unknown>): Promise<PairingError> {
  try {
    await p
  } catch (err) {
    return err as PairingError
  }
  throw new Error('expected a rejection')
}

test('a new device joins: member certificate, roster and circle secret, never the owner key', async (t) => {
  const id = await admin(t)
  const { h, peers } = await host(t, { identity: id })
  t.is(h.address, `127.0.0.1:${h.listening.port}`)
  t.is(h.fingerprint, shortId(id.device.publicKey))
  const code = decodePairingCode(h.code)
  t.deepEqual(Buffer.from(code.deviceKey), Buffer.from(id.device.publicKey))
  t.true(code.secret.length >= 16)

  const shown: string[] = []
  const joined = await joinWithCode(h.code, { name: 'phone', onFingerprint: (p) => shown.push(p.fingerprint) })
  const result = await h.done

  // Both screens show the other's fingerprint.
  t.deepEqual(shown, [h.fingerprint])
  t.is(joined.hostFingerprint, h.fingerprint)
  t.is(joined.hostName, 'home-pc')
  t.is(peers.length, 1)
  t.is(peers[0]!.fingerprint, shortId(joined.device.publicKey))
  t.is(peers[0]!.name, 'phone')
  t.is(result.fingerprint, shortId(joined.device.publicKey))

  const home = await tempDir(t)
  await saveJoinedIdentity(home, joined)
  const member = await loadIdentity(home)
  t.is(member.certificate.role, 'member')
  t.is(member.certificate.name, 'phone')
  t.deepEqual(Buffer.from(member.certificate.owner), Buffer.from(id.certificate.owner))
  t.deepEqual(Buffer.from(member.circleSecret), Buffer.from(id.circleSecret))
  t.deepEqual(Buffer.from(member.device.publicKey), Buffer.from(joined.device.publicKey))
  t.is(member.owner, undefined)
  t.is(member.backupKey, undefined)
  t.is(member.phrase, undefined)
  const dir = join(home, 'identity')
  t.deepEqual((await readdir(dir)).sort(), ['circle.secret', 'device.cert', 'device.key', 'roster'])
  for (const f of ['owner.key', 'backup.key', 'recovery-phrase']) t.false(await exists(join(dir, f)), f)
  t.is((await stat(dir)).mode & 0o777, 0o700)
  for (const f of await readdir(dir)) t.is((await stat(join(dir, f))).mode & 0o777, 0o600, f)
  t.is(member.roster.seq, id.roster.seq + 1)

  // The admin's stored roster lists the new device, one version later.
  const after = await loadIdentity(id.home)
  t.is(after.roster.seq, id.roster.seq + 1)
  t.deepEqual(
    after.roster.devices.map((c) => [c.name, c.role]),
    [['home-pc', 'admin'], ['phone', 'member']],
  )
  t.is(result.identity.roster.seq, after.roster.seq)

  // A member cannot pair others, and the joined home is not overwritten by accident.
  await t.throwsAsync(startPairingHost({ identity: member, listen: '127.0.0.1' }), { instanceOf: IdentityError, message: /admin device/ })
  await t.throwsAsync(saveJoinedIdentity(home, joined), { message: /already has an identity \(device "phone"\)/ })
})

test('a wrong code is refused with the attempts left, and the right one still works', async (t) => {
  const id = await admin(t)
  const { h, warnings } = await host(t, { identity: id })
  const wrong = await errorOf(joinWithCode(withWrongSecret(h.code), { name: 'intruder' }))
  t.is(wrong.code, 'ERR_PAIRING_WRONG_SECRET')
  t.regex(wrong.message, /wrong pairing secret \(2 attempts left\)/)
  t.is(warnings.length, 1)
  const joined = await joinWithCode(h.code, { name: 'laptop' })
  t.is(joined.certificate.name, 'laptop')
  t.is((await h.done).name, 'laptop')
  t.deepEqual((await loadIdentity(id.home)).roster.devices.map((c) => c.name), ['home-pc', 'laptop'])
})

test('too many wrong attempts burn the code: the host stops and the right code no longer works', async (t) => {
  const id = await admin(t)
  const { h } = await host(t, { identity: id, maxAttempts: 3 })
  const wrong = withWrongSecret(h.code)
  t.is((await errorOf(joinWithCode(wrong, { name: 'x' }))).code, 'ERR_PAIRING_WRONG_SECRET')
  t.is((await errorOf(joinWithCode(wrong, { name: 'x' }))).code, 'ERR_PAIRING_WRONG_SECRET')
  const third = await errorOf(joinWithCode(wrong, { name: 'x' }))
  t.is(third.code, 'ERR_PAIRING_ATTEMPTS')
  t.regex(third.message, /burned/)
  const hostErr = await errorOf(h.done)
  t.is(hostErr.code, 'ERR_PAIRING_ATTEMPTS')
  t.regex(hostErr.message, /3 wrong pairing attempts/)
  const late = await errorOf(joinWithCode(h.code, { name: 'phone' }))
  t.is(late.code, 'ERR_PAIRING_UNREACHABLE')
  t.is((await loadIdentity(id.home)).roster.seq, id.roster.seq)
})

test('a code is single use: once a device joined, the same code fails cleanly', async (t) => {
  const id = await admin(t)
  const { h } = await host(t, { identity: id })
  await joinWithCode(h.code, { name: 'phone' })
  await h.done
  const again = await errorOf(joinWithCode(h.code, { name: 'tablet' }))
  t.is(again.code, 'ERR_PAIRING_UNREACHABLE')
  t.regex(again.message, /could not reach the pairing device at 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*expired or been used/)
  const after = await loadIdentity(id.home)
  t.is(after.roster.seq, id.roster.seq + 1)
  t.deepEqual(after.roster.devices.map((c) => c.name), ['home-pc', 'phone'])
})

test('an expired code fails cleanly on both sides', async (t) => {
  const id = await admin(t)
  const { h } = await host(t, { identity: id, ttlMs: 300 })
  const hostErr = await errorOf(h.done)
  t.is(hostErr.code, 'ERR_PAIRING_EXPIRED')
  t.regex(hostErr.message, /expired/)
  const late = await errorOf(joinWithCode(h.code, { name: 'phone' }))
  t.is(late.code, 'ERR_PAIRING_UNREACHABLE')
  t.regex(late.message, /expired/)
  t.is((await loadIdentity(id.home)).roster.seq, id.roster.seq)
})

test('a device that is not the one in the code is refused before anything is sent (man in the middle)', async (t) => {
  const real = await admin(t, 'real-admin')
  const other = await admin(t, 'other-admin')
  // 1. Another djcloud device answers at the code's address.
  const { h: otherHost } = await host(t, { identity: other })
  const realCode = decodePairingCode((await host(t, { identity: real })).h.code)
  const redirected = encodePairingCode({ ...decodePairingCode(otherHost.code), deviceKey: realCode.deviceKey })
  const mismatch = await errorOf(joinWithCode(redirected, { name: 'phone' }))
  t.is(mismatch.code, 'ERR_PAIRING_HOST_MISMATCH')
  t.regex(mismatch.message, /not the one that showed this code/)

  // 2. Someone who saw the code (so knows the secret) claims the real admin's key but cannot sign with it.
  const impostorIdentity: Identity = { ...other, device: { seed: other.device.seed, publicKey: real.device.publicKey } }
  const { h: impostor } = await host(t, { identity: impostorIdentity })
  const mitm = await errorOf(joinWithCode(impostor.code, { name: 'phone' }))
  t.is(mitm.code, 'ERR_PAIRING_HOST_MISMATCH')
  t.regex(mitm.message, /could not prove it holds the device key/)
  t.is((await errorOf(impostor.done)).code, 'ERR_PAIRING_PROTOCOL')
  t.is((await loadIdentity(other.home)).roster.seq, 1)
})

test('a silent client cannot hold the listener, an oversized frame is dropped, and a real join still works', async (t) => {
  const id = await admin(t)
  const { h, warnings } = await host(t, { identity: id, handshakeTimeoutMs: 400 })
  // resume(): an unread socket never sees the end of the stream, so never closes.
  const closed = (s: Socket) => new Promise<void>((resolve) => s.resume().on('close', () => resolve()).on('error', () => {}))
  const silent = createConnection({ host: '127.0.0.1', port: h.listening.port })
  const silentClosed = closed(silent)
  const greedy = createConnection({ host: '127.0.0.1', port: h.listening.port })
  greedy.on('connect', () => greedy.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])))
  await closed(greedy)
  const started = Date.now()
  await silentClosed
  t.true(Date.now() - started < 2_000)
  t.true(warnings.some((w) => /over the \d+-byte limit/.test(w.reason)))
  t.true(warnings.some((w) => /did not finish within 400 ms/.test(w.reason)))
  // A client that connected and says nothing does not block a real join meanwhile. (Another host,
  // with long deadlines: 400 ms is too short for a real join on a loaded machine, and the join
  // must not need the silent client dropped.)
  const { h: h2 } = await host(t, { identity: id, handshakeTimeoutMs: 60_000, helloTimeoutMs: 60_000 })
  const holder = createConnection({ host: '127.0.0.1', port: h2.listening.port })
  let holderOpen = true
  closed(holder).then(() => (holderOpen = false))
  await new Promise((resolve) => holder.on('connect', resolve))
  await joinWithCode(h2.code, { name: 'phone' })
  t.is((await h2.done).name, 'phone')
  t.true(holderOpen, 'the join went through while the silent client was still connected')
  holder.destroy()
})

test('twelve silent connections and three stalled after hello do not block a real join', async (t) => {
  const id = await admin(t)
  // Long deadlines: what makes room for the joiner must be eviction, not a timer.
  const { h, warnings } = await host(t, { identity: id, handshakeTimeoutMs: 60_000, helloTimeoutMs: 60_000 })
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port: h.listening.port })
      s.on('error', () => {}).resume()
      s.once('connect', () => resolve(s)).once('error', reject)
      t.teardown(() => void s.destroy())
    })
  const silent: Socket[] = []
  for (let i = 0; i < 12; i++) silent.push(await open())
  const hello = encode({ e: randomBytes(32), t: 'hello', v: 1 })
  const header = Buffer.alloc(4)
  header.writeUInt32BE(hello.length)
  for (let i = 0; i < 3; i++) (await open()).write(Buffer.concat([header, hello]))
  const joined = await joinWithCode(h.code, { name: 'phone', timeoutMs: 10_000 })
  t.is(joined.certificate.name, 'phone')
  t.is((await h.done).name, 'phone')
  t.true(warnings.some((w) => /evicted for a newer connection/.test(w.reason)))
})

test('a connection that sends nothing is dropped at the hello deadline, well before the handshake deadline', async (t) => {
  const id = await admin(t)
  const { h, warnings } = await host(t, { identity: id, handshakeTimeoutMs: 60_000, helloTimeoutMs: 200 })
  const silent = createConnection({ host: '127.0.0.1', port: h.listening.port })
  await new Promise<void>((resolve) => silent.resume().on('close', () => resolve()).on('error', () => {}))
  t.true(warnings.some((w) => /no hello within 200 ms/.test(w.reason)))
  t.is((await joinWithCode(h.code, { name: 'phone' })).certificate.name, 'phone')
})

test('close() cancels a pending pairing; the joiner gives up on a silent host and on abort', async (t) => {
  const id = await admin(t)
  const { h } = await host(t, { identity: id })
  await h.close()
  t.is((await errorOf(h.done)).code, 'ERR_PAIRING_ABORTED')
  await h.close() // idempotent

  // A listener that accepts and never speaks.
  const sockets: Socket[] = []
  const mute = createServer((s) => sockets.push(s))
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    mute.close()
  })
  const port = (mute.address() as { port: number }).port
  const code = encodePairingCode({ ...decodePairingCode(h.code), host: '127.0.0.1', port })
  t.is((await errorOf(joinWithCode(code, { name: 'phone', timeoutMs: 300 }))).code, 'ERR_PAIRING_TIMEOUT')
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 100)
  t.is((await errorOf(joinWithCode(code, { name: 'phone', signal: ac.signal }))).code, 'ERR_PAIRING_ABORTED')
  t.is((await errorOf(joinWithCode(code, { name: ' ' }))).code, 'ERR_PAIRING_BAD_NAME')
})

test('a revoked device key is refused by the admin, with the reason', async (t) => {
  const id = await admin(t)
  const device = generateKeyPair()
  const first = await host(t, { identity: id })
  await joinWithCode(first.h.code, { name: 'old-phone', device })
  await first.h.done
  const { revokeDevice, saveRoster } = await import('../../src/identity/index.ts')
  const current = await loadIdentity(id.home)
  await saveRoster(current, revokeDevice(current.roster, device.publicKey))
  const { h } = await host(t, { identity: await loadIdentity(id.home) })
  const refused = await errorOf(joinWithCode(h.code, { name: 'old-phone', device }))
  t.is(refused.code, 'ERR_PAIRING_REFUSED')
  t.regex(refused.message, /revoked/)
  t.is((await errorOf(h.done)).code, 'ERR_PAIRING_REFUSED')
})

test('eviction order when the pending cap is reached: silent first, then the most crowded address, then the oldest', (t) => {
  const c = (ip: string, opened: number, heard: boolean) => ({ ip, opened, heard })
  // A silent connection goes before any that said hello, however old.
  t.deepEqual(pickEviction([c('10.0.0.1', 0, true), c('10.0.0.2', 5, false)]), c('10.0.0.2', 5, false))
  // Among silent ones: the address holding the most connections, then the oldest of it.
  const flood = [c('10.0.0.9', 3, false), c('10.0.0.9', 2, false), c('10.0.0.1', 0, false)]
  t.deepEqual(pickEviction(flood), c('10.0.0.9', 2, false))
  // Same crowd: the oldest.
  t.deepEqual(pickEviction([c('10.0.0.1', 7, true), c('10.0.0.2', 4, true)]), c('10.0.0.2', 4, true))
  t.is(pickEviction([]), undefined)
})
