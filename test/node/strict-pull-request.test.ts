// Strict decoding of signed pull requests: one field more, beside the signed
// request or inside it (re-signed), is refused (see test/strict-decoding.test.ts).
import test from 'ava'
import { encode, type BInput } from '../../src/codec/index.ts'
import { signBytes } from '../../src/identity/index.ts'
import { checkPullRequest, NonceBook, signPullRequest } from '../../src/node/pull-request.ts'
import { codeOf, dict, strictCircle } from '../helpers/strict.ts'

const { circle, laptop, homePc } = strictCircle()

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
