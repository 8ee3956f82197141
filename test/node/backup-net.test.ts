// Backups over the network, with real node processes on loopback: an admin
// device pushes, two friends' nodes find the DHT pointer under the owner key
// and hold checked copies they cannot read, status lists them; the owner's
// only home is wiped, and a brand-new home restores from the recovery phrase
// and a bootstrap address alone: a tampered copy is refused (a friend's
// device serving flipped bytes), a friend offline is no matter while another
// one serves.
import test from 'ava'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { friendSecrets, loadIdentity } from '../../src/identity/index.ts'
import { DhtNode } from '../../src/manifest/index.ts'
import { backupChannelInfoHash } from '../../src/swarm/index.ts'
import { BackupError, openBackup, verifyBackup } from '../../src/backup/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { withLogs } from '../helpers/node-process.ts'
import { cli, runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { befriend, friendCircles, ownerOf } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { heldSeqs } from '../helpers/backup-held.ts'
import { identitySwarm } from '../helpers/identity-swarm.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: devices redial, look up friends and check the DHT often here; the backup poll is set above

process.env.DJCLOUD_BACKUP_POLL_MS = '1000' // friends poll the pointer every second here (10 minutes by default)

interface Status {
  pointer: Array<{ seq: number }>
  friends: Array<{ name: string; device: string | null; online: boolean; versions: number[] }>
  held: Array<{ owner: string; versions: Array<{ seq: number }> }>
}

test('push, friends seed what they cannot read, status; a wiped owner restores from the phrase while a tampered copy is refused and a friend is offline', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona], alexOwner } = await friendCircles(root)
  const [gus] = await makeHomes(join(root, 'g'), ['gus-pc'])
  await befriend(alex!, await ownerOf(gus!), 'Gus')
  await befriend(gus!, alexOwner, 'Alex')
  await cli(gus!, ['trust', 'quota', alexOwner, '50'])
  const alexId = await loadIdentity(alex!)
  const phraseFile = join(root, 'phrase.txt')
  await mkdir(root, { recursive: true })
  await (await import('node:fs/promises')).writeFile(phraseFile, alexId.phrase!)
  const alexHex = Buffer.from(alexId.roster.owner).toString('hex')

  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'one.wav'), { title: 'Backed Up', artist: 'Alex' }, 1, 3)
  const a = await serveFirst(t, alex!, { timings })
  await cli(alex!, ['scan', music])
  const [track] = JSON.parse(await cli(alex!, ['ls', '--json'])) as Array<{ sha256: string }>
  await cli(alex!, ['playlist', 'create', 'Secret Gig Set'])
  await cli(alex!, ['playlist', 'add', 'Secret Gig Set', track!.sha256])

  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  const fionaDht = `127.0.0.1:${f.info.dhtPort}`
  let g = await serveJoining(t, gus!, a.info.bootstrap!, { timings })

  // A device of Gus's that serves flipped bytes for Alex's backups (what a dishonest friend would do).
  const gusId = await loadIdentity(gus!)
  let tampered: Uint8Array | undefined
  let tamperedSha = ''
  const mDht = await DhtNode.start({ port: 0, host: '127.0.0.1', advertise: '127.0.0.1', bootstrap: [fionaDht] })
  t.teardown(() => mDht.close())
  // Gus's backup channel with Alex: Gus's devices open the friendship secret sealed in his roster.
  const channel = backupChannelInfoHash(friendSecrets(gusId).get(alexHex)!, alexId.roster.owner)
  const mallory = await identitySwarm(t, gusId, join(root, 'mallory-cache'), {
    backups: {
      admit: (ih) => (ih === channel.toString('hex') ? () => true : undefined),
      holds: async (_ih, sha) => !!tampered && sha === tamperedSha,
      blob: async (_ih, sha) => (sha === tamperedSha ? tampered : undefined),
    },
  })

  // Push: a backup made from the running node's stores, seq 1, named by the pointer.
  const pushed = JSON.parse(await cli(alex!, ['backup', 'push', '--json'])) as { seq: number; sha256: string; versions: Array<{ seq: number }> }
  t.is(pushed.seq, 1)
  t.deepEqual(pushed.versions.map((v) => v.seq), [1])

  // Both friends fetch and hold it; status on Alex's node says so.
  const status = await until(async () => {
    const s = JSON.parse(await cli(alex!, ['backup', 'status', '--json'])) as Status
    const holding = s.friends.filter((x) => x.versions.includes(1)).map((x) => x.name)
    return holding.includes('Fiona') && holding.includes('Gus') ? s : undefined
  }, 60_000).catch((err: Error) => {
    throw withLogs(err, { ALEX: a, FIONA: f, GUS: g })
  })
  t.deepEqual(status.pointer.map((v) => v.seq), [1])
  const fionaStatus = JSON.parse(await cli(fiona!, ['backup', 'status', '--json'])) as Status
  t.deepEqual(fionaStatus.held.map((h) => [h.owner, h.versions.map((v) => v.seq)]), [[alexHex, [1]]])

  // Fiona's copy: the owner's signature checks out, she cannot decrypt it, and the plaintext is nowhere in it.
  const heldDir = join(fiona!, 'backup', 'held', alexHex)
  const [name] = await readdir(heldDir)
  const copy = await readFile(join(heldDir, name!))
  const header = verifyBackup(copy, alexId.roster.owner)
  const fionaId = await loadIdentity(fiona!)
  t.throws(() => openBackup(copy, header, fionaId.backupKey!), { instanceOf: BackupError, message: /./ })
  t.false(copy.includes(Buffer.from('Secret Gig Set')))

  // Mallory serves a copy with one byte flipped under the real SHA-256's name, and announces it.
  tampered = Buffer.from(copy)
  tampered[200] = tampered[200]! ^ 0xff
  tamperedSha = pushed.sha256
  await mDht.announce(channel, mallory.port)

  // Every own home is gone.
  await a.stop()
  await rm(alex!, { recursive: true, force: true })

  // Fiona and Gus offline: Mallory alone answers, and her copy is refused; the new home is left untouched.
  await f.stop()
  await g.stop()
  const fresh = join(root, 'new-laptop')
  const failed = await runCli(['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', `127.0.0.1:${mDht.port}`, '--timeout', '8', '--json'], { DJCLOUD_HOME: fresh })
  t.is(failed.code, 1, failed.stderr)
  t.regex(failed.stderr, /refused: seq 1 from gus-pc .*do not hash/)
  t.is(await stat(join(fresh, 'identity')).catch(() => null), null)

  // Gus back online (Fiona still offline): the restore gets the copy from him.
  g = await serveJoining(t, gus!, `127.0.0.1:${mDht.port}`, { timings })
  const restored = await until(async () => {
    const r = await runCli(['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', `127.0.0.1:${mDht.port}`, '--timeout', '15', '--name', 'new-laptop', '--json'], { DJCLOUD_HOME: fresh })
    if (r.code !== 0) t.log(r.stderr.trim())
    return r.code === 0 ? (JSON.parse(r.stdout) as { seq: number; source: string; createdIdentity: boolean; playlists: number }) : undefined
  }, 60_000, 1_000).catch((err: Error) => {
    throw withLogs(err, { GUS: g })
  })
  t.is(restored.seq, 1)
  t.true(restored.createdIdentity)
  t.regex(restored.source, /^gus-pc /)
  t.is(restored.playlists, 1)

  // The new home is an admin device of Alex's circle, with the roster's friends and the playlist back.
  const id = await loadIdentity(fresh)
  t.deepEqual(Buffer.from(id.roster.owner), Buffer.from(alexId.roster.owner))
  t.truthy(id.owner)
  t.deepEqual(id.roster.friends.map((x) => x.name).sort(), ['Fiona', 'Gus'])
  await serveJoining(t, fresh, `127.0.0.1:${mDht.port}`, { timings })
  const lists = JSON.parse(await cli(fresh, ['playlist', 'ls', '--json'])) as Array<{ name: string; tracks: number }>
  t.deepEqual(lists.map((l) => [l.name, l.tracks]), [['Secret Gig Set', 1]])
})

