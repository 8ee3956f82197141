// Collaborative edits through the DHT alone (docs/node.md, "Collab"): Alex's
// circle (pc, phone) and Fiona's (pc, laptop) meet once over links, so each
// device follows the other circle's roster and Fiona's devices hold the
// playlist; then every node restarts with `--no-friend-links`, so no device
// of one circle links with a device of the other, and only the private DHT
// (bootstrap on 127.0.0.1) joins them. An edit on Fiona's laptop reaches
// both of Alex's devices, and an edit on Alex's pc both of Fiona's.
import test from 'ava'
import { access, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { friendSecrets, loadIdentity } from '../../src/identity/index.ts'
import { addTracks, DhtNode, emptyEdits, encodeGuestEdits, mergePlaylist, packBlob } from '../../src/manifest/index.ts'
import { collabItemSalt, sealItems } from '../../src/node/collab-item.ts'
import { credentialsOf } from '../helpers/identity-swarm.ts'
import { readApiToken } from '../../src/player/index.ts'
import { cli } from '../helpers/cli.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { devicesOf } from '../helpers/node-devices.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: the DHT items are read each second here

interface View { collaborators: Array<{ name: string }>; entries: Array<{ id: string; ref: { sha256: string } }> }

async function api<T>(node: NodeProcess, home: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const token = (await readApiToken(home))!
  const res = await fetch(node.info.api + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, json: (await res.json()) as T }
}

const exists = (p: string) => access(p).then(() => true, () => false)

test('with no link between two circles, collaborative edits travel both ways through the DHT alone', async (t) => {
  t.timeout(300_000)
  const root = await tempDir(t)
  const { alex: [apc, aphone], fiona: [fpc, flaptop], alexOwner, fionaOwner } = await friendCircles(root, ['alex-pc', 'alex-phone'], ['fiona-pc', 'fiona-laptop'])
  const music = { a: join(root, 'music-a'), f: join(root, 'music-f') }
  await mkdir(music.a)
  await mkdir(music.f)
  await writeTrack(join(music.a, 'a1.wav'), { title: 'A One', artist: 'Alex' }, 1, 3)
  await writeTrack(join(music.a, 'a2.wav'), { title: 'A Two', artist: 'Alex' }, 2, 3)
  await writeTrack(join(music.f, 'f1.wav'), { title: 'F One', artist: 'Fiona' }, 11, 3)
  const shaOf = async (home: string, title: string) =>
    (JSON.parse(await cli(home, ['ls', '--json'])) as Array<{ sha256: string; tags: { title: string } }>).find((x) => x.tags.title === title)!.sha256

  // Once, over links: each device follows the other circle's roster; Fiona's devices learn the playlist.
  const serveAll = async (extra: string[]) => {
    // Alex's pc traces what it reads from the DHT (what the replay check below waits for).
    const a = await serveNode(t, apc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1', ...extra], { timings, env: { DEBUG: 'djcloud:node:collab-dht' } })
    const boot = a.info.bootstrap!
    const ap = await serveNode(t, aphone!, ['--tracker', a.info.tracker!, '--bootstrap', boot, ...extra], { timings })
    const f = await serveNode(t, fpc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1', '--bootstrap', boot, ...extra], { timings })
    const fl = await serveNode(t, flaptop!, ['--tracker', f.info.tracker!, '--bootstrap', boot, ...extra], { timings })
    return { ALEX: a, ALEX_PHONE: ap, FIONA: f, FIONA_LAPTOP: fl }
  }
  let nodes = await serveAll([])
  const logs = (err: Error) => withLogs(err, nodes)
  await cli(apc!, ['scan', music.a])
  const sha = { a1: await shaOf(apc!, 'A One'), a2: await shaOf(apc!, 'A Two') }
  await cli(apc!, ['playlist', 'create', 'b2b'])
  await cli(apc!, ['playlist', 'add', 'b2b', sha.a1, sha.a2])
  t.regex(await cli(apc!, ['playlist', 'share', 'b2b', '--with', fionaOwner, '--edit']), /can be edited by Fiona/)
  const path = `/api/collab/${alexOwner}/b2b`
  const view = async (node: NodeProcess, home: string) => {
    const r = await api<{ playlist: View }>(node, home, 'GET', path)
    return r.status === 200 ? r.json.playlist : undefined
  }
  const ownerHex = async (home: string) => Buffer.from((await loadIdentity(home)).roster.owner).toString('hex')
  const [alexHex, fionaHex] = [await ownerHex(apc!), await ownerHex(fpc!)]
  const follows = (home: string, owner: string) => exists(join(home, 'friends', `${owner}.roster`))
  let ok: unknown[] = []
  await until(async () => {
    ok = await Promise.all([
      follows(apc!, fionaHex), follows(aphone!, fionaHex), follows(fpc!, alexHex), follows(flaptop!, alexHex),
      view(nodes.FIONA, fpc!).then((v) => v?.collaborators.some((c) => c.name === 'you')),
      view(nodes.FIONA_LAPTOP, flaptop!).then((v) => v?.collaborators.some((c) => c.name === 'you')),
    ])
    return ok.every(Boolean) || undefined
  }, 90_000).catch((e: Error) => { throw logs(new Error(`${e.message}: ${JSON.stringify(ok)}`)) })
  await Promise.all(Object.values(nodes).map((n) => n.stop()))

  // From now on no device links with the other circle's.
  nodes = await serveAll(['--no-friend-links'])
  await until(async () => ((await devicesOf(nodes.ALEX_PHONE, aphone!)).includes('alex-pc') && (await devicesOf(nodes.FIONA_LAPTOP, flaptop!)).includes('fiona-pc')) || undefined, 60_000)
    .catch((e: Error) => { throw logs(e) })
  await cli(flaptop!, ['scan', music.f])
  const f1 = await shaOf(flaptop!, 'F One')

  // Fiona's laptop adds her track: both of Alex's devices show it.
  const added = await api<{ playlist: View }>(nodes.FIONA_LAPTOP, flaptop!, 'POST', `${path}/tracks`, { tracks: [f1], at: 0 })
  t.is(added.status, 200)
  const onAlex = await until(async () => {
    const views = await Promise.all([view(nodes.ALEX, apc!), view(nodes.ALEX_PHONE, aphone!)])
    return views.every((v) => v?.entries[0]?.ref.sha256 === f1) ? views.map((v) => v!.entries.map((e) => e.ref.sha256)) : undefined
  }, 90_000).catch((e: Error) => { throw logs(e) })
  t.deepEqual(onAlex, [[f1, sha.a1, sha.a2], [f1, sha.a1, sha.a2]])

  // Alex's pc moves his last entry to the top: both of Fiona's devices show it.
  const mine = (await api<{ playlist: View }>(nodes.ALEX, apc!, 'GET', '/api/playlists/b2b')).json.playlist
  const moved = await api(nodes.ALEX, apc!, 'POST', '/api/playlists/b2b/move', { entry: mine.entries[2]!.id, to: 0 })
  t.is(moved.status, 200)
  const onFiona = await until(async () => {
    const views = await Promise.all([view(nodes.FIONA, fpc!), view(nodes.FIONA_LAPTOP, flaptop!)])
    return views.every((v) => v?.entries[0]?.ref.sha256 === sha.a2) ? views.map((v) => v!.entries.map((e) => e.ref.sha256)) : undefined
  }, 90_000).catch((e: Error) => { throw logs(e) })
  t.deepEqual(onFiona, [[sha.a2, f1, sha.a1], [sha.a2, f1, sha.a1]])

  // No link between the circles carried any of it.
  for (const [label, n] of Object.entries(nodes)) t.notRegex(n.stderr(), /^friend /m, `${label} linked with a friend's device`)

  // What Alex's pc reads from the DHT meets the link path's checks. Items under the laptop's key,
  // sealed for Alex's circle, each at a higher item seq than the laptop's own: first its own set
  // signed again at the seq Alex holds (a replay: ignored, nothing rolls back), then one claiming
  // its set with a track it never signed put in (a forgery: refused).
  const flId = await loadIdentity(flaptop!)
  const flDevice = Buffer.from(flId.device.publicKey).toString('hex')
  const dht = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [nodes.ALEX.info.bootstrap!] })
  t.teardown(() => dht.close())
  const place = { secret: friendSecrets(flId).get(alexHex)!, kind: 'guest' as const, owner: alexHex, name: 'b2b', writer: flDevice }
  const itemSeq = (JSON.parse(await readFile(join(flaptop!, 'collab', 'dht.json'), 'utf8')) as { seqs: Record<string, number> }).seqs[`guest:${alexHex}/b2b:${alexHex}`]!
  const putAs = async (seq: number, guestSeq: number, forge: boolean) => {
    const edits = addTracks(emptyEdits(), mergePlaylist(new Map()), flDevice, [{ sha256: sha.a1 }])
    const signed = Buffer.from(encodeGuestEdits({ owner: alexHex, name: 'b2b', seq: guestSeq, created: Date.now(), edits }, credentialsOf(flId), flDevice))
    // Another track id in place of the one signed (same length: still well-formed, no longer what was signed).
    if (forge) Buffer.from(sha.a2).copy(signed, signed.indexOf(Buffer.from(sha.a1)))
    const values = sealItems(place, packBlob(signed, flId.circleSecret).data)
    for (const [i, v] of values.entries()) await dht.putItem({ seed: flId.device.seed, salt: collabItemSalt(place, i), seq, v })
  }
  const before = (await view(nodes.ALEX, apc!))!.entries.map((e) => e.ref.sha256)
  await putAs(itemSeq + 10, 1, false)
  await until(async () => (new RegExp(`read the edit set of "b2b" from ${flDevice.slice(0, 12)} at seq ${itemSeq + 10}: old`).test(nodes.ALEX.stderr()) ? true : undefined), 60_000)
    .catch((e: Error) => { throw logs(e) })
  await putAs(itemSeq + 11, 2, true)
  await until(async () => (new RegExp(`refused a collaborator edit set from the DHT item of ${flDevice.slice(0, 12)}: .*signature`).test(nodes.ALEX.stderr()) ? true : undefined), 60_000)
    .catch((e: Error) => { throw logs(e) })
  t.deepEqual((await view(nodes.ALEX, apc!))!.entries.map((e) => e.ref.sha256), before)
})
