import test from 'ava'
import {
  addFriend, classifyCertificate, encodeCertificate, generateKeyPair, issueCertificate, newRoster, revokeDevice, addDevice,
} from '../../src/identity/index.ts'

function setup() {
  const owner = generateKeyPair()
  const mine = issueCertificate(owner.seed, { owner: owner.publicKey, device: generateKeyPair().publicKey, name: 'laptop', role: 'admin', created: 1 })
  const friendOwner = generateKeyPair()
  const theirs = issueCertificate(friendOwner.seed, { owner: friendOwner.publicKey, device: generateKeyPair().publicKey, name: 'ana-pc', role: 'admin', created: 1 })
  const roster = addFriend(newRoster(owner.publicKey, mine), friendOwner.publicKey, 'Ana')
  return { owner, mine, theirs, roster }
}

test('own devices, friends\' devices and strangers are told apart by signature', (t) => {
  const { owner, mine, theirs, roster } = setup()
  t.like(classifyCertificate(roster, encodeCertificate(mine)), { trusted: true, kind: 'own' })
  t.like(classifyCertificate(roster, encodeCertificate(theirs)), { trusted: true, kind: 'friend' })
  const stranger = generateKeyPair()
  const strangerCert = issueCertificate(stranger.seed, { owner: stranger.publicKey, device: generateKeyPair().publicKey, name: 'x', role: 'admin', created: 1 })
  t.like(classifyCertificate(roster, encodeCertificate(strangerCert)), { trusted: false, reason: 'unknown-owner' })
  // a certificate claiming our owner but signed by someone else
  const forged = { ...strangerCert, owner: owner.publicKey }
  t.like(classifyCertificate(roster, encodeCertificate(forged)), { trusted: false, reason: 'bad-certificate' })
  t.like(classifyCertificate(roster, Buffer.from('garbage')), { trusted: false, reason: 'bad-certificate' })
})

test('a revoked own device is refused', (t) => {
  const { owner, roster } = setup()
  const phone = issueCertificate(owner.seed, { owner: owner.publicKey, device: generateKeyPair().publicKey, name: 'phone', role: 'member', created: 2 })
  const revoked = revokeDevice(addDevice(roster, phone), phone.device)
  t.like(classifyCertificate(revoked, encodeCertificate(phone)), { trusted: false, reason: 'revoked' })
})
