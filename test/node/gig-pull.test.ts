// Gig preparation across real node processes on loopback: a playlist pulled
// from two devices to a third with a verified report; a holder killed
// mid-pull and the re-run fetching only what is missing; a pull asked of
// another own device; and requests the target refuses (unsigned, bad
// signature, expired, replayed, a friend's device).
import test from 'ava'
import { copyFile, mkdir } from 'node:fs/promises'
import { dialLink } from '../../src/link/index.ts'
import { join } from 'node:path'
import { asBytes, asDict, decode, encode } from '../../src/codec/index.ts'
import { friendSecret, loadIdentity, signBytes, type Identity } from '../../src/identity/index.ts'
import { authenticate, CommandError, DeviceChannel, deviceChannelInfoHash, shareChannelInfoHash, type DeviceLink } from '../../src/swarm/index.ts'
import { encodeSigned, signPullRequest } from '../../src/node/pull-request.ts'
import type { GigReport } from '../../src/node/gig-pull.ts'
import type { PullJobView } from '../../src/node/pull-service.ts'
import { readApiToken } from '../../src/player/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav, writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { cli, runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { freePort } from '../helpers/ports.ts'
import { credentialsOf } from '../helpers/identity-swarm.ts'

const timings = { redial: 500, manifestPoll: 1_000, pullNoWiresGrace: 1_000 } // ms: devices redial and check the DHT often here; a pull looks holders up again soon after its last wire goes

async function api<T>(n: NodeProcess, home: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const token = (await readApiToken(home))!
  const res = await fetch(n.info.api + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, json: (await res.json()) as T }
}

const linked = (n: NodeProcess, home: string, names: string[]) => async () => {
  const { json } = await api<{ devices: Array<{ name: string }> }>(n, home, 'GET', '/api/devices')
  return names.every((x) => json.devices.some((d) => d.name === x)) ? true : undefined
}

const byTitle = (r: GigReport) => Object.fromEntries(r.tracks.map((t) => [t.title, t]))

