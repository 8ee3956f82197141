// A collaborative playlist across two circles of real node processes (Alex:
// pc and phone; Fiona: pc and laptop). Alex makes Fiona a collaborator; all
// four devices edit, some while others do not hear them yet, and every device
// ends with the same order; each side streams the other's entries from the
// devices that hold them; withdrawing Fiona keeps what she merged and stops
// her later edits, even one her device signs and offers to Alex's device itself.
import test from 'ava'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { friendSecrets, loadIdentity } from '../../src/identity/index.ts'
import { addTracks, emptyEdits, encodeGuestEdits, mergePlaylist, packBlob } from '../../src/manifest/index.ts'
import { shareChannelInfoHash } from '../../src/swarm/index.ts'
import { credentialsOf, identitySwarm } from '../helpers/identity-swarm.ts'
import { cli, runCli } from '../helpers/cli.ts'
import { friendCircles } from '../helpers/friends.ts'
import { serveFirst, serveJoining } from '../helpers/friend-nodes.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { devicesOf } from '../helpers/node-devices.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500, manifestPoll: 1_000, shareRound: 1_000 } // ms: devices redial and look friends up often here

interface Entry { id: string; ref: { sha256: string; title?: string }; addedBy: { name: string }; holders: Array<{ circle: string }> }
interface View { collaborators: Array<{ name: string }>; pulls: boolean; inputs: Record<string, number>; entries: Entry[] }

async function api<T>(node: NodeProcess, home: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const token = (await readApiToken(home))!
  const res = await fetch(node.info.api + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, json: (await res.json()) as T }
}

