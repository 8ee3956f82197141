// Channels between friends are secret (issue 11 item 4): a spy running a real
// DHT node in the friends' DHT, who knows both public owner ids, computes
// every channel name derivable from them (the names the share and backup
// channels used to have among them) and finds nobody announcing any of them;
// meanwhile the friends find each other: the share is read and the backup is
// held.
import test from 'ava'
import { createHash, createHmac } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { friendSecrets, loadIdentity } from '../../src/identity/index.ts'
import { DhtNode } from '../../src/manifest/index.ts'
import { backupChannelInfoHash, shareChannelInfoHash } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { withLogs } from '../helpers/node-process.ts'
import { cli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { heldSeqs } from '../helpers/backup-held.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: devices redial, look up friends and check the DHT often here; the backup poll is set above

process.env.DJCLOUD_BACKUP_POLL_MS = '1000'

/** Every 20-byte name a spy can compute from two public owner ids with the labels it can read in the source. */
function publicNames(a: Buffer, b: Buffer): Buffer[] {
  const sha1 = (...parts: Array<string | Buffer>) => parts.reduce((h, p) => h.update(p), createHash('sha1')).digest()
  const names: Buffer[] = []
  for (const [x, y] of [[a, b], [b, a]] as const) {
    names.push(sha1('djcloud/share-channel/v1:', x, y)) // the share channel as it was
    names.push(sha1('djcloud/backup-channel/v1:', x)) // the backup channel as it was
    // The new derivations with a "secret" made of public ids only.
    for (const key of [Buffer.concat([x, y]), x, createHash('sha256').update(Buffer.concat([x, y])).digest()]) {
      names.push(shareChannelInfoHash(key, x), backupChannelInfoHash(key, x))
      names.push(createHmac('sha256', key).update('djcloud/share-channel/v2').update(x).digest().subarray(0, 20))
    }
  }
  return names
}

test('a spy who knows both owner ids finds no announce of the friends on the DHT, while they share and back up', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona], fionaOwner } = await friendCircles(root)

  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'one.wav'), { title: 'Shared One', artist: 'Alex' }, 1, 3)
  const a = await serveFirst(t, alex!, { timings })
  await cli(alex!, ['scan', music])
  const [track] = JSON.parse(await cli(alex!, ['ls', '--json'])) as Array<{ sha256: string }>
  await cli(alex!, ['playlist', 'create', 'For Fiona'])
  await cli(alex!, ['playlist', 'add', 'For Fiona', track!.sha256])
  await cli(alex!, ['playlist', 'share', 'For Fiona', '--with', fionaOwner])
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  await cli(alex!, ['backup', 'push', '--json'])

  // The friends find each other: Fiona reads the share and holds the backup.
  const logs = (err: Error) => withLogs(err, { ALEX: a, FIONA: f })
  await until(async () => {
    const l = JSON.parse(await cli(fiona!, ['playlist', 'ls', '--json'])) as Array<{ from?: string }>
    return l.some((p) => p.from === 'Alex') || undefined
  }, 60_000).catch((err: Error) => { throw logs(err) })
  await until(async () => (await heldSeqs(fiona!)).length > 0 || undefined, 60_000).catch((err: Error) => { throw logs(err) })

  // The spy: a real DHT node in the same DHT.
  const spy = await DhtNode.start({ port: 0, host: '127.0.0.1', advertise: '127.0.0.1', bootstrap: [a.info.bootstrap!] })
  t.teardown(() => spy.close())
  const [alexId, fionaId] = [await loadIdentity(alex!), await loadIdentity(fiona!)]
  const [A, F] = [Buffer.from(alexId.roster.owner), Buffer.from(fionaId.roster.owner)]
  // The real channels are announced (the friends use them): the spy's DHT node reaches the announces...
  const secret = friendSecrets(alexId).get(F.toString('hex'))!
  t.deepEqual(Buffer.from(secret), Buffer.from(friendSecrets(fionaId).get(A.toString('hex'))!)) // both circles compute the same secret
  await until(async () => ((await spy.lookup(shareChannelInfoHash(secret, A), 2_000)).length > 0) || undefined, 30_000)
  t.true((await spy.lookup(backupChannelInfoHash(secret, A), 2_000)).length > 0)
  // ...but finds no one on any name it can compute from the public ids.
  for (const name of publicNames(A, F)) t.deepEqual(await spy.lookup(name, 1_000), [], `someone announced ${name.toString('hex')}`)
})