test('the owner keeps and names the last three versions; a friend keeps what fits its quota, dropping the oldest', async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona], alexOwner } = await friendCircles(root)
  const a = await serveFirst(t, alex!, { timings })
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  let seen: number[] = []
  const held = async () => (seen = await heldSeqs(fiona!))
  const waitHeld = (want: number[]) =>
    until(async () => (JSON.stringify(await held()) === JSON.stringify(want) ? true : undefined), 30_000).catch((err: Error) => {
      throw withLogs(new Error(`${err.message}: fiona holds ${JSON.stringify(seen)}`), { ALEX: a, FIONA: f })
    })
  const push = async () => JSON.parse(await cli(alex!, ['backup', 'push', '--json'])) as { seq: number; bytes: number; versions: Array<{ seq: number }> }

  const first = await push()
  await waitHeld([1])
  // Room for two versions of this size at Fiona's.
  await cli(fiona!, ['trust', 'quota', alexOwner, String((first.bytes * 2.5) / (1024 * 1024))])
  await push()
  await push()
  const last = await push()
  t.is(last.seq, 4)
  t.deepEqual(last.versions.map((v) => v.seq), [4, 3, 2])
  await waitHeld([4, 3])
  const s = JSON.parse(await cli(alex!, ['backup', 'status', '--json'])) as Status & { pushed: Array<{ seq: number }> }
  t.deepEqual(s.pushed.map((v) => v.seq), [4, 3, 2])
  t.deepEqual(s.pointer.map((v) => v.seq), [4, 3, 2])
  t.deepEqual(s.friends.map((x) => [x.name, x.device, x.online, x.versions]), [['Fiona', 'fiona-pc', true, [4, 3]]])
  // Fiona offline: still listed, as offline.
  await f.stop()
  const off = JSON.parse(await cli(alex!, ['backup', 'status', '--json'])) as Status
  t.deepEqual(off.friends.map((x) => [x.name, x.device, x.online, x.versions]), [['Fiona', null, false, []]])
  t.regex(await cli(alex!, ['backup', 'status']), /Fiona: no device online/)
})
