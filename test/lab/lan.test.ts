// Own devices on one LAN segment find each other with no tracker, no DHT and
// no --peer (docs/node.md, "On the LAN"): real `djcloud serve` processes in
// the NAT lab, hosts on one LAN segment behind one NAT (docs/wan-lab.md), LAN discovery
// on as `serve` has it by default. The laptop fetches a track the home PC
// holds. A device of another circle on the same segment hears their packets
// and learns nothing: it dials nobody and nobody dials it (iptables counts
// SYNs to its peer port, and SYNs from it); a packet it records and sends
// again is dropped as replayed.
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { makeHomes } from '../helpers/homes.ts'
import { BIN, cli } from '../helpers/cli.ts'
import { writeTrack } from '../helpers/tracks.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { firstLine } from '../helpers/first-line.ts'
import { createLab, labUnavailable, type Lab, type LabHost } from '../helpers/wan-lab/index.ts'

const unavailable = labUnavailable()

/** Hosts on one LAN segment (behind one NAT of the WAN lab, docs/wan-lab.md); no tracker or DHT anywhere. */
const lanOf = (names: string[]): Promise<Lab> => createLab({ nats: [{ name: 'venue', kind: 'cone' }], hosts: names.map((name) => ({ name, behind: 'venue' })), rttMs: 1 })
const PEER_PORT = 7461
const timings = { lanAnnounce: 500, redial: 500 } // ms

interface Device {
  host: LabHost
  home: string
  stderr: () => string
}

async function serveIn(host: LabHost, home: string, extra: string[] = []): Promise<Device> {
  const args = [BIN, 'serve', '--json', '--home', home, '--port', String(PEER_PORT), '--api-port', '7462', '--no-tracker', '--no-dht', '--no-analyze', ...extra]
  const child = host.spawn(process.execPath, args, {
    env: { ...process.env, DJCLOUD_HOME: '', DJCLOUD_DEBUG: '1', DEBUG: 'djcloud:reach:lan', DJCLOUD_TIMINGS: JSON.stringify(timings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-262_144)))
  await firstLine(child, (code) => new Error(`${host.name}: djcloud serve exited (${code}): ${err}`))
  child.stdout!.resume()
  return { host, home, stderr: () => err }
}

/** SYNs counted by an iptables rule in `host`'s namespace: `rule` is the match, e.g. ['--dport', '7461']. */
async function synCounter(host: LabHost, rule: string[]): Promise<() => Promise<number>> {
  const r = await host.run('iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--syn', ...rule, '-j', 'ACCEPT'])
  if (r.code !== 0) throw new Error(`iptables in ${host.name}: ${r.stderr}`)
  return async () => {
    const out = await host.run('iptables', ['-w', '-L', 'INPUT', '-v', '-n', '-x'])
    const line = out.stdout.split('\n').find((l) => /ACCEPT\s+(tcp|6)\s/.test(l))
    if (!line) throw new Error(`no counter in ${host.name}: ${out.stdout}`)
    return Number(line.trim().split(/\s+/)[0])
  }
}

