// Playlists across real node processes, through the CLI: edits on one device
// reach the other, edits made apart merge without losing any, and a retagged
// file keeps its place.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, type NodeProcess } from '../helpers/node-process.ts'
import { runCli, runCliInProcess } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'
import { freePort } from '../helpers/ports.ts'
import { readApiToken } from '../../src/player/index.ts'

const timings = { redial: 500 } // ms: devices redial often here (edits travel as pushes, not polls)

interface Shown {
  name: string
  entries: Array<{ id: string; position: number; ref: { sha256: string }; track: { sha256: string; tags: { title?: string } } | null }>
}

async function cli(home: string, args: string[]): Promise<string> {
  const r = await runCliInProcess(args, { DJCLOUD_HOME: home })
  if (r.code !== 0) throw new Error(`djcloud ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const show = async (home: string, name: string) => JSON.parse(await cli(home, ['playlist', 'show', name, '--json'])) as Shown
const titles = (p: Shown) => p.entries.map((e) => e.track?.tags.title ?? '?')
const linked = (n: NodeProcess, name: string) => async () => {
  const { devices } = (await (await fetch(`${n.info.api}/api/devices`)).json()) as { devices: Array<{ name: string }> }
  return devices.some((d) => d.name === name) ? true : undefined
}

test('playlist edits reach the other device; edits made apart merge; a retagged track keeps its place', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  for (const [i, title] of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo'].entries()) {
    await writeTrack(join(music, `${title}.wav`), { title, artist: 'NATO' }, i + 1, 5)
  }
  // home-pc comes back on the same ports after a restart, as a real device does.
  const homeArgs = ['--tracker-port', String(await freePort()), '--tracker-host', '127.0.0.1', '--port', String(await freePort()), '--dht-port', String(await freePort())]
  let h = await serveNode(t, home!, homeArgs, { timings })
  const lapArgs = ['--tracker', h.info.tracker!]
  let l = await serveNode(t, laptop!, lapArgs, { timings })
  await until(linked(l, 'home-pc'))
  await cli(home!, ['scan', music])
  const ids = new Map(
    (JSON.parse(await cli(home!, ['ls', '--json'])) as Array<{ sha256: string; tags: { title: string } }>).map((x) => [x.tags.title, x.sha256]),
  )

  await cli(home!, ['playlist', 'create', 'Friday Set'])
  await cli(home!, ['playlist', 'add', 'Friday Set', ids.get('Alpha')!, ids.get('Bravo')!, ids.get('Charlie')!.slice(0, 10)])
  const onLaptop = await until(async () => {
    const p = await show(laptop!, 'Friday Set')
    return p.entries.length === 3 ? p : undefined
  }, 10_000)
  t.deepEqual(titles(onLaptop), ['Alpha', 'Bravo', 'Charlie'])
  const list = JSON.parse(await cli(laptop!, ['playlist', 'ls', '--json'])) as Array<{ name: string; tracks: number }>
  t.deepEqual(list.map((p) => [p.name, p.tracks]), [['Friday Set', 3]])

  // Apart: the laptop moves Charlie to the top and adds Delta; home-pc removes Bravo and adds Echo.
  await l.stop()
  await cli(home!, ['playlist', 'rm', 'Friday Set', '2'])
  await cli(home!, ['playlist', 'add', 'Friday Set', ids.get('Echo')!])
  t.deepEqual(titles(await show(home!, 'Friday Set')), ['Alpha', 'Charlie', 'Echo'])
  await h.stop()
  l = await serveNode(t, laptop!, lapArgs, { timings })
  await cli(laptop!, ['playlist', 'move', 'Friday Set', '3', '1'])
  await cli(laptop!, ['playlist', 'add', 'Friday Set', ids.get('Delta')!, '--at', '2'])
  t.deepEqual(titles(await show(laptop!, 'Friday Set')), ['Charlie', 'Delta', 'Alpha', 'Bravo'])

  // They meet again: both see the same merge, nothing lost.
  h = await serveNode(t, home!, homeArgs, { timings })
  const expected = ['Charlie', 'Delta', 'Alpha', 'Echo']
  const merged = await until(async () => {
    const [a, b] = [await show(home!, 'Friday Set'), await show(laptop!, 'Friday Set')]
    return JSON.stringify(titles(a)) === JSON.stringify(expected) && JSON.stringify(titles(b)) === JSON.stringify(expected) ? a : undefined
  }, 15_000)
  t.deepEqual(titles(merged), expected)
  await until(linked(h, 'laptop'))
  const published = JSON.parse(await cli(laptop!, ['playlist', 'publish', 'Friday Set', '--json'])) as { seq: number; infoHash: string; devices: string[]; dhtNodes: number }
  t.is(published.seq, 2, 'the laptop made two versions of its edits (a move, an add)')
  t.regex(published.infoHash, /^[0-9a-f]{40}$/)
  t.deepEqual(published.devices, ['home-pc'])
  t.true(published.dhtNodes >= 0)

  // DJ software retags Alpha: new file bytes, same audio. It keeps its place.
  const alphaBefore = merged.entries.find((e) => e.track?.tags.title === 'Alpha')!
  await writeTrack(join(music, 'Alpha.wav'), { title: 'Alpha (Remastered Tag)', artist: 'NATO', album: 'Tagged by DJ software' }, 1, 5)
  await cli(home!, ['scan', music])
  const retagged = await until(async () => {
    const p = await show(laptop!, 'Friday Set')
    return p.entries[2]?.track?.tags.title === 'Alpha (Remastered Tag)' ? p : undefined
  }, 10_000)
  t.is(retagged.entries[2]!.id, alphaBefore.id)
  t.is(retagged.entries[2]!.ref.sha256, alphaBefore.ref.sha256, 'the entry still names the file it was made from')
  t.not(retagged.entries[2]!.track!.sha256, alphaBefore.ref.sha256, 'and resolves to the retagged file')
})

test('playlist: usage errors exit 2, a missing playlist or a stopped node exit 1 with one line', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const noNode = await runCli(['playlist', 'ls'], { DJCLOUD_HOME: home! }) // the real binary: exit 1
  t.is(noNode.code, 1)
  t.regex(noNode.stderr, /no node runs on this home/)
  t.is((await runCliInProcess(['playlist', 'dance'], { DJCLOUD_HOME: home! })).code, 2)
  t.is((await runCliInProcess(['playlist', 'show'], { DJCLOUD_HOME: home! })).code, 2)
  const help = await runCliInProcess(['playlist', '--help'], { DJCLOUD_HOME: home! })
  t.is(help.code, 0)
  t.regex(help.stdout, /move <name> <from> <to>/)
  await serveNode(t, home!, ['--no-tracker'], { timings })
  const missing = await runCliInProcess(['playlist', 'show', 'Nope'], { DJCLOUD_HOME: home! })
  t.is(missing.code, 1)
  t.regex(missing.stderr, /^djcloud playlist: no playlist named "Nope"\n$/)
  await runCliInProcess(['playlist', 'create', 'Once'], { DJCLOUD_HOME: home! })
  const again = await runCliInProcess(['playlist', 'create', 'Once'], { DJCLOUD_HOME: home! })
  t.is(again.code, 1)
  t.regex(again.stderr, /already exists/)
  const badPos = await runCliInProcess(['playlist', 'rm', 'Once', '1'], { DJCLOUD_HOME: home! })
  t.is(badPos.code, 2)
})

test('the playlist API refuses what it should: no token, bad names and bodies, unknown tracks and entries', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['solo'])
  const n = await serveNode(t, home!, ['--no-tracker'], { timings })
  const token = (await readApiToken(home!))!
  const call = (method: string, path: string, body?: unknown, auth = true) =>
    fetch(n.info.api + path, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  t.is((await call('POST', '/api/playlists', { name: 'X' }, false)).status, 401)
  t.is((await call('POST', '/api/playlists', { name: '' })).status, 400)
  t.is((await call('POST', '/api/playlists', { name: 'a\u0000b' })).status, 400)
  t.is((await call('POST', '/api/playlists', { name: 'x'.repeat(300) })).status, 400)
  // One segment of /api/playlists/<name>: a name with a slash could never be opened again.
  for (const name of ['Sets/Friday', 'Sets\\Friday']) {
    const slash = await call('POST', '/api/playlists', { name })
    t.is(slash.status, 400)
    t.like(await slash.json(), { error: { code: 'ERR_BAD_PARAM', message: 'a playlist name cannot hold "/" or "\\"' } })
  }
  t.is((await call('POST', '/api/playlists', ['not', 'an', 'object'])).status, 400)
  t.is((await call('POST', '/api/playlists', { name: 'Set' })).status, 201)
  t.is((await call('POST', '/api/playlists/Set/tracks', { tracks: ['nothex'] })).status, 400)
  const unknown = await call('POST', '/api/playlists/Set/tracks', { tracks: ['a'.repeat(64)] })
  t.is(unknown.status, 404)
  t.is(((await unknown.json()) as { error: { code: string } }).error.code, 'ERR_TRACK_NOT_FOUND')
  t.is((await call('POST', '/api/playlists/Set/remove', { entries: ['nope.1'] })).status, 400)
  t.is((await call('POST', '/api/playlists/Set/move', { entry: 'nope.1', to: 0 })).status, 400)
  t.is((await call('POST', '/api/playlists/Set/share', { friend: 'not-an-id' })).status, 400)
  t.is((await call('GET', '/api/playlists/Nope')).status, 404)
  const got = (await (await call('GET', '/api/playlists/Set')).json()) as { playlist: { name: string; entries: unknown[] } }
  t.deepEqual(got.playlist, { name: 'Set', entries: [], shared: [] })
})
