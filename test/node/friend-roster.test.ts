// Friends follow each other's rosters (issue 11 item 8): Alex revokes a
// device of his; Fiona's node, linked to Alex's admin device over his backup
// channel, takes in his new roster within the roster-reload time, drops the
// revoked device's open links on her share and backup channels and refuses
// it there from then on. Real node processes, plus the revoked device's
// dials made in-process with its own key and certificate.
import test from 'ava'
import { dialLink } from '../../src/link/index.ts'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { formatId, friendSecrets, loadIdentity, verifyRoster, type Identity } from '../../src/identity/index.ts'
import { authenticate, backupChannelInfoHash, shareChannelInfoHash, type PeerSession } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { withLogs } from '../helpers/node-process.ts'
import { cli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { heldSeqs } from '../helpers/backup-held.ts'
import { credentialsOf, identitySwarm } from '../helpers/identity-swarm.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: not the roster reload, which the test logs against

process.env.DJCLOUD_BACKUP_POLL_MS = '1000'
process.env.DJCLOUD_TIMINGS = JSON.stringify({ friendRosterPoll: 500 }) // friends look at revocation items twice a second here (2 minutes by default)

/** A dial as `device` to a peer port for one infohash; the session, or null when refused. */
async function dialAs(device: Identity, port: number, infoHash: Buffer): Promise<PeerSession | null> {
  const sock = await dialLink('127.0.0.1', port)
  sock.on('error', () => {})
  return authenticate(sock, {
    credentials: credentialsOf(device),
    roster: () => device.roster,
    infoHash,
    remote: { host: '127.0.0.1', port },
    allow: (p) => p.kind === 'friend',
    proveSecond: true,
    deadlineMs: 6_000,
  }).catch(() => {
    sock.destroy()
    return null
  })
}

test("a device revoked by a friend's owner is dropped and refused on our share and backup channels", async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const { alex: [alex, phone], fiona: [fiona] } = await friendCircles(root, ['alex-pc', 'alex-phone'])

  const music = join(root, 'music')
  await mkdir(music)
  await writeTrack(join(music, 'one.wav'), { title: 'One', artist: 'Alex' }, 1, 3)
  const a = await serveFirst(t, alex!, { timings })
  await cli(alex!, ['scan', music])
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  await cli(alex!, ['backup', 'push', '--json'])
  const logs = (err: Error) => withLogs(err, { ALEX: a, FIONA: f })
  // Fiona holds Alex's backup (fetched over his backup channel, a link that stays open) and has his roster.
  const alexId = await loadIdentity(alex!)
  const alexHex = Buffer.from(alexId.roster.owner).toString('hex')
  const kept = join(fiona!, 'friends', `${alexHex}.roster`)
  await until(async () => {
    const held = await heldSeqs(fiona!)
    const roster = await readFile(kept).catch(() => null)
    return (held.length > 0 && roster) || undefined
  }, 60_000).catch((err: Error) => { throw logs(err) })

  // Alex's phone is admitted on Fiona's share channel with Alex and on Alex's backup channel she serves.
  // (The phone's dials check Fiona's device against Alex's roster, which lists her; the phone's own copy is older.)
  const phoneId = { ...(await loadIdentity(phone!)), roster: alexId.roster }
  const fionaId = await loadIdentity(fiona!)
  const secret = friendSecrets(fionaId).get(alexHex)!
  const channels = [shareChannelInfoHash(secret, fionaId.roster.owner), backupChannelInfoHash(secret, alexId.roster.owner)]
  // The phone, as an in-process swarm with its own key and certificate, links to Fiona's device on both.
  const phoneSwarm = await identitySwarm(t, phoneId, join(root, 'phone-cache'))
  const fionaHex = Buffer.from(fionaId.roster.owner).toString('hex')
  const ofFiona = (p: { kind: string; certificate: { owner: Uint8Array } }) => p.kind === 'friend' && Buffer.from(p.certificate.owner).toString('hex') === fionaHex
  const links = [
    await phoneSwarm.connectFriend('127.0.0.1', f.info.peerPort, channels[0]!, fionaHex),
    await phoneSwarm.connectHolder('127.0.0.1', f.info.peerPort, channels[1]!, ofFiona),
  ]
  const closed = links.map((l) => new Promise<void>((r) => (l.session.wire.destroyed ? r() : l.session.wire.once('close', () => r()))))

  // Alex revokes the phone on his admin device; his node picks it up and tells Fiona's.
  await cli(alex!, ['trust', 'revoke', formatId('device', phoneId.device.publicKey)])
  const revokedAt = Date.now()
  await Promise.race([
    Promise.all(closed),
    new Promise((_, reject) => setTimeout(() => {
      void Promise.all([readFile(kept), loadIdentity(alex!)]).then(([k, id]) => reject(logs(new Error(`the phone's links to Fiona stayed open (Fiona holds Alex's roster seq ${verifyRoster(k, id.roster.owner).seq}, Alex's is ${id.roster.seq})`))))
    }, 30_000).unref()),
  ])
  t.log(`links dropped ${Date.now() - revokedAt} ms after the revocation`)
  const held = verifyRoster(await readFile(kept), alexId.roster.owner)
  t.true(held.revoked.some((k) => Buffer.from(k).equals(phoneId.device.publicKey)))
  // And refused from now on, on both channels; Alex's own device still gets in.
  for (const c of channels) t.is(await dialAs(phoneId, f.info.peerPort, c), null)
  await t.throwsAsync(phoneSwarm.connectFriend('127.0.0.1', f.info.peerPort, channels[0]!, fionaHex))
  const pc = await dialAs(alexId, f.info.peerPort, channels[0]!)
  t.truthy(pc)
  pc?.wire.destroy()
})

