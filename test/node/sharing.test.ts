// A playlist shared with a friend, across two circles of real node
// processes: the friend's node finds the sharing device on the DHT, reads the
// playlist and streams its tracks, and reaches nothing else (the wire refuses
// every other torrent and the device channel); unsharing cuts it off.
import test from 'ava'
import { mkdir, readFile } from 'node:fs/promises'
import { dialLink } from '../../src/link/index.ts'
import { join } from 'node:path'
import { loadIdentity, type Identity } from '../../src/identity/index.ts'
import { authenticate, deviceChannelInfoHash } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { withLogs } from '../helpers/node-process.ts'
import { cli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { credentialsOf } from '../helpers/identity-swarm.ts'

/** Dials a peer port as the friend's device would, asking for one infohash; resolves whether the peer let it in. */
async function friendDial(friend: Identity, sharingOwner: Uint8Array, port: number, infoHash: Buffer): Promise<boolean> {
  const sock = await dialLink('127.0.0.1', port)
  try {
    const s = await authenticate(sock, {
      credentials: credentialsOf(friend),
      roster: () => friend.roster,
      infoHash,
      remote: { host: '127.0.0.1', port },
      allow: (p) => p.kind === 'friend' && Buffer.from(p.certificate.owner).equals(sharingOwner),
      deadlineMs: 6_000,
    })
    s.wire.destroy()
    return true
  } catch {
    return false
  } finally {
    sock.destroy()
  }
}

test('a friend reads a shared playlist and streams its tracks, reaches nothing else, and loses access when it is unshared', async (t) => {
  const root = await tempDir(t)
  const { alex: [alex], fiona: [fiona], alexOwner, fionaOwner } = await friendCircles(root)

  const music = join(root, 'music')
  await mkdir(music)
  const files = {
    one: await writeTrack(join(music, 'one.wav'), { title: 'Shared One', artist: 'Alex' }, 1, 30),
    two: await writeTrack(join(music, 'two.wav'), { title: 'Shared Two', artist: 'Alex' }, 2, 5),
    secret: await writeTrack(join(music, 'secret.wav'), { title: 'Not For Friends', artist: 'Alex' }, 3, 5),
  }
  const a = await serveFirst(t, alex!)
  t.truthy(a.info.bootstrap)
  await cli(alex!, ['scan', music])
  const tracks = JSON.parse(await cli(alex!, ['ls', '--json'])) as Array<{ sha256: string; infohash: string; tags: { title: string } }>
  const by = (title: string) => tracks.find((x) => x.tags.title === title)!
  await cli(alex!, ['playlist', 'create', 'For Fiona'])
  await cli(alex!, ['playlist', 'add', 'For Fiona', by('Shared One').sha256, by('Shared Two').sha256])
  await cli(alex!, ['playlist', 'share', 'For Fiona', '--with', fionaOwner])

  // Fiona's node joins the DHT through Alex's bootstrap node and finds the share there.
  const f = await serveJoining(t, fiona!, a.info.bootstrap!)
  const listed = await until(async () => {
    const l = JSON.parse(await cli(fiona!, ['playlist', 'ls', '--json'])) as Array<{ name: string; tracks: number; from?: string }>
    return l.find((p) => p.from === 'Alex') ? l : undefined
  }, 30_000).catch((err: Error) => {
    throw withLogs(err, { ALEX: a, FIONA: f }) // the nodes' logs, to see why
  })
  t.deepEqual(listed, [{ name: 'For Fiona', tracks: 2, from: 'Alex', friend: alexOwner }])
  const shown = JSON.parse(await cli(fiona!, ['playlist', 'show', 'For Fiona', '--from', 'Alex', '--json'])) as { entries: Array<{ title: string; sha256: string }> }
  t.deepEqual(shown.entries.map((e) => e.title), ['Shared One', 'Shared Two'])

  // Fiona streams a shared track from Alex's device, verified byte for byte.
  const bytes = await readFile(files.one)
  const res = await fetch(`${f.info.api}/stream/${by('Shared One').sha256}`, { headers: { range: 'bytes=1000-200999' } })
  t.is(res.status, 206)
  t.true(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(1000, 201000)))
  // The unshared track is not to be had through her node...
  t.is((await fetch(`${f.info.api}/stream/${by('Not For Friends').sha256}`)).status, 404)
  // ...nor by her device asking Alex's peer port directly: only the shared torrents open.
  const fionaId = await loadIdentity(fiona!)
  const alexId = await loadIdentity(alex!)
  const ih = (title: string) => Buffer.from(by(title).infohash, 'hex')
  t.true(await friendDial(fionaId, alexId.roster.owner, a.info.peerPort, ih('Shared Two')))
  t.false(await friendDial(fionaId, alexId.roster.owner, a.info.peerPort, ih('Not For Friends')))
  t.false(await friendDial(fionaId, alexId.roster.owner, a.info.peerPort, deviceChannelInfoHash(alexId.circleSecret)))
  t.truthy(files.two && files.secret)

  // Unshared: the list empties on her side and the wire refuses the torrent.
  await cli(alex!, ['playlist', 'share', 'For Fiona', '--with', fionaOwner, '--off'])
  await until(async () => {
    const l = JSON.parse(await cli(fiona!, ['playlist', 'ls', '--json'])) as Array<{ from?: string }>
    return l.some((p) => p.from === 'Alex') ? undefined : true
  }, 15_000)
  t.false(await friendDial(fionaId, alexId.roster.owner, a.info.peerPort, ih('Shared Two')))
})
