// Friendship secrets: both owners compute the same K_AB; member devices open
// it from the roster entry an admin sealed; nobody else can.
import test from 'ava'
import {
  addFriend, friendSecret, friendSecrets, openFriendSecret, signRoster, verifyRoster, withFriendSecrets,
} from '../../src/identity/index.ts'
import { makeCircle } from '../helpers/circle.ts'

test('both owners compute one secret; a member device opens it from the signed roster; another circle cannot', (t) => {
  const alex = makeCircle(['alex-pc'])
  const fiona = makeCircle(['fiona-pc'])
  const gus = makeCircle(['gus-pc'])
  const k = friendSecret(alex.owner, fiona.owner.publicKey)
  t.deepEqual(Buffer.from(k), Buffer.from(friendSecret(fiona.owner, alex.owner.publicKey)))
  t.notDeepEqual(Buffer.from(k), Buffer.from(friendSecret(alex.owner, gus.owner.publicKey)))

  const added = addFriend(alex.roster, fiona.owner.publicKey, 'Fiona')
  t.is(added.friends[0]!.secret, undefined)
  const sealed = withFriendSecrets(added, alex.owner, alex.circleSecret)
  t.is(withFriendSecrets(sealed, alex.owner, alex.circleSecret), sealed) // nothing missing: unchanged
  // Through signing and verifying (what a member device receives), the sealed secret opens with the circle secret alone.
  const received = verifyRoster(signRoster(sealed, alex.owner.seed), alex.owner.publicKey)
  const member = friendSecrets({ roster: received, circleSecret: alex.circleSecret })
  t.deepEqual(Buffer.from(member.get(Buffer.from(fiona.owner.publicKey).toString('hex'))!), Buffer.from(k))
  // Another circle's secret, or the entry moved to another friend, opens nothing.
  t.is(friendSecrets({ roster: received, circleSecret: gus.circleSecret }).size, 0)
  t.is(openFriendSecret(alex.circleSecret, gus.owner.publicKey, received.friends[0]!.secret!), null)
  // A member device with no sealed entry yet has no secret with that friend (no channel, rather than a public one).
  t.is(friendSecrets({ roster: added, circleSecret: alex.circleSecret }).size, 0)
})
