// Strict decoding of signed pull requests: one field more, beside the signed
// request or inside it (re-signed), is refused (see test/strict-decoding.test.ts).
import test from 'ava'
import { asDict, decode, encode, type BDict, type BInput } from '../../src/codec/index.ts'
import { signBytes } from '../../src/identity/index.ts'
import { checkPullRequest, NonceBook, signPullRequest } from '../../src/node/pull-request.ts'
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

test('a pull request with an extra field, beside the request or inside it, is refused as malformed', (t) => {
  const ctx = () => ({ roster: circle.roster, self: laptop.key.publicKey, sender: homePc.key.publicKey, nonces: new NonceBook() })
  const { wire } = signPullRequest({ seed: homePc.key.seed, publicKey: homePc.key.publicKey }, laptop.key.publicKey, 'Set')
  t.is(codeOf(() => checkPullRequest(wire, ctx())), 'accepted')
  const outer = dict(wire)
  t.is(codeOf(() => checkPullRequest(encode({ ...outer, extra: 1 } as BInput), ctx())), 'malformed request: malformed request')
  const inner = { ...dict(outer.req as Uint8Array), extra: 1 }
  const req = encode(inner as BInput)
  t.is(codeOf(() => checkPullRequest(encode({ req, sig: signBytes(homePc.key.seed, req) }), ctx())), 'malformed request: malformed request')
})
