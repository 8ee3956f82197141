// A collaborator device's signed edits of a friend's playlist: what the
// owner's devices (and the collaborator's other devices) take in, and the
// attacks they refuse before the merge sees anything.
import test, { type ExecutionContext } from 'ava'
import { addFriend, generateKeyPair, revokeDevice, type Roster } from '../../src/identity/index.ts'
import { decodeGuestEdits, encodeGuestEdits } from '../../src/manifest/collab-manifest.ts'
import { ManifestError, type ManifestErrorCode } from '../../src/manifest/errors.ts'
import { addTracks, emptyEdits, mergePlaylist, setShare } from '../../src/manifest/playlist-doc.ts'
import { makeCircle, makeDevice } from '../helpers/circle.ts'
import { NOW, signRaw, unsignedOf } from './helpers.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha = (n: number) => n.toString(16).padStart(64, '0')

function circles() {
  const a = makeCircle(['a-laptop', 'a-phone'])
  const b = makeCircle(['b-laptop', 'b-phone'])
  const A = hex(a.owner.publicKey)
  const aRoster = addFriend(a.roster, b.owner.publicKey, 'B')
  const bRoster = addFriend(b.roster, a.owner.publicKey, 'A')
  const bDev = b.devices[0]!
  const device = hex(bDev.key.publicKey)
  const edits = addTracks(emptyEdits(), mergePlaylist(new Map()), device, [{ sha256: sha(11) }])
  const bytes = encodeGuestEdits({ owner: A, name: 'b2b', seq: 3, created: NOW, edits }, bDev.credentials, device)
  return { a, b, A, aRoster, bRoster, bDev, device, edits, bytes }
}

function refused(t: ExecutionContext, f: () => unknown, code: ManifestErrorCode, msg?: RegExp) {
  const err = t.throws(f, { instanceOf: ManifestError })
  t.is(err?.code, code)
  if (msg) t.regex(err!.message, msg)
}

test('the owner\'s devices and the collaborator\'s own devices take in a collaborator device\'s edits', (t) => {
  const c = circles()
  for (const roster of [c.aRoster, c.bRoster]) {
    const got = decodeGuestEdits(c.bytes, { roster, now: NOW }, c.A, 'b2b')
    t.is(got.device, c.device)
    t.is(got.owner, hex(c.b.owner.publicKey))
    t.is(got.seq, 3)
    t.deepEqual(got.edits, c.edits)
  }
})

test('a forged, replayed, misnamed or stranger\'s edit set is refused', (t) => {
  const c = circles()
  const ctx = { roster: c.aRoster, now: NOW }
  // Forged: the body changed after signing.
  const forged = Buffer.from(c.bytes)
  const at = forged.indexOf(Buffer.from(sha(11)))
  forged[at] = forged[at]! ^ 1
  refused(t, () => decodeGuestEdits(forged, ctx, c.A, 'b2b'), 'ERR_BAD_SIGNATURE')
  // Replayed: a seq at or below the one seen.
  refused(t, () => decodeGuestEdits(c.bytes, { ...ctx, known: () => 3 }, c.A, 'b2b'), 'ERR_REPLAY')
  // Another playlist's edits offered as this one's.
  refused(t, () => decodeGuestEdits(c.bytes, ctx, c.A, 'other'), 'ERR_MISMATCH')
  // A device of someone who is no friend of ours.
  refused(t, () => decodeGuestEdits(c.bytes, { roster: c.a.roster, now: NOW }, c.A, 'b2b'), 'ERR_UNTRUSTED_SIGNER')
  // A device whose certificate claims B's owner but B's owner never signed it.
  const stranger = makeDevice(generateKeyPair(), 'x')
  const unsigned = unsignedOf(c.bytes)
  refused(t, () => decodeGuestEdits(signRaw({ ...unsigned, cert: stranger.credentials.certificate } as never, c.bDev.key.seed), ctx, c.A, 'b2b'), 'ERR_UNTRUSTED_SIGNER')
})

test('a revoked device of the collaborator is refused, as its owner\'s roster says', (t) => {
  const c = circles()
  const bRevoked: Roster = revokeDevice(c.bRoster, c.bDev.key.publicKey)
  // At the collaborator's own devices: their roster.
  refused(t, () => decodeGuestEdits(c.bytes, { roster: bRevoked, now: NOW }, c.A, 'b2b'), 'ERR_REVOKED')
  // At the owner's devices: B's followed roster (friendRevoked).
  const friendRevoked = (owner: Uint8Array, device: Uint8Array) => hex(owner) === hex(c.b.owner.publicKey) && hex(device) === c.device
  refused(t, () => decodeGuestEdits(c.bytes, { roster: c.aRoster, now: NOW, friendRevoked }, c.A, 'b2b'), 'ERR_REVOKED')
})

test('a collaborator\'s set that shares the playlist, or edits in another device\'s name, is refused', (t) => {
  const c = circles()
  const shared = setShare(c.edits, mergePlaylist(new Map()), sha(0xc0), true)
  t.throws(() => encodeGuestEdits({ owner: c.A, name: 'b2b', seq: 4, created: NOW, edits: shared }, c.bDev.credentials, c.device), { instanceOf: ManifestError, message: /cannot share/ })
  const other = hex(c.b.devices[1]!.key.publicKey)
  const theirs = addTracks(emptyEdits(), mergePlaylist(new Map()), other, [{ sha256: sha(12) }])
  t.throws(() => encodeGuestEdits({ owner: c.A, name: 'b2b', seq: 4, created: NOW, edits: theirs }, c.bDev.credentials, c.device), { message: /not in the signing device's name/ })
  // The owner's own devices do not publish as collaborators.
  const aDev = c.a.devices[0]!
  const own = encodeGuestEdits({ owner: c.A, name: 'b2b', seq: 1, created: NOW, edits: emptyEdits() }, aDev.credentials, hex(aDev.key.publicKey))
  refused(t, () => decodeGuestEdits(own, { roster: c.aRoster, now: NOW }, c.A, 'b2b'), 'ERR_FORBIDDEN')
})