test.serial('a playlist pulled to a third device from two; a holder killed mid-pull; the re-run fetches only what is missing; a pull asked of another device', async (t) => {
  const root = await tempDir(t)
  const [home, phone, laptop] = await makeHomes(root, ['home-pc', 'phone', 'laptop'])
  const m = { home: join(root, 'm-home'), phone: join(root, 'm-phone') }
  await mkdir(m.home)
  await mkdir(m.phone)
  await writeTrack(join(m.home, 'a1.wav'), { title: 'Home One', artist: 'DJ' }, 1, 20)
  await writeTrack(join(m.home, 'a2.wav'), { title: 'Home Two', artist: 'DJ' }, 2, 10)
  await writeTrack(join(m.phone, 'b1.wav'), { title: 'Phone One', artist: 'DJ' }, 3, 20)
  await writeNoiseWav(join(m.phone, 'big.wav'), 40 * 1024 * 1024, 9) // title "Noise 9"
  // both devices hold "Home Two": a pull takes it from either or both
  await copyFile(join(m.home, 'a2.wav'), join(m.phone, 'a2.wav'))

  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  // The phone comes back on the same ports after it is killed, as a real device does.
  const phoneArgs = ['--tracker', h.info.tracker!, '--port', String(await freePort()), '--dht-port', String(await freePort())]
  let p = await serveNode(t, phone!, phoneArgs, { timings })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await cli(home!, ['scan', m.home])
  await cli(phone!, ['scan', m.phone])
  await until(linked(l, laptop!, ['home-pc', 'phone']), 20_000)
  const ids = await until(async () => {
    const ls = JSON.parse(await cli(laptop!, ['ls', '--json'])) as Array<{ sha256: string; tags: { title: string }; holders: unknown[] }>
    return ls.length === 4 && ls.every((x) => x.holders.length > 0) ? new Map(ls.map((x) => [x.tags.title, x.sha256])) : undefined
  }, 20_000)
  await cli(laptop!, ['playlist', 'create', 'Warmup'])
  await cli(laptop!, ['playlist', 'add', 'Warmup', ids.get('Home One')!, ids.get('Phone One')!, ids.get('Home Two')!, ids.get('Home One')!])
  await cli(laptop!, ['playlist', 'create', 'Peak'])
  await cli(laptop!, ['playlist', 'add', 'Peak', ids.get('Home Two')!, ids.get('Noise 9')!])

  // 1. Warmup: three distinct tracks from two devices, each fetched and verified.
  const first = await runCli(['pull', '--playlist', 'Warmup', '--json'], { DJCLOUD_HOME: laptop! })
  t.is(first.code, 0, first.stderr + '\nLAPTOP\n' + l.stderr())
  const r1 = JSON.parse(first.stdout) as GigReport
  t.true(r1.ready)
  t.is(r1.device.name, 'laptop')
  t.deepEqual([r1.present, r1.fetched, r1.missing, r1.tracks.length], [3, 3, 0, 3])
  t.true(r1.tracks.every((x) => x.verified && x.state === 'fetched'))
  t.deepEqual(byTitle(r1)['Home One']!.positions, [1, 4])
  t.deepEqual(Object.keys(byTitle(r1)['Phone One']!.sources), ['phone'])
  t.deepEqual(Object.keys(byTitle(r1)['Home One']!.sources), ['home-pc'])
  // Pulled tracks are pinned: the cache keeps them whatever else comes in.
  t.true(r1.pinned)
  const cache = await api<{ tracks: Array<{ sha256: string; pinned: boolean }> }>(l, laptop!, 'GET', '/api/cache')
  t.deepEqual(
    r1.tracks.map((x) => cache.json.tracks.find((c) => c.sha256 === x.sha256)?.pinned),
    r1.tracks.map(() => true),
  )

  // 2. Peak: the phone, only holder of the big track, dies while it is being fetched.
  const started = await api<{ job: PullJobView }>(l, laptop!, 'POST', '/api/pull', { playlist: 'Peak' })
  t.is(started.status, 202)
  const busy = await api<{ error: { code: string } }>(l, laptop!, 'POST', '/api/pull', { playlist: 'Warmup' })
  t.is(busy.status, 409)
  await until(async () => {
    const { json } = await api<{ job: PullJobView }>(l, laptop!, 'GET', `/api/pull/${started.json.job.id}`)
    return json.job.active.some((a) => a.title === 'Noise 9' && a.bytes > 0) || json.job.state !== 'running' ? true : undefined
  }, 20_000, 10)
  await p.stop('SIGKILL')
  const done = await until(async () => {
    const { json } = await api<{ job: PullJobView }>(l, laptop!, 'GET', `/api/pull/${started.json.job.id}`)
    return json.job.state === 'running' ? undefined : json.job
  }, 30_000)
  const r2 = done.report!
  t.false(r2.ready, JSON.stringify(r2))
  t.is(byTitle(r2)['Home Two']!.state, 'present') // pulled with Warmup already
  t.true(byTitle(r2)['Home Two']!.verified)
  t.is(byTitle(r2)['Noise 9']!.state, 'missing')
  t.is(byTitle(r2)['Noise 9']!.reason, 'no online holder')
  const notReady = await runCli(['pull', '--playlist', 'Peak'], { DJCLOUD_HOME: laptop! })
  t.is(notReady.code, 1)
  t.regex(notReady.stdout, /MISSING: no online holder/)
  t.regex(notReady.stdout, /NOT gig-ready/)
  // a pull asked of the phone now: it is not linked
  const offline = await api<{ error: { code: string } }>(l, laptop!, 'POST', '/api/pull', { playlist: 'Peak', device: 'phone' })
  t.is(offline.status, 503)
  t.is(offline.json.error.code, 'ERR_DEVICE_OFFLINE')

  // 3. The phone is back: the re-run fetches only the big track.
  p = await serveNode(t, phone!, phoneArgs, { timings })
  await until(linked(l, laptop!, ['phone']), 20_000)
  const again = await runCli(['pull', '--playlist', 'Peak', '--json'], { DJCLOUD_HOME: laptop! })
  t.is(again.code, 0, again.stderr)
  const r3 = JSON.parse(again.stdout) as GigReport
  t.true(r3.ready)
  t.deepEqual(r3.tracks.filter((x) => x.state === 'fetched').map((x) => x.title), ['Noise 9'])
  t.deepEqual(r3.tracks.filter((x) => x.state === 'present').map((x) => x.title), ['Home Two'])
  t.true(r3.tracks.every((x) => x.verified))

  // 4. The laptop asks the phone to get Warmup ready: the phone fetches what it lacks.
  await until(async () => ((JSON.parse(await cli(phone!, ['playlist', 'ls', '--json'])) as Array<{ name: string }>).some((x) => x.name === 'Warmup') ? true : undefined))
  const phoneId = (JSON.parse(await cli(phone!, ['id', '--json'])) as { deviceId: string }).deviceId
  const remote = await runCli(['pull', '--playlist', 'Warmup', '--device', phoneId, '--json'], { DJCLOUD_HOME: laptop! })
  t.is(remote.code, 0, remote.stderr + '\nPHONE\n' + p.stderr())
  const r4 = JSON.parse(remote.stdout) as GigReport
  t.true(r4.ready)
  t.is(r4.device.name, 'phone')
  t.is(byTitle(r4)['Phone One']!.state, 'present')
  t.is(byTitle(r4)['Home One']!.state, 'fetched')
  t.true(r4.tracks.every((x) => x.verified))
  // the phone's node shows the job it ran, and who asked for it
  const { json: onPhone } = await api<{ jobs: PullJobView[] }>(p, phone!, 'GET', '/api/pull')
  t.is(onPhone.jobs[0]!.requestedBy, 'laptop')
  // a playlist the phone does not know: its answer, passed on
  const nope = await api<{ error: { code: string; message: string } }>(l, laptop!, 'POST', '/api/pull', { playlist: 'Nope', device: 'phone' })
  t.is(nope.status, 404)
  t.is(nope.json.error.code, 'ERR_PLAYLIST_NOT_FOUND')
  t.regex(nope.json.error.message, /^phone: no playlist named "Nope"/)
  // by name too; an unknown device is 404
  t.is((await runCli(['pull', '--playlist', 'Warmup', '--device', 'phone'], { DJCLOUD_HOME: laptop! })).code, 0)
  const unknown = await runCli(['pull', '--playlist', 'Warmup', '--device', 'toaster'], { DJCLOUD_HOME: laptop! })
  t.is(unknown.code, 1)
  t.regex(unknown.stderr, /not an own device/)
})