if (unavailable) {
  test.skip(`own devices on one LAN link and fetch with no tracker, DHT or --peer (skipped: ${unavailable})`, () => {})
} else {
  test('own devices on one LAN link and fetch with no tracker, DHT or --peer; a device of another circle learns nothing and is never dialled', async (t) => {
    const root = await tempDir(t)
    const [homePc, laptop] = await makeHomes(join(root, 'circle'), ['home-pc', 'laptop'])
    const [stranger] = await makeHomes(join(root, 'other'), ['stranger'])
    const music = join(root, 'music')
    await mkdir(music)
    const file = await writeTrack(join(music, 'tune.wav'), { title: 'Tune' }, 3, 20)
    await cli(homePc!, ['scan', music])
    const sha = (JSON.parse(await cli(homePc!, ['ls', '--json'])) as Array<{ sha256: string }>)[0]!.sha256

    const lab = await lanOf(['home', 'laptop', 'stranger'])
    t.teardown(() => lab.destroy())
    const toStranger = await synCounter(lab.host('stranger'), ['--dport', String(PEER_PORT)])
    const fromStranger = await synCounter(lab.host('home'), ['-s', lab.host('stranger').address])
    const devices = {
      home: await serveIn(lab.host('home'), homePc!),
      stranger: await serveIn(lab.host('stranger'), stranger!),
      laptop: await serveIn(lab.host('laptop'), laptop!),
    }
    const logs = () => Object.entries(devices).map(([n, d]) => `--- ${n}\n${d.stderr()}`).join('\n')

    // The laptop came last: its start burst is answered, and the track comes from the home PC over the LAN.
    const got = await until(async () => {
      const r = await lab.host('laptop').run(process.execPath, [BIN, 'get', sha, '--json', '--home', laptop!], { env: { ...process.env, DJCLOUD_HOME: '' }, timeoutMs: 60_000 })
      return r.code === 0 ? (JSON.parse(r.stdout) as { path: string; sources: Record<string, number> }) : undefined
    }, 90_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`)
    })
    t.true((got.sources['home-pc'] ?? 0) > 0, JSON.stringify(got.sources))
    const want = createHash('sha256').update(await readFile(file)).digest('hex')
    t.is(createHash('sha256').update(await readFile(got.path)).digest('hex'), want)
    t.regex(devices.laptop.stderr(), new RegExp(`from ${lab.host('home').address.replaceAll('.', '\\.')}, peer port ${PEER_PORT}`))

    // The stranger heard both devices' packets (several intervals' worth) and dropped each as forged.
    const strangerAddr = lab.host('stranger').address.replaceAll('.', '\\.')
    const forgedFrom = (host: string) => new RegExp(`dropped a packet from ${lab.host(host).address.replaceAll('.', '\\.')}: forged`, 'g')
    await until(async () => {
      const s = devices.stranger.stderr()
      return (s.match(forgedFrom('home'))?.length ?? 0) >= 2 && (s.match(forgedFrom('laptop'))?.length ?? 0) >= 2 ? true : undefined
    }, 30_000, 200)
    t.notRegex(devices.stranger.stderr(), /(announce|query) from /)
    // ... and the circle's devices dropped the stranger's.
    t.regex(devices.home.stderr(), new RegExp(`dropped a packet from ${strangerAddr}: forged`))
    t.notRegex(devices.home.stderr(), new RegExp(`from ${strangerAddr}, peer port`))
    t.is(await toStranger(), 0, 'nobody dialled the stranger')
    t.is(await fromStranger(), 0, 'the stranger dialled nobody')
    for (const d of Object.values(devices)) t.notRegex(d.stderr(), /replayed/)

    // A guest records one of the home PC's packets and sends it again from its own address: ignored.
    const replay = await lab.host('stranger').run(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true })
      s.on('message', (msg, from) => {
        if (from.address !== '${lab.host('home').address}') return
        s.send(msg, 7465, '239.192.74.65', () => { process.stdout.write('replayed ' + msg.length + '\\n'); s.close() })
      })
      s.bind(7465, () => { s.addMembership('239.192.74.65', '${lab.host('stranger').address}'); s.setMulticastInterface('${lab.host('stranger').address}') })
    `], { timeoutMs: 20_000 })
    t.is(replay.stdout, 'replayed 39\n', replay.stderr)
    await until(async () => (new RegExp(`dropped a packet from ${strangerAddr}: replayed`).test(devices.laptop.stderr()) ? true : undefined), 10_000, 100)
    // (The home PC knows the nonce as its own: dropped too, as its own packets looped back are.)
    for (const d of [devices.laptop, devices.home]) t.notRegex(d.stderr(), new RegExp(`from ${strangerAddr}, peer port`))
    t.is(await toStranger(), 0, 'the replay made nobody dial the guest')
  })

  test('serve --no-lan-discovery sends and hears nothing: two such devices on one LAN stay apart', async (t) => {
    const root = await tempDir(t)
    const [homePc, laptop] = await makeHomes(join(root, 'circle'), ['home-pc', 'laptop'])
    const lab = await lanOf(['home', 'laptop'])
    t.teardown(() => lab.destroy())
    const toHome = await synCounter(lab.host('home'), ['--dport', String(PEER_PORT)])
    // A listener on the group in the laptop's namespace: what the home PC sends, if anything.
    const listener = lab.host('laptop').spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true })
      s.on('message', () => process.stdout.write('packet\\n'))
      s.bind(7465, () => { s.addMembership('239.192.74.65', '${lab.host('laptop').address}'); process.stdout.write('ready\\n') })
    `])
    let heard = ''
    listener.stdout!.setEncoding('utf8').on('data', (d: string) => (heard += d))
    await until(async () => (heard.includes('ready') ? true : undefined), 10_000, 50)
    const home = await serveIn(lab.host('home'), homePc!, ['--no-lan-discovery'])
    const lap = await serveIn(lab.host('laptop'), laptop!, ['--no-lan-discovery'])
    // Long enough for several announce intervals and redials.
    await new Promise((r) => setTimeout(r, 2_000))
    t.false(heard.includes('packet'), home.stderr())
    t.is(await toHome(), 0, lap.stderr())
    listener.kill()
    await once(listener, 'exit')
  })
}
