// A friend's device that links while the node is still starting (its peer
// port open, its later services not started yet) is served like any other:
// its backup-channel commands are answered, not refused as "not served
// here", it is told this device's roster on the link, and our share channel
// with its owner admits it. The node is held in mid-start by a tracker that
// answers its first announce only when the test says so; the peer port it
// announces is where the friend's device dials.
import test from 'ava'
import { createServer } from 'node:http'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encode } from '../../src/codec/index.ts'
import { encodeCertificate, formatId, friendSecrets, loadIdentity, signBytes } from '../../src/identity/index.ts'
import { BACKUP_SALT, encodePointer } from '../../src/backup/index.ts'
import { backupChannelInfoHash, shareChannelInfoHash, Swarm, type DeviceLink, type ManifestNotice, type VerifiedPeer } from '../../src/swarm/index.ts'
import { Node } from '../../src/node/index.ts'
import { POINTER_COMMAND, readPointerAnswer } from '../../src/node/backups.ts'
import { OWNER_ROSTER_COMMAND } from '../../src/node/friend-rosters.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { deferred } from '../helpers/deferred.ts'
import { makeHomes } from '../helpers/homes.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** A tracker that holds each announce until released; resolves `port` with the first announced peer port. */
async function heldTracker(t: import('ava').ExecutionContext) {
  const port = deferred<number>()
  const release = deferred<void>()
  const server = createServer((req, res) => {
    port.resolve(Number(new URL(req.url!, 'http://x').searchParams.get('port')))
    void release.promise.then(() => res.end('d8:intervali60e5:peers0:e'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    release.resolve()
    server.closeAllConnections()
    return new Promise<void>((r) => server.close(() => r()))
  })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`, port: port.promise, release: () => release.resolve() }
}

test("a friend's device linking while the node starts is answered, told the roster and admitted on our share channel", async (t) => {
  t.timeout(120_000)
  const root = await tempDir(t)
  const [alex] = await makeHomes(join(root, 'a'), ['alex-pc'])
  const [fiona, fionaPhone] = await makeHomes(join(root, 'f'), ['fiona-pc', 'fiona-phone'])
  const ownerId = async (home: string) => formatId('owner', (await loadIdentity(home)).roster.owner)
  const trust = async (home: string, owner: string, name: string) => {
    const r = await runCliInProcess(['trust', 'add', owner, '--role', 'friend', '--name', name], { DJCLOUD_HOME: home })
    if (r.code !== 0) throw new Error(r.stderr)
  }
  await trust(alex!, await ownerId(fiona!), 'Fiona')
  await trust(fiona!, await ownerId(alex!), 'Alex')
  const alexId = await loadIdentity(alex!)
  const fionaId = await loadIdentity(fiona!)
  const alexHex = hex(alexId.roster.owner)
  const fionaHex = hex(fionaId.roster.owner)

  // Fiona's home keeps Alex's signed roster and his backup pointer (seq 1), as after an earlier run.
  const alexRoster = await readFile(join(alex!, 'identity', 'roster'))
  await mkdir(join(fiona!, 'friends'), { recursive: true })
  await writeFile(join(fiona!, 'friends', `${alexHex}.roster`), alexRoster)
  const v = encodePointer([{ seq: 1, sha256: 'ab'.repeat(32), size: 1000 }])
  const signed = encode({ salt: BACKUP_SALT, seq: 1, v })
  const sig = signBytes(alexId.owner!.seed, signed.subarray(1, signed.length - 1))
  await mkdir(join(fiona!, 'backup', 'held', alexHex), { recursive: true })
  await writeFile(join(fiona!, 'backup', 'held', alexHex, 'pointer.json'), JSON.stringify({ seq: 1, v: hex(encode(v)), sig: hex(sig) }))

  // Alex's device, in-process with its own key and certificate.
  const alexSwarm = new Swarm({
    credentials: { deviceSeed: alexId.device.seed, certificate: encodeCertificate(alexId.certificate) },
    roster: () => alexId.roster,
    circleSecret: alexId.circleSecret,
    cacheDir: join(root, 'alex-cache'),
    port: 0,
    host: '127.0.0.1',
  })
  await alexSwarm.start()
  t.teardown(() => alexSwarm.close())
  const told: Array<{ on: string; n: ManifestNotice }> = []
  alexSwarm.holders.on('notice', (_l: DeviceLink, n: ManifestNotice) => void told.push({ on: 'backup', n }))
  alexSwarm.friends.on('notice', (_l: DeviceLink, n: ManifestNotice) => void told.push({ on: 'share', n }))

  // Fiona's node starts, and stays in mid-start (discovery waits on the tracker) until released.
  const tracker = await heldTracker(t)
  let started = false
  const warnings: string[] = []
  const starting = Node.start({
    home: fiona!, peerPort: 0, peerHost: '127.0.0.1', apiPort: 0, tracker: false, dht: false, trackers: [tracker.url],
    analyze: false, uiDir: null, onWarning: (e) => void warnings.push(e.message),
  }).then((n) => {
    started = true
    return n
  })
  t.teardown(async () => {
    tracker.release()
    await (await starting.catch(() => null))?.close()
  })
  const peerPort = await tracker.port

  const secret = friendSecrets(fionaId).get(alexHex)!
  const ofFiona = (p: VerifiedPeer) => p.kind === 'friend' && hex(p.certificate.owner) === fionaHex
  const backupLink = await alexSwarm.connectHolder('127.0.0.1', peerPort, backupChannelInfoHash(secret, alexId.roster.owner), ofFiona)
  const roster = await alexSwarm.holders.command(backupLink, OWNER_ROSTER_COMMAND, new Uint8Array(0))
  const pointer = readPointerAnswer(await alexSwarm.holders.command(backupLink, POINTER_COMMAND, new Uint8Array(0)), alexId.roster.owner)
  const shareLink = await alexSwarm.connectFriend('127.0.0.1', peerPort, shareChannelInfoHash(secret, fionaId.roster.owner), fionaHex)
  // Her phone, an own device, asks about a pull job: answered by the pull service, not refused as "not served here".
  const phoneId = await loadIdentity(fionaPhone!)
  const phone = new Swarm({
    credentials: { deviceSeed: phoneId.device.seed, certificate: encodeCertificate(phoneId.certificate) },
    roster: () => phoneId.roster, circleSecret: phoneId.circleSecret, cacheDir: join(root, 'phone-cache'), port: 0, host: '127.0.0.1',
  })
  await phone.start()
  t.teardown(() => phone.close())
  const phoneLink = await phone.connectDevice('127.0.0.1', peerPort)
  const pullStatus = await phone.devices.command(phoneLink, 'pull-status', encode({ job: 'no-such-job' })).then(
    (b) => `answered ${b.length} bytes`,
    (err: Error) => `refused: ${err.message}`,
  )
  await until(async () => (told.filter((x) => x.n.kind === 'roster').length >= 2 ? true : undefined), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}: told ${JSON.stringify(told.map((x) => [x.on, x.n.kind]))}`)
  })
  t.false(started, 'all of this happened while the node was still starting')
  t.notRegex(pullStatus, /not served here/, 'the pull service answered its own device during start-up')

  t.true(Buffer.from(roster).equals(alexRoster), "Alex's roster as Fiona's node keeps it")
  t.is(pointer?.seq, 1, "Alex's pointer as Fiona's node keeps it")
  t.is(hex(shareLink.session.peer.certificate.owner), fionaHex)
  const rosterNotices = told.filter((x) => x.n.kind === 'roster')
  t.deepEqual(rosterNotices.map((x) => x.on).sort(), ['backup', 'share'], "Fiona's roster, told on each link")
  t.true(rosterNotices.every((x) => x.n.signer === fionaHex))

  tracker.release()
  await starting
  t.true(started)
  t.deepEqual(warnings.filter((w) => /not served|refused/.test(w)), [])
})