test('two circles edit one playlist from four devices and converge; each streams the other\'s entries; a withdrawn collaborator\'s edits stop', async (t) => {
  t.timeout(300_000)
  const root = await tempDir(t)
  const { alex: [apc, aphone], fiona: [fpc, flaptop], alexOwner, fionaOwner } = await friendCircles(root, ['alex-pc', 'alex-phone'], ['fiona-pc', 'fiona-laptop'])
  const music = { a: join(root, 'music-a'), f: join(root, 'music-f') }
  await mkdir(music.a)
  await mkdir(music.f)
  await writeTrack(join(music.a, 'a1.wav'), { title: 'A One', artist: 'Alex' }, 1, 8)
  await writeTrack(join(music.a, 'a2.wav'), { title: 'A Two', artist: 'Alex' }, 2, 3)
  await writeTrack(join(music.a, 'a3.wav'), { title: 'A Three', artist: 'Alex' }, 3, 3)
  const f1 = await writeTrack(join(music.f, 'f1.wav'), { title: 'F One', artist: 'Fiona' }, 11, 8)
  await writeTrack(join(music.f, 'f2.wav'), { title: 'F Two', artist: 'Fiona' }, 12, 3)
  // A track of Alex's not in the playlist, of which Fiona happens to hold the very same file.
  await writeTrack(join(music.a, 'secret.wav'), { title: 'Not In The Set', artist: 'Alex' }, 7, 3)
  await writeTrack(join(music.f, 'secret.wav'), { title: 'Not In The Set', artist: 'Alex' }, 7, 3)

  const a = await serveFirst(t, apc!, { timings })
  let ap = await serveNode(t, aphone!, ['--tracker', a.info.tracker!, '--bootstrap', a.info.bootstrap!], { timings })
  const f = await serveJoining(t, fpc!, a.info.bootstrap!, { timings })
  const fl = await serveNode(t, flaptop!, ['--tracker', f.info.tracker!, '--bootstrap', a.info.bootstrap!], { timings })
  const nodes = { ALEX: a, ALEX_PHONE: ap, FIONA: f, FIONA_LAPTOP: fl }
  const logs = (err: Error) => withLogs(err, nodes)
  let all: Array<[NodeProcess, string]> = [[a, apc!], [ap, aphone!], [f, fpc!], [fl, flaptop!]]

  await cli(apc!, ['scan', music.a])
  await cli(fpc!, ['scan', music.f])
  const shaOf = async (home: string, title: string) =>
    (JSON.parse(await cli(home, ['ls', '--json'])) as Array<{ sha256: string; tags: { title: string } }>).find((x) => x.tags.title === title)!.sha256
  const sha = {
    a1: await shaOf(apc!, 'A One'), a2: await shaOf(apc!, 'A Two'), a3: await shaOf(apc!, 'A Three'),
    f1: await shaOf(fpc!, 'F One'), f2: await shaOf(fpc!, 'F Two'),
  }
  await until(async () => ((await devicesOf(ap, aphone!)).includes('alex-pc') && (await devicesOf(fl, flaptop!)).includes('fiona-pc')) || undefined, 60_000).catch((e: Error) => { throw logs(e) })

  await cli(apc!, ['playlist', 'create', 'b2b'])
  await cli(apc!, ['playlist', 'add', 'b2b', sha.a1, sha.a2])
  const granted = await cli(apc!, ['playlist', 'share', 'b2b', '--with', fionaOwner, '--edit'])
  t.regex(granted, /can be edited by Fiona/)

  // Each device's view, by the owner's id.
  const path = `/api/collab/${alexOwner}/b2b`
  const view = async (node: NodeProcess, home: string) => {
    const r = await api<{ playlist: View }>(node, home, 'GET', path)
    return r.status === 200 ? r.json.playlist : undefined
  }
  const order = async (node: NodeProcess, home: string) => (await view(node, home))?.entries.map((e) => e.ref.sha256).join(',')

  // Fiona's laptop learns the playlist (through her circle's link to Alex's devices) and adds a track of her pc's.
  await until(async () => ((await view(fl, flaptop!))?.collaborators.some((c) => c.name === 'you') ? true : undefined), 60_000).catch((e: Error) => { throw logs(e) })
  const added = await api<{ playlist: View }>(fl, flaptop!, 'POST', `${path}/tracks`, { tracks: [sha.f1], at: 1 })
  // The command shows it too, with who added each entry and where it is held.
  await until(async () => (/F One\s+\(added by you, fiona-laptop\)\s+\[you: fiona-pc\]/.test(await cli(flaptop!, ['playlist', 'show', 'b2b', '--from', 'Alex'])) ? true : undefined), 30_000)
  t.regex(await cli(flaptop!, ['playlist', 'show', 'b2b', '--from', 'Alex']), /A One\s+\(added by Alex\)\s+\[Alex\]/)
  t.is(added.status, 200)
  t.deepEqual(added.json.playlist.entries.map((e) => e.ref.sha256), [sha.a1, sha.f1, sha.a2])

  // Concurrent edits on all four devices, each against what it sees now.
  const move = async (node: NodeProcess, home: string, index: number, to: number, guest: boolean) => {
    const v = (await view(node, home))!
    const base = guest ? path : '/api/playlists/b2b'
    return api(node, home, 'POST', `${base}/move`, { entry: v.entries[index]!.id, to })
  }
  await until(async () => ((await order(ap, aphone!))?.includes(sha.f1) ? true : undefined), 60_000).catch((e: Error) => { throw logs(e) })
  await until(async () => ((await order(f, fpc!))?.includes(sha.f1) ? true : undefined), 60_000).catch((e: Error) => { throw logs(e) })
  const edits = await Promise.all([
    api(a, apc!, 'POST', '/api/playlists/b2b/tracks', { tracks: [sha.a3], at: 0 }),
    move(ap, aphone!, 2, 0, false),
    api(f, fpc!, 'POST', `${path}/tracks`, { tracks: [sha.f2] }),
    move(fl, flaptop!, 0, 2, true),
  ])
  t.deepEqual(edits.map((e) => e.status), [200, 200, 200, 200])
  const converged = await until(async () => {
    const orders = await Promise.all(all.map(([n, h]) => order(n, h)))
    return orders.every((o) => o === orders[0]) && orders[0]!.split(',').length === 5 ? orders[0] : undefined
  }, 90_000).catch(async (e: Error) => {
    const views = await Promise.all(all.map(([n, h]) => view(n, h)))
    throw logs(new Error(`${e.message}: ${JSON.stringify(views.map((v) => v?.entries.map((x) => `${x.ref.title}:${x.addedBy.name}`)))}`))
  })
  t.is(new Set(converged.split(',')).size, 5)

  // Fiona's laptop adds that track: an entry naming a track of Alex's he did not put in. His device
  // removes it (never opening it to friends), and the removal reaches her devices.
  const secret = await shaOf(fpc!, 'Not In The Set')
  t.is(secret, await shaOf(apc!, 'Not In The Set'))
  const claim = await api<{ playlist: View }>(fl, flaptop!, 'POST', `${path}/tracks`, { tracks: [secret] })
  t.is(claim.status, 200)
  t.true(claim.json.playlist.entries.some((e) => e.ref.sha256 === secret))
  await until(async () => {
    const views = await Promise.all(all.map(([n, h]) => view(n, h)))
    return views.every((v) => v && v.entries.length === 5 && !v.entries.some((e) => e.ref.sha256 === secret)) ? true : undefined
  }, 60_000).catch((e: Error) => { throw logs(e) })
  t.regex(a.stderr() + ap.stderr(), /removed 1 entry of "b2b" a collaborator added naming our tracks not in the playlist/)
  // Who added what, and the holders across both circles.
  const seen = (await view(a, apc!))!
  const f1Entry = seen.entries.find((e) => e.ref.sha256 === sha.f1)!
  t.is(f1Entry.addedBy.name, 'Fiona')
  t.deepEqual(f1Entry.holders.map((h) => h.circle), ['Fiona'])
  t.is(seen.entries.find((e) => e.ref.sha256 === sha.a1)!.addedBy.name, 'you')

  // Alex streams Fiona's track from her devices; Fiona's laptop streams Alex's from his.
  const f1Bytes = await readFile(f1)
  const got = await until(async () => {
    const res = await fetch(`${a.info.api}/stream/${sha.f1}`, { headers: { authorization: `Bearer ${await readApiToken(apc!)}` } })
    return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined
  }, 60_000).catch((e: Error) => { throw logs(e) })
  t.true(got.equals(f1Bytes))
  const a1Res = await until(async () => {
    const res = await fetch(`${fl.info.api}/stream/${sha.a1}`, { headers: { authorization: `Bearer ${await readApiToken(flaptop!)}` } })
    return res.status === 200 ? (await res.arrayBuffer()).byteLength : undefined
  }, 60_000).catch((e: Error) => { throw logs(e) })
  t.true(a1Res > 0)

  // Alex's phone goes offline; the others edit; back, it edits at once from what it knew, and all converge again.
  await ap.stop()
  const offline = await Promise.all([move(fl, flaptop!, 4, 0, true), move(a, apc!, 2, 1, false)])
  t.deepEqual(offline.map((e) => e.status), [200, 200])
  ap = await serveNode(t, aphone!, ['--tracker', a.info.tracker!, '--bootstrap', a.info.bootstrap!], { timings })
  all = [[a, apc!], [ap, aphone!], [f, fpc!], [fl, flaptop!]]
  const back = await Promise.all([move(ap, aphone!, 0, 4, false), move(f, fpc!, 1, 3, true)])
  t.deepEqual(back.map((e) => e.status), [200, 200])
  // Each editing device's own set as it stands after its edit: every device must merge at least these.
  const editors = await Promise.all([[fl, flaptop!], [a, apc!], [ap, aphone!], [f, fpc!]].map(async ([n, h]) => (await view(n as NodeProcess, h as string))!.inputs))
  const need: Record<string, number> = {}
  for (const inputs of editors) for (const [d, c] of Object.entries(inputs)) need[d] = Math.max(need[d] ?? 0, c)
  const again = await until(async () => {
    const views = await Promise.all(all.map(([n, h]) => view(n, h)))
    if (!views.every((v) => v && JSON.stringify(v.inputs) === JSON.stringify(views[0]!.inputs))) return undefined
    if (!Object.entries(need).every(([d, c]) => (views[0]!.inputs[d] ?? 0) >= c)) return undefined
    // The same edit sets everywhere: the same order everywhere.
    const orders = views.map((v) => v!.entries.map((e) => e.ref.sha256).join(','))
    return orders.every((o) => o === orders[0]) ? orders[0] : 'differs'
  }, 90_000).catch(async (e: Error) => {
    const views = await Promise.all(all.map(([n, h]) => view(n, h)))
    throw logs(new Error(`${e.message}: ${JSON.stringify(views.map((v) => [v?.inputs, v?.entries.map((x) => `${x.ref.title}:${x.addedBy.name}`)]))}`))
  })
  t.not(again, 'differs', 'the same edit sets merge to the same order on every device')
  t.is(again!.split(',').length, 5)
  const settled = [again]

  // Fiona's laptop pulls the set for the gig: streaming only by default, so Alex's tracks are missing and say why.
  const pull = async () => {
    const r = await runCli(['pull', '--playlist', 'b2b', '--from', alexOwner, '--json'], { DJCLOUD_HOME: flaptop! })
    if (!r.stdout) throw logs(new Error(`pull: ${r.stderr}`))
    return JSON.parse(r.stdout) as { ready: boolean; pinned: boolean; tracks: Array<{ sha256: string; state: string; reason?: string; verified: boolean; sources: Record<string, number> }> }
  }
  const first = await pull()
  t.false(first.ready)
  for (const s of [sha.a1, sha.a2, sha.a3]) t.like(first.tracks.find((x) => x.sha256 === s), { state: 'missing', reason: 'streaming only' })
  for (const s of [sha.f1, sha.f2]) t.true(['fetched', 'present'].includes(first.tracks.find((x) => x.sha256 === s)!.state))
  // Alex allows pulls of his tracks of this playlist: every entry fetched, verified and pinned on her laptop.
  t.regex(await cli(apc!, ['playlist', 'pulls', 'b2b', 'allow']), /may pull/)
  await until(async () => ((await view(fl, flaptop!))?.pulls ? true : undefined), 60_000).catch((e: Error) => { throw logs(e) })
  const second = await pull()
  t.true(second.ready, JSON.stringify(second.tracks))
  t.true(second.pinned)
  t.deepEqual(second.tracks.map((x) => x.sha256).sort(), Object.values(sha).sort())
  t.true(second.tracks.every((x) => x.verified))
  t.true([sha.a1, sha.a2, sha.a3].every((s) => second.tracks.find((x) => x.sha256 === s)!.state === 'fetched'))
  const cached = (JSON.parse(await cli(flaptop!, ['cache', 'ls', '--json'])) as { tracks: Array<{ sha256: string; pinned: boolean }> }).tracks
  t.true([sha.a1, sha.f1].every((s) => cached.some((c) => c.sha256 === s && c.pinned)), JSON.stringify(cached))

  // Withdrawn (read-only again): what Fiona merged stays; her later edits are refused.
  await cli(apc!, ['playlist', 'share', 'b2b', '--with', fionaOwner])
  await until(async () => ((await view(fl, flaptop!))?.collaborators.length === 0 ? true : undefined), 60_000).catch((e: Error) => { throw logs(e) })
  const refused = await api<{ error: { code: string } }>(fl, flaptop!, 'POST', `${path}/tracks`, { tracks: [sha.f2] })
  t.is(refused.status, 403)
  const after = await Promise.all(all.map(([n, h]) => order(n, h)))
  t.true(after.every((o) => o === settled[0]), 'what Fiona merged before stays everywhere')

  // A removed collaborator's device signs a later edit anyway and offers it to Alex's device itself:
  // verified, then refused (its owner is no collaborator now); nothing changes.
  await fl.stop()
  const flId = await loadIdentity(flaptop!)
  const alexId = await loadIdentity(apc!)
  const alexHex = Buffer.from(alexId.roster.owner).toString('hex')
  const device = Buffer.from(flId.device.publicKey).toString('hex')
  const late = addTracks(emptyEdits(), mergePlaylist(new Map()), device, [{ sha256: sha.f2 }])
  const signed = encodeGuestEdits({ owner: alexHex, name: 'b2b', seq: 1_000, created: Date.now(), edits: { ...late, next: 500, entries: late.entries.map((x) => ({ ...x, id: `${device}.500` })) } }, credentialsOf(flId), device)
  const blob = packBlob(signed, flId.circleSecret)
  const rogue = await identitySwarm(t, flId, join(root, 'rogue-cache'), {
    sharing: { channelFor: () => undefined, allows: () => false, answer: async () => null, blob: async (_o, id) => (id === blob.sha256 ? blob.data : undefined) },
  })
  const channel = shareChannelInfoHash(friendSecrets(flId).get(alexHex)!, alexId.roster.owner)
  const link = await rogue.connectFriend('127.0.0.1', a.info.peerPort, channel, alexHex)
  rogue.friends.notify({ kind: 'collab', name: `${alexHex}/b2b`, signer: device, infoHash: blob.infoHash, seq: 1_000, sha256: blob.sha256 }, [link])
  await until(async () => (/refused a collaborator edit set from fiona-laptop: the signer's owner is not a collaborator/.test(a.stderr()) ? true : undefined), 30_000).catch((e: Error) => { throw logs(e) })
  t.is(await order(a, apc!), settled[0])
})
