// A restore is not rolled back by the DHT: the DHT a new home joins holds an
// old backup pointer (seq 1, replayed into a store a flood emptied) while a
// friend holds the pointer and a copy of seq 3. The restore asks the friend
// which pointer it holds and takes seq 3; when seq 3 cannot be fetched it
// refuses, naming the seq it expected, rather than restore seq 1. And the
// roster restored is the newest an own device still holds (a revocation made
// after the last backup stays). Real node processes for the owner, its phone
// and the friend, an in-process DHT node for the replayed pointer.
import test from 'ava'
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatId, friendSecret, loadIdentity } from '../../src/identity/index.ts'
import { DhtNode } from '../../src/manifest/index.ts'
import { backupChannelInfoHash, deviceChannelInfoHash } from '../../src/swarm/index.ts'
import { BACKUP_SALT } from '../../src/backup/index.ts'
import { decode, type BDict } from '../../src/codec/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { serveNode, withLogs } from '../helpers/node-process.ts'
import { cli, runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: devices redial, look up friends and check the DHT often here; the backup poll is set above

process.env.DJCLOUD_BACKUP_POLL_MS = '1000' // friends poll the pointer every second here (10 minutes by default)

test('a replayed seq-1 pointer on the DHT does not roll a restore back when a friend holds seq 3, nor the roster behind a later revocation', async (t) => {
  t.timeout(240_000)
  const root = await tempDir(t)
  const { alex: [alex, phone, retired], fiona: [fiona] } = await friendCircles(root, ['alex-pc', 'alex-phone', 'alex-old'])
  const alexId = await loadIdentity(alex!)
  const alexHex = Buffer.from(alexId.roster.owner).toString('hex')
  const phraseFile = join(root, 'phrase.txt')
  await writeFile(phraseFile, alexId.phrase!)

  // Alex's node reads its roster file every second here (5 s by default), so the revocation goes out sooner.
  const a = await serveFirst(t, alex!, { timings: { ...timings, rosterReload: 1_000 } })
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  const p = await serveNode(t, phone!, ['--tracker', a.info.tracker!, '--bootstrap', a.info.bootstrap!], { timings })
  const heldAt = join(fiona!, 'backup', 'held', alexHex)
  const fionaHolds = async () => (await readdir(heldAt).catch(() => [] as string[])).filter((n) => n.endsWith('.djbackup')).map((n) => Number(n.split('-')[0])).sort()
  const waitHeld = (seq: number) =>
    until(async () => ((await fionaHolds()).includes(seq) ? true : undefined), 60_000).catch(async (err: Error) => {
      throw withLogs(new Error(`${err.message}: fiona holds ${JSON.stringify(await fionaHolds())}`), { ALEX: a, FIONA: f })
    })

  await cli(alex!, ['backup', 'push'])
  await waitHeld(1)
  // The seq-1 pointer, signed by Alex, as anyone on the DHT could keep it to replay later.
  const probe = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [a.info.bootstrap!] })
  t.teardown(() => probe.close())
  const old = await probe.getItem({ publicKey: alexId.roster.owner, salt: BACKUP_SALT })
  t.is(old?.seq, 1)
  await probe.close()
  await cli(alex!, ['backup', 'push'])
  await cli(alex!, ['backup', 'push'])
  await waitHeld(3)
  // After the last backup, alex-old is revoked; the phone takes the new roster in.
  const oldKey = (await loadIdentity(retired!)).device.publicKey
  await cli(alex!, ['trust', 'revoke', formatId('device', oldKey)])
  const revokedAt = (await loadIdentity(alex!)).roster.seq
  await until(async () => ((await loadIdentity(phone!)).roster.seq === revokedAt ? true : undefined), 60_000).catch((err: Error) => {
    throw withLogs(new Error(`${err.message}: the phone did not take roster seq ${revokedAt}`), { ALEX: a, PHONE: p })
  })

  // Alex's only home is gone with its DHT node. The DHT the new home joins holds the replayed
  // seq-1 pointer and lists Fiona's device on Alex's backup channel.
  await a.stop()
  await rm(alex!, { recursive: true, force: true })
  const flushed = await DhtNode.start({ port: 0, host: '127.0.0.1', advertise: '127.0.0.1', bootstrap: [] })
  t.teardown(() => flushed.close())
  await flushed.putSigned({ publicKey: alexId.roster.owner, salt: BACKUP_SALT, seq: 1, v: old!.v as BDict, sig: old!.sig! })
  const fionaKey = (await loadIdentity(fiona!)).roster.owner
  await flushed.announce(backupChannelInfoHash(friendSecret(alexId.owner!, fionaKey), alexId.roster.owner), f.info.peerPort)
  await flushed.announce(deviceChannelInfoHash(alexId.circleSecret), p.info.peerPort)
  const bootstrap = `127.0.0.1:${flushed.port}`

  // Fiona's copy of seq 3 out of reach (she still holds its pointer, and seq 1 and 2): refused, naming seq 3.
  const [name3] = (await readdir(heldAt)).filter((n) => n.startsWith('3-'))
  await rename(join(heldAt, name3!), join(root, name3!))
  const fresh = join(root, 'new-laptop')
  const stale = await runCli(['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', bootstrap, '--timeout', '8', '--json'], { DJCLOUD_HOME: fresh })
  t.is(stale.code, 1, stale.stdout)
  t.regex(stale.stderr, /backup seq 3 is the newest \(named by fiona-pc [^)]*\).*only seq 2, 1 could be fetched/)
  t.is(await stat(join(fresh, 'identity')).catch(() => null), null, 'the new home is left untouched')

  // Seq 3 back at Fiona's: the restore takes it, though the DHT says seq 1.
  await rename(join(root, name3!), join(heldAt, name3!))
  const r = await runCli(['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', bootstrap, '--timeout', '30', '--name', 'new-laptop', '--json'], { DJCLOUD_HOME: fresh })
  t.is(r.code, 0, `${r.stderr}\nFIONA\n${f.stderr()}`)
  const restored = JSON.parse(r.stdout) as { seq: number; source: string; pointerFrom: string; versions: Array<{ seq: number }> }
  t.is(restored.seq, 3)
  t.regex(restored.source, /^fiona-pc /)
  t.regex(restored.pointerFrom, /^fiona-pc /)
  t.deepEqual(restored.versions.map((v) => v.seq), [3, 2, 1])
  const restoredId = await loadIdentity(fresh)
  t.deepEqual(Buffer.from(restoredId.roster.owner), Buffer.from(alexId.roster.owner))
  // The backup's roster predates the revocation; the phone's newer one is restored.
  t.regex((JSON.parse(r.stdout) as { roster: { from: string } }).roster.from, /^alex-phone/)
  t.true(restoredId.roster.revoked.some((k) => Buffer.from(k).equals(Buffer.from(oldKey))), 'alex-old stays revoked')
  t.true(restoredId.roster.seq > revokedAt)

  // Every own device gone too: the newer roster a friend follows is restored (Fiona keeps Alex's).
  const fionaKeeps = join(fiona!, 'friends', `${alexHex}.roster`)
  await until(async () => ((await loadRosterSeq(fionaKeeps)) === revokedAt ? true : undefined), 60_000)
  await p.stop()
  const fresher = join(root, 'newer-laptop')
  const r2 = await runCli(['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', bootstrap, '--timeout', '30', '--name', 'newer-laptop', '--json'], { DJCLOUD_HOME: fresher })
  t.is(r2.code, 0, `${r2.stderr}\nFIONA\n${f.stderr()}`)
  const second = JSON.parse(r2.stdout) as { seq: number; roster: { from: string; seq: number } }
  t.is(second.seq, 3)
  t.regex(second.roster.from, /^fiona-pc /, 'the roster came from the friend')
  t.is(second.roster.seq, revokedAt)
  const secondId = await loadIdentity(fresher)
  t.true(secondId.roster.revoked.some((k) => Buffer.from(k).equals(Buffer.from(oldKey))), 'alex-old stays revoked with only a friend left')
})

/** The seq of an owner-signed roster file (0 when there is none). */
async function loadRosterSeq(path: string): Promise<number> {
  const bytes = await readFile(path).catch(() => null)
  if (!bytes) return 0
  return (decode(bytes) as { seq: number }).seq
}
