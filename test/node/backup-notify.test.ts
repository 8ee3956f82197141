// A push reaches friends' devices linked to the owner at once (a notice),
// not only at their next poll (10 minutes, the default kept here).
import test from 'ava'
import { tempDir } from '../helpers/temp.ts'
import { withLogs } from '../helpers/node-process.ts'
import { cli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { heldSeqs } from '../helpers/backup-held.ts'

// ms: not the backup poll (the notice is what reaches the friend); the notice gap is short so the
// second push's notice counts even when the first one's came a moment before (5 s by default)
const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000, backupNoticeGap: 200 }

delete process.env.DJCLOUD_BACKUP_POLL_MS

test('a friend that fetched once hears of the next push at once', async (t) => {
  t.timeout(90_000)
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona] } = await friendCircles(root)
  const a = await serveFirst(t, alex!, { timings })
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  const held = async () => JSON.stringify(await heldSeqs(fiona!))
  await cli(alex!, ['backup', 'push'])
  await cli(fiona!, ['backup', 'sync']) // the first one by hand (her node polled at start, before the push)
  t.is(await held(), '[1]')
  await cli(alex!, ['backup', 'push'])
  const after = await until(async () => {
    const h = await held()
    return h === '[2,1]' ? h : undefined
  }, 20_000).catch((err: Error) => {
    throw withLogs(err, { ALEX: a, FIONA: f })
  })
  t.is(after, '[2,1]', 'the second push reached her without a sync')
})

test('pushes made one right after another all reach the friend: a notice within the gap, or during a fetch, is followed by one poll, not dropped', async (t) => {
  t.timeout(90_000)
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona] } = await friendCircles(root)
  const gapped = { ...timings, backupNoticeGap: 2_000 }
  const a = await serveFirst(t, alex!, { timings: gapped })
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings: gapped })
  const held = async () => JSON.stringify(await heldSeqs(fiona!))
  await cli(alex!, ['backup', 'push'])
  await cli(fiona!, ['backup', 'sync'])
  t.is(await held(), '[1]')
  await cli(alex!, ['backup', 'push'])
  await cli(alex!, ['backup', 'push']) // its notice comes within the gap of the last one (or while that fetch runs)
  const after = await until(async () => {
    const h = await held()
    return h.startsWith('[3') ? h : undefined
  }, 30_000).catch((err: Error) => {
    throw withLogs(err, { ALEX: a, FIONA: f })
  })
  t.is(after, '[3,2,1]', 'the third push reached her without a sync or a poll')
})
