import test from 'ava'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { hasIdentity, initIdentity, loadIdentity, addFriend, generateKeyPair, saveRoster, IdentityError } from '../../src/identity/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('init writes every secret with mode 0600 in a 0700 folder, and loads back', async (t) => {
  const home = await tempDir(t)
  const id = await initIdentity(home, { name: 'laptop' })
  t.true(await hasIdentity(home))
  const dir = join(home, 'identity')
  t.is((await stat(dir)).mode & 0o777, 0o700)
  for (const f of ['device.key', 'owner.key', 'recovery-phrase', 'circle.secret', 'backup.key', 'device.cert', 'roster']) {
    t.is((await stat(join(dir, f))).mode & 0o777, 0o600, f)
  }
  const loaded = await loadIdentity(home)
  t.deepEqual(Buffer.from(loaded.device.publicKey), Buffer.from(id.device.publicKey))
  t.is(loaded.certificate.role, 'admin')
  t.is(loaded.phrase, id.phrase)
  t.is(loaded.roster.devices.length, 1)
})

test('init refuses to overwrite an identity unless forced', async (t) => {
  const home = await tempDir(t)
  const first = await initIdentity(home, { name: 'laptop' })
  await t.throwsAsync(initIdentity(home), { instanceOf: IdentityError, message: /already has an identity \(device "laptop"\)/ })
  t.deepEqual(Buffer.from((await loadIdentity(home)).device.publicKey), Buffer.from(first.device.publicKey))
  const second = await initIdentity(home, { force: true, name: 'laptop2' })
  t.notDeepEqual(Buffer.from(second.certificate.owner), Buffer.from(first.certificate.owner))
})

test('recovering from the phrase rebuilds the same owner and secrets with a new device key', async (t) => {
  const a = await initIdentity(await tempDir(t), { name: 'home-pc' })
  const b = await initIdentity(await tempDir(t), { name: 'new-laptop', recoverPhrase: a.phrase })
  t.deepEqual(Buffer.from(b.certificate.owner), Buffer.from(a.certificate.owner))
  t.deepEqual(Buffer.from(b.circleSecret), Buffer.from(a.circleSecret))
  t.deepEqual(Buffer.from(b.backupKey!), Buffer.from(a.backupKey!))
  t.notDeepEqual(Buffer.from(b.device.publicKey), Buffer.from(a.device.publicKey))
  t.is(b.certificate.role, 'admin')
})

test('roster edits are saved signed and only newer rosters replace older ones', async (t) => {
  const home = await tempDir(t)
  const id = await initIdentity(home)
  const next = addFriend(id.roster, generateKeyPair().publicKey, 'Ana')
  await saveRoster(id, next)
  const loaded = await loadIdentity(home)
  t.is(loaded.roster.seq, 2)
  t.is(loaded.roster.friends[0]!.name, 'Ana')
  await t.throwsAsync(saveRoster(loaded, id.roster), { message: /older roster/ })
  const { owner: _owner, ...member } = loaded
  await t.throwsAsync(saveRoster(member, addFriend(loaded.roster, generateKeyPair().publicKey, 'Bo')), { message: /admin device/ })
})

test('a home without identity gives a clear error', async (t) => {
  await t.throwsAsync(loadIdentity(await tempDir(t)), { message: /run "djcloud init" first/ })
})
