// A push reaches friends' devices linked to the owner at once (a notice),
// not only at their next poll (10 minutes, the default kept here).
import test from 'ava'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

// ms: not the backup poll (the notice is what reaches the friend); the notice gap is short so the
// second push's notice counts even when the first one's came a moment before (5 s by default)
const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000, backupNoticeGap: 200 }

delete process.env.DJCLOUD_BACKUP_POLL_MS

async function cli(home: string, args: string[]): Promise<string> {
  const r = await runCli(args, { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

test('a friend that fetched once hears of the next push at once', async (t) => {
  t.timeout(90_000)
  const root = await tempDir(t)
  const [alex] = await makeHomes(join(root, 'a'), ['alex-pc'])
  const [fiona] = await makeHomes(join(root, 'f'), ['fiona-pc'])
  const ownerOf = async (home: string) => (JSON.parse(await cli(home, ['id', '--json'])) as { ownerId: string }).ownerId
  const [alexOwner, fionaOwner] = [await ownerOf(alex!), await ownerOf(fiona!)]
  await cli(alex!, ['trust', 'add', fionaOwner, '--role', 'friend', '--name', 'Fiona'])
  await cli(fiona!, ['trust', 'add', alexOwner, '--role', 'friend', '--name', 'Alex'])
  const a = await serveNode(t, alex!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const f = await serveNode(t, fiona!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1', '--bootstrap', a.info.bootstrap!], { timings })
  const held = async () => {
    const s = JSON.parse(await cli(fiona!, ['backup', 'status', '--json'])) as { held: Array<{ versions: Array<{ seq: number }> }> }
    return JSON.stringify(s.held[0]?.versions.map((v) => v.seq) ?? [])
  }
  await cli(alex!, ['backup', 'push'])
  await cli(fiona!, ['backup', 'sync']) // the first one by hand (her node polled at start, before the push)
  t.is(await held(), '[1]')
  await cli(alex!, ['backup', 'push'])
  const after = await until(async () => {
    const h = await held()
    return h === '[2,1]' ? h : undefined
  }, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\nALEX\n${a.stderr()}\nFIONA\n${f.stderr()}`)
  })
  t.is(after, '[2,1]', 'the second push reached her without a sync')
})
