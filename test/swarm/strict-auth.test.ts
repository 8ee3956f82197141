// Strict decoding of dj_auth messages: one field more is refused (see
// test/strict-decoding.test.ts).
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { asDict, decode, encode, type BDict, type BInput } from '../../src/codec/index.ts'
import { encodeCertificate } from '../../src/identity/index.ts'
import { createAuthMessage, verifyAuthMessage } from '../../src/swarm/protocol/auth.ts'
import { makeCircle } from '../helpers/circle.ts'

const circle = makeCircle(['laptop', 'home-pc'])
const [laptop, homePc] = circle.devices as [(typeof circle.devices)[0], (typeof circle.devices)[0]]
const dict = (bytes: Uint8Array): BDict => asDict(decode(bytes), 'test')

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    const e = err as { code?: string; reason?: string; message: string }
    return `${e.code ?? e.reason}: ${e.message}`
  }
  return 'accepted'
}

test('a dj_auth message with an extra field is refused as malformed', (t) => {
  const ih = randomBytes(20)
  const [a, b] = [randomBytes(20), randomBytes(20)]
  const msg = createAuthMessage({ deviceSeed: homePc.key.seed, certificate: encodeCertificate(homePc.certificate) }, ih, a, b)
  const ctx = { roster: circle.roster, infoHash: ih, theirPeerId: a, myPeerId: b }
  t.is(codeOf(() => verifyAuthMessage(msg, ctx)), 'accepted')
  t.is(codeOf(() => verifyAuthMessage(encode({ ...dict(msg), extra: 1 } as BInput), ctx)), 'malformed: peer authentication failed: malformed')
})