/** Dials a node's peer port as `who` on `infoHash` and wraps the session in a device channel. */
async function dialChannel(who: Identity, port: number, infoHash: Buffer, allow: Parameters<typeof authenticate>[1]['allow']): Promise<{ ch: DeviceChannel; link: DeviceLink }> {
  const sock = await dialLink('127.0.0.1', port)
  const s = await authenticate(sock, {
    credentials: credentialsOf(who),
    roster: () => who.roster,
    extensions: ['dj_lookup'],
    infoHash,
    remote: { host: '127.0.0.1', port },
    allow,
    deadlineMs: 6_000,
  })
  const ch = new DeviceChannel({ peerPort: () => 1, answer: async () => null })
  return { ch, link: ch.add(s) }
}

async function refusal(ch: DeviceChannel, link: DeviceLink, body: Uint8Array): Promise<string> {
  try {
    const answer = await ch.command(link, 'pull', body)
    return `answered ${Buffer.from(answer).toString()}`
  } catch (err) {
    if (err instanceof CommandError && err.code === 'ERR_REFUSED') return err.message
    throw err
  }
}

test.serial('the target refuses unsigned, forged, expired, replayed (across a restart) and friends\' pull requests', async (t) => {
  const root = await tempDir(t)
  const [alex, alexPhone] = await makeHomes(join(root, 'a'), ['alex-pc', 'alex-phone'])
  const [fiona] = await makeHomes(join(root, 'f'), ['fiona-pc'])
  const ownerOf = async (h: string) => (JSON.parse(await cli(h, ['id', '--json'])) as { ownerId: string }).ownerId
  await cli(alex!, ['trust', 'add', await ownerOf(fiona!), '--role', 'friend', '--name', 'Fiona'])
  await cli(fiona!, ['trust', 'add', await ownerOf(alex!), '--role', 'friend', '--name', 'Alex'])
  const a = await serveNode(t, alex!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const alexId = await loadIdentity(alex!)
  const phoneId = await loadIdentity(alexPhone!)
  const fionaId = await loadIdentity(fiona!)
  const target = alexId.device.publicKey

  // An own device (the phone's keys, not running a node) on the device channel.
  const own = await dialChannel(phoneId, a.info.peerPort, deviceChannelInfoHash(phoneId.circleSecret), (x) => x.kind === 'own')
  t.teardown(() => own.ch.close())
  const unsigned = signPullRequest(phoneId.device, target, 'Nope')
  // the request bytes of a signed wire message, to send them unsigned or signed by someone else
  const req = (wire: Uint8Array) => asBytes(asDict(decode(wire), 'signed').req, 'req')
  t.is(await refusal(own.ch, own.link, encodeSigned({ req: req(unsigned.wire) })), 'unsigned request')
  t.is(await refusal(own.ch, own.link, encodeSigned({ req: req(unsigned.wire), sig: signBytes(fionaId.device.seed, req(unsigned.wire)) })), 'bad signature')
  const expired = signPullRequest(phoneId.device, target, 'Nope', Date.now() - 61_000)
  t.is(await refusal(own.ch, own.link, expired.wire), 'expired request')
  // a fresh request is accepted (the playlist does not exist there: an answer, not a refusal)...
  const fresh = signPullRequest(phoneId.device, target, 'Nope')
  t.regex(await refusal(own.ch, own.link, fresh.wire), /^answered .*ERR_PLAYLIST_NOT_FOUND/)
  // ...once
  t.is(await refusal(own.ch, own.link, fresh.wire), 'replayed request')
  // signed by another own device but sent by this one
  const relayed = signPullRequest(alexId.device, target, 'Nope')
  t.is(await refusal(own.ch, own.link, relayed.wire), 'signer is not the sending device')
  t.is(await refusal(own.ch, own.link, encode({ junk: 1 })), 'malformed request')

  // A friend's device: the device channel does not admit it at all...
  await t.throwsAsync(dialChannel(fionaId, a.info.peerPort, deviceChannelInfoHash(alexId.circleSecret), () => true))
  // ...and on the share channel made for it, a pull request is refused.
  const friend = await dialChannel(fionaId, a.info.peerPort, shareChannelInfoHash(friendSecret(alexId.owner!, fionaId.roster.owner), alexId.roster.owner), (x) => x.kind === 'friend')
  t.teardown(() => friend.ch.close())
  t.is(await refusal(friend.ch, friend.link, signPullRequest(fionaId.device, target, 'Nope').wire), 'foreign signer')
  t.is((await refusal(friend.ch, friend.link, encode({ job: 'x' })).catch((e: Error) => e.message)), 'malformed request')
  await t.throwsAsync(friend.ch.command(friend.link, 'pull-status', encode({ job: 'x' })), { message: 'only own devices may ask this' })
  // nothing ran
  const { json } = await api<{ jobs: PullJobView[] }>(a, alex!, 'GET', '/api/pull')
  t.deepEqual(json.jobs, [])

  // The target restarted within the request's lifetime still refuses its replay: accepted nonces are kept in its home.
  own.ch.close()
  await a.stop()
  const restarted = await serveNode(t, alex!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const again = await dialChannel(phoneId, restarted.info.peerPort, deviceChannelInfoHash(phoneId.circleSecret), (x) => x.kind === 'own')
  t.teardown(() => again.ch.close())
  t.is(await refusal(again.ch, again.link, fresh.wire), 'replayed request')
  t.regex(await refusal(again.ch, again.link, signPullRequest(phoneId.device, target, 'Nope').wire), /^answered .*ERR_PLAYLIST_NOT_FOUND/)
})
