// DEBUG=djcloud:tracker:admission: each refused announce is logged with who
// sent it and why, under the circle owner's short id; admitted ones too.
import test from 'ava'
import { AnnounceError } from '../../src/swarm/index.ts'
import { debugLines } from '../helpers/debug-lines.ts'
import { announce, makeCircle, newInfoHash, newPeerId, startTracker } from './fixtures.ts'

test.serial('refused announces are logged with their reason; an admitted one with its device', async (t) => {
  const lines = debugLines(t, 'djcloud:tracker:*')
  const { owner, laptop, stranger, roster } = makeCircle()
  const { url } = await startTracker(t, { roster })
  const infoHash = newInfoHash()
  const base = { infoHash, peerId: newPeerId(), port: 6881 }
  await t.throwsAsync(announce(url, base), { instanceOf: AnnounceError })
  await t.throwsAsync(announce(url, { ...base, signer: stranger.signer }), { instanceOf: AnnounceError })
  await announce(url, { ...base, signer: laptop.signer })
  const prefix = `djcloud:tracker:admission \\[${Buffer.from(owner.publicKey).toString('hex').slice(0, 8)}\\]`
  const from = `http announce for ${infoHash.toString('hex').slice(0, 8)} from 127\\.0\\.0\\.1:6881`
  t.regex(lines.join('\n'), new RegExp(`${prefix} refused ${from}: missing proof`))
  t.regex(lines.join('\n'), new RegExp(`${prefix} refused ${from}: unknown owner`))
  t.regex(lines.join('\n'), new RegExp(`${prefix} admitted ${from}: own device ${Buffer.from(laptop.key.publicKey).toString('hex').slice(0, 8)}`))
})
