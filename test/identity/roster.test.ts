import test from 'ava'
import {
  addDevice, addFriend, decodeCertificate, encodeCertificate, generateKeyPair, IdentityError, isRevoked, issueCertificate,
  newRoster, removeFriend, revokeDevice, signBytes, signRoster, verifyRoster, type DeviceCertificate, type KeyPair,
} from '../../src/identity/index.ts'
import { decode, encode, type BDict } from '../../src/codec/index.ts'

function circle() {
  const owner = generateKeyPair()
  const device = generateKeyPair()
  const cert = issueCertificate(owner.seed, { owner: owner.publicKey, device: device.publicKey, name: 'laptop', role: 'admin', created: 1 })
  return { owner, device, cert, roster: newRoster(owner.publicKey, cert) }
}

function certFor(owner: KeyPair, name = 'phone'): DeviceCertificate {
  return issueCertificate(owner.seed, { owner: owner.publicKey, device: generateKeyPair().publicKey, name, role: 'member', created: 2 })
}

test('a certificate verifies against its owner and nobody else', (t) => {
  const { owner, cert } = circle()
  const decoded = decodeCertificate(encodeCertificate(cert), owner.publicKey)
  t.is(decoded.name, 'laptop')
  t.is(decoded.role, 'admin')
  t.throws(() => decodeCertificate(encodeCertificate(cert), generateKeyPair().publicKey), { message: /another owner/ })
})

test('a certificate with a changed field or signed by another key is refused', (t) => {
  const { owner, cert } = circle()
  const tampered = decode(encodeCertificate(cert)) as BDict
  tampered.role = Buffer.from('admin ')
  t.throws(() => decodeCertificate(encode(tampered as never)), { instanceOf: IdentityError })
  const renamed = { ...(decode(encodeCertificate(cert)) as BDict), name: Buffer.from('evil') }
  t.throws(() => decodeCertificate(encode(renamed as never)), { message: /signature does not verify/ })
  const forger = generateKeyPair()
  const forged = issueCertificate(forger.seed, { ...cert, owner: forger.publicKey })
  t.throws(() => decodeCertificate(encodeCertificate(forged), owner.publicKey), { message: /another owner/ })
})

test('a roster round-trips through signing and verification', (t) => {
  const { owner, roster } = circle()
  let r = addFriend(roster, generateKeyPair().publicKey, 'Ana')
  r = addDevice(r, certFor(owner))
  r = { ...r, trackers: ['ws://127.0.0.1:8000'], bootstrap: ['127.0.0.1:6881'] }
  const back = verifyRoster(signRoster(r, owner.seed), owner.publicKey)
  t.is(back.seq, 3)
  t.is(back.devices.length, 2)
  t.is(back.friends[0]!.name, 'Ana')
  t.deepEqual(back.trackers, ['ws://127.0.0.1:8000'])
})

test('only the owner key can sign a roster, and a tampered roster is refused', (t) => {
  const { owner, roster } = circle()
  const outsider = generateKeyPair()
  t.throws(() => signRoster(roster, outsider.seed), { message: /not the roster owner/ })
  const signed = decode(signRoster(roster, owner.seed)) as BDict
  signed.seq = 99
  t.throws(() => verifyRoster(encode(signed as never)), { message: /signature does not verify/ })
  t.throws(() => verifyRoster(signRoster(roster, owner.seed), outsider.publicKey), { message: /another owner/ })
})

test('a roster listing a certificate of another owner is refused even if the roster signature is valid', (t) => {
  const { owner, roster } = circle()
  const other = generateKeyPair()
  const foreign = certFor(other)
  // Bypass the edit helpers: sign a raw body with the real owner key.
  const body = decode(signRoster(roster, owner.seed)) as BDict
  delete body.sig
  body.devices = [...(body.devices as Uint8Array[]), encodeCertificate(foreign)]
  const sig = signBytes(owner.seed, encode(body as never))
  t.throws(() => verifyRoster(encode({ ...body, sig } as never)), { instanceOf: IdentityError, message: /another owner/ })
})

test('revoking removes the device, lists its key, and it cannot come back', (t) => {
  const { owner, roster } = circle()
  const phone = certFor(owner)
  let r = addDevice(roster, phone)
  r = revokeDevice(r, phone.device)
  t.true(isRevoked(r, phone.device))
  t.is(r.devices.length, 1)
  t.throws(() => addDevice(r, phone), { message: /revoked/ })
  t.throws(() => revokeDevice(r, phone.device), { message: /already revoked/ })
  // a key never listed (a certificate issued but never recorded) can be revoked too
  const unlisted = generateKeyPair().publicKey
  t.true(isRevoked(revokeDevice(r, unlisted), unlisted))
})

test('friends are added once, never the owner itself, and removed by id', (t) => {
  const { owner, roster } = circle()
  const friend = generateKeyPair().publicKey
  const r = addFriend(roster, friend, 'Ana')
  t.throws(() => addFriend(r, friend, 'Ana again'), { message: /already trusted/ })
  t.throws(() => addFriend(r, owner.publicKey, 'me'), { message: /your own owner id/ })
  t.is(removeFriend(r, friend).friends.length, 0)
  t.throws(() => removeFriend(roster, friend), { message: /no such friend/ })
})

test('roster decoding enforces caps before trusting anything', (t) => {
  const { owner, roster } = circle()
  const friends = Array.from({ length: 257 }, (_, i) => ({ owner: generateKeyPair().publicKey, name: `f${i}`, added: 1 }))
  t.throws(() => signRoster({ ...roster, friends }, owner.seed), { message: /more than 256 friends/ })
  t.throws(() => verifyRoster(Buffer.alloc(300 * 1024, 0x64)), { instanceOf: IdentityError, message: /over the/ })
  t.throws(() => verifyRoster(Buffer.from('d4:type14:djcloud-roster')), { instanceOf: IdentityError })
})
