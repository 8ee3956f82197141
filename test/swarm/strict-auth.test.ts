// Strict decoding of dj_auth messages: one field more is refused (see
// test/strict-decoding.test.ts).
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { encode, type BInput } from '../../src/codec/index.ts'
import { encodeCertificate } from '../../src/identity/index.ts'
import { createAuthMessage, verifyAuthMessage } from '../../src/swarm/protocol/auth.ts'
import { codeOf, dict, strictCircle } from '../helpers/strict.ts'

const { circle, laptop, homePc } = strictCircle()

test('a dj_auth message with an extra field is refused as malformed', (t) => {
  const ih = randomBytes(20)
  const [a, b] = [randomBytes(20), randomBytes(20)]
  const binding = randomBytes(32)
  const msg = createAuthMessage({ deviceSeed: homePc.key.seed, certificate: encodeCertificate(homePc.certificate) }, ih, a, b, binding)
  const ctx = { roster: circle.roster, infoHash: ih, theirPeerId: a, myPeerId: b, binding }
  t.is(codeOf(() => verifyAuthMessage(msg, ctx)), 'accepted')
  t.is(codeOf(() => verifyAuthMessage(encode({ ...dict(msg), extra: 1 } as BInput), ctx)), 'malformed: peer authentication failed: malformed')
})

test('a proof made on another link (another channel binding) is refused: it cannot be replayed or relayed', (t) => {
  const ih = randomBytes(20)
  const [a, b] = [randomBytes(20), randomBytes(20)]
  const msg = createAuthMessage({ deviceSeed: homePc.key.seed, certificate: encodeCertificate(homePc.certificate) }, ih, a, b, randomBytes(32))
  t.is(codeOf(() => verifyAuthMessage(msg, { roster: circle.roster, infoHash: ih, theirPeerId: a, myPeerId: b, binding: randomBytes(32) })), 'bad-signature: peer authentication failed: bad-signature')
})