test("with no link between the circles, a friend takes the owner's revocation from its DHT item and refuses the device", async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const { alex: [alex, phone], fiona: [fiona] } = await friendCircles(root, ['alex-pc', 'alex-phone'])
  // Nothing shared, no backup: Alex's and Fiona's nodes never link; they share only the DHT.
  const a = await serveFirst(t, alex!, { timings })
  const f = await serveJoining(t, fiona!, a.info.bootstrap!, { timings })
  const logs = (err: Error) => withLogs(err, { ALEX: a, FIONA: f })
  const alexId = await loadIdentity(alex!)
  const fionaId = await loadIdentity(fiona!)
  const alexHex = Buffer.from(alexId.roster.owner).toString('hex')
  const phoneId = { ...(await loadIdentity(phone!)), roster: alexId.roster }
  const channel = shareChannelInfoHash(friendSecrets(fionaId).get(alexHex)!, fionaId.roster.owner)
  const before = await dialAs(phoneId, f.info.peerPort, channel)
  t.truthy(before, 'the phone was refused before it was revoked')
  before?.wire.destroy()

  await cli(alex!, ['trust', 'revoke', formatId('device', phoneId.device.publicKey)])
  await until(async () => {
    const s = await dialAs(phoneId, f.info.peerPort, channel)
    s?.wire.destroy()
    return s === null || undefined
  }, 60_000, 500).catch((err: Error) => { throw logs(err) })
  // Learned from the item (no roster came over a link), kept across restarts.
  t.is(await readFile(join(fiona!, 'friends', `${alexHex}.roster`)).catch(() => null), null)
  const kept = JSON.parse(await readFile(join(fiona!, 'friends', `${alexHex}.revoked`), 'utf8')) as { revoked: string[] }
  t.deepEqual(kept.revoked, [Buffer.from(phoneId.device.publicKey).toString('hex')])
  // Alex's own device still gets in.
  const pc = await dialAs(alexId, f.info.peerPort, channel)
  t.truthy(pc)
  pc?.wire.destroy()
})
