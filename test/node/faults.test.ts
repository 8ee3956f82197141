// Faults with real node processes: a holder killed mid-stream, and a device
// revoked while connected.
import test from 'ava'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { formatId, loadIdentity } from '../../src/identity/index.ts'
import { announce, announceSigner, AnnounceError } from '../../src/swarm/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav, writeTrack } from '../helpers/tracks.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { devicesOf } from '../helpers/node-devices.ts'
import { runCli } from '../helpers/cli.ts'

const timings = { redial: 500 } // ms: devices redial often here

async function until(fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('one of three holders killed mid-stream: the stream goes on and the bytes verify', async (t) => {
  const root = await tempDir(t)
  const [home, phone, nas, laptop] = await makeHomes(root, ['home-pc', 'phone', 'nas', 'laptop'])
  const src = join(root, 'src')
  await mkdir(src)
  const track = await writeNoiseWav(join(src, 'long-mix.wav'), 48 * 1024 * 1024, 7)
  for (const [h, name] of [[home, 'a'], [phone, 'b'], [nas, 'c']] as const) {
    const dir = join(root, `m-${name}`)
    await mkdir(dir)
    await copyFile(track, join(dir, 'long-mix.wav'))
    await scanHome(h!, dir)
  }
  const tracker = ['--tracker-port', '0', '--tracker-host', '127.0.0.1']
  const h = await serveNode(t, home!, tracker, { timings })
  const others = await Promise.all([phone, nas].map((x) => serveNode(t, x!, ['--tracker', h.info.tracker!], { timings })))
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await until(async () => (await devicesOf(l, laptop!)).filter((n) => n !== 'laptop').length >= 3)

  const bytes = await readFile(track)
  const sha = createHash('sha256').update(bytes).digest('hex')
  const res = await fetch(`${l.info.api}/stream/${sha}`)
  t.is(res.status, 200)
  const reader = res.body!.getReader()
  const hash = createHash('sha256')
  let received = 0
  let killed = false
  for (;;) {
    const { done, value } = await reader.read().catch((err: Error) => {
      throw new Error(`${err.message} after ${received} bytes\nLAPTOP ${l.stderr()} exit=${l.child.exitCode}`)
    })
    if (done) break
    hash.update(value)
    received += value.length
    if (!killed && received > bytes.length / 10) {
      killed = true
      void others[0]!.stop('SIGKILL') // the phone's node dies, no goodbye
    }
  }
  t.true(killed)
  t.is(received, bytes.length)
  t.is(hash.digest('hex'), sha)
})

test('a device revoked while connected loses its links and the tracker refuses it', async (t) => {
  const root = await tempDir(t)
  const [home, laptop] = await makeHomes(root, ['home-pc', 'laptop'])
  const dir = join(root, 'm')
  await mkdir(dir)
  const song = await writeTrack(join(dir, 'song.wav'), { title: 'Song' }, 1, 20)
  await scanHome(home!, dir)
  // The home node reads its roster file every second here (5 s by default): this test is about what a revocation does, not how soon.
  const h = await serveNode(t, home!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings: { ...timings, rosterReload: 1_000 } })
  const l = await serveNode(t, laptop!, ['--tracker', h.info.tracker!], { timings })
  await until(async () => (await devicesOf(h, home!)).includes('laptop'))

  const laptopId = await loadIdentity(laptop!)
  const revoke = await runCli(['trust', 'revoke', formatId('device', laptopId.device.publicKey)], { DJCLOUD_HOME: home! })
  t.is(revoke.code, 0, revoke.stderr)
  // the home node picks the new roster up and drops the laptop's open links
  await until(async () => !(await devicesOf(h, home!)).includes('laptop'), 10_000)
  // new connections are refused by the wire...
  const sha = createHash('sha256').update(await readFile(song)).digest('hex')
  const get = await runCli(['get', sha], { DJCLOUD_HOME: laptop! })
  t.is(get.code, 1)
  // ...and announces by the tracker
  const err = await t.throwsAsync(
    announce(h.info.tracker!, { infoHash: randomBytes(20), peerId: randomBytes(20), port: 1, signer: announceSigner(laptopId), roster: laptopId.roster }),
    { instanceOf: AnnounceError },
  )
  t.is(err?.reason, 'revoked device')
  t.is(await l.stop(), 0)
})
