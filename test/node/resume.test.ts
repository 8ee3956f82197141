// Restarting a real node over a cache left by an earlier run: damaged or
// unfinished partial downloads, and a SIGTERM while a fetch is stuck.
import test from 'ava'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { pieceLengthFor } from '../../src/library/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { cachePaths } from '../../src/swarm/index.ts'
import { Bitfield } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { devicesOf } from '../helpers/node-devices.ts'
import { runCli } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

const timings = { redial: 500 } // ms: devices redial often here

/** What a run killed after writing every piece leaves: the whole .part, a full .have (16 bytes flipped at `flipAt`, if given). */
async function leaveFullPartial(cacheDir: string, bytes: Buffer, flipAt?: number): Promise<string> {
  const sha = createHash('sha256').update(bytes).digest('hex')
  const pieces = Math.ceil(bytes.length / pieceLengthFor(bytes.length))
  await mkdir(cacheDir, { recursive: true })
  const part = Buffer.from(bytes)
  if (flipAt !== undefined) for (let i = flipAt; i < flipAt + 16; i++) part[i] = part[i]! ^ 0x5a
  const paths = cachePaths(cacheDir, sha)
  await writeFile(paths.part, part)
  await writeFile(paths.have, Bitfield.full(pieces).bytes)
  return sha
}

test('restart over a full .have: a damaged piece is fetched again and /stream serves the right bytes; an unfinished final check completes and `djcloud get` returns', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const src = join(root, 'src')
  await mkdir(src)
  const a = await readFile(await writeNoiseWav(join(src, 'a.wav'), 6 * 1024 * 1024 + 333, 11))
  const b = await readFile(await writeNoiseWav(join(src, 'b.wav'), 5 * 1024 * 1024 + 777, 12))
  await scanHome(home!, src)
  const cache = join(laptop!, 'cache')
  const damaged = await leaveFullPartial(cache, a, Math.floor(a.length / 2))
  const unfinished = await leaveFullPartial(cache, b)

  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await until(async () => ((await devicesOf(l, laptop!)).includes('home-pc') ? true : undefined), 20_000)

  const res = await fetch(`${l.info.api}/stream/${damaged}`)
  t.is(res.status, 200)
  const body = Buffer.from(await res.arrayBuffer())
  t.is(createHash('sha256').update(body).digest('hex'), damaged, 'the bytes served under the SHA-256 ETag are that SHA-256')
  t.is(res.headers.get('etag'), `"${damaged}"`)

  const get = await Promise.race([
    runCli(['get', unfinished, '--json'], { DJCLOUD_HOME: laptop! }),
    new Promise<null>((r) => setTimeout(r, 30_000, null)),
  ])
  t.truthy(get, '`djcloud get` did not return within 30 s')
  t.is(get!.code, 0, get!.stderr)
  const out = JSON.parse(get!.stdout) as { path: string; sources: Record<string, number> }
  t.true((await readFile(out.path)).equals(b))
  t.deepEqual(out.sources, {}, 'nothing was fetched: every piece on disk checked')
  // the cache shows both cached, nothing left fetching
  const states = async () => {
    const ls = await runCli(['cache', '--json'], { DJCLOUD_HOME: laptop! })
    return Object.fromEntries((JSON.parse(ls.stdout) as { tracks: Array<{ sha256: string; state: string }> }).tracks.map((x) => [x.sha256, x.state]))
  }
  await until(async () => {
    const s = await states()
    return s[damaged] === 'cached' && s[unfinished] === 'cached' ? true : undefined
  }, 20_000).catch(async () => t.fail(`cache states: ${JSON.stringify(await states())}`))
  await t.throwsAsync(access(cachePaths(cache, unfinished).have))
})

test('SIGTERM while a fetch is stuck (its only holder frozen): the node exits promptly', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const src = join(root, 'src')
  await mkdir(src)
  const track = await readFile(await writeNoiseWav(join(src, 'long.wav'), 96 * 1024 * 1024, 21))
  const sha = createHash('sha256').update(track).digest('hex')
  await scanHome(home!, src)
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await until(async () => ((await devicesOf(l, laptop!)).includes('home-pc') ? true : undefined), 20_000)

  // The holder is frozen (SIGSTOP) once the download has begun: its wires stay open and silent.
  t.teardown(() => {
    try {
      process.kill(h.info.pid, 'SIGCONT')
    } catch {
      // gone already
    }
  })
  const token = (await readApiToken(laptop!))!
  const fetching = fetch(`${l.info.api}/api/fetch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sha256: sha }),
  }).then((r) => r.status, (err: Error) => err)
  const have = cachePaths(join(laptop!, 'cache'), sha).have
  await until(async () => ((await access(have).then(() => true, () => false)) ? true : undefined), 20_000, 5)
  process.kill(h.info.pid, 'SIGSTOP')
  const final = cachePaths(join(laptop!, 'cache'), sha).final
  t.false(await access(final).then(() => true, () => false), 'the download finished before its holder was frozen')

  const started = Date.now()
  const stopped = l.stop('SIGTERM')
  const code = await Promise.race([stopped, new Promise<'hung'>((r) => setTimeout(r, 10_000, 'hung'))])
  t.not(code, 'hung', `the node did not exit within 10 s of SIGTERM\n${l.stderr()}`)
  t.is(code, 0)
  t.log(`exited ${Date.now() - started} ms after SIGTERM`)
  t.not(await fetching, 200)
})
