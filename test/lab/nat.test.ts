// Own devices behind NATs (docs/reach.md), in the NAT lab (docs/wan-lab.md):
// real `djcloud serve` processes. The hub is a public host: the circle's
// admin, tracker, bootstrap and relay. home and laptop sit behind two cone
// NATs, symhome and symlaptop behind two symmetric ones; a second circle,
// whose admin relays nothing, has one device behind each symmetric NAT. The
// phone shares the laptop's LAN segment (behind cone2): they find each other
// there, prefer each other, and keep streaming with the venue's WAN cut.
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeHomes } from '../helpers/homes.ts'
import { runCli } from '../helpers/cli.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'
import { createLab, labUnavailable, type Lab } from '../helpers/wan-lab/index.ts'
import { startAdmin, startMember, type LabDevice } from '../helpers/lab-devices.ts'
import { sh } from '../helpers/wan-lab/sh.ts'

const unavailable = labUnavailable()
const RTT = 40 // ms
const timings = { redial: 1_000, manifestPoll: 2_000, reachAfter: 1_500, reachRetry: 5_000, reachUpgrade: 3_000 } // ms
/** Until the first test lifts it, cone1 drops all that comes from cone2: laptop and home start relayed. */
const blockCone2 = (lab: Lab, op: '-I' | '-D') => sh('ip', ['netns', 'exec', lab.nat('cone1').ns, 'iptables', '-w', op, 'FORWARD', ...(op === '-I' ? ['1'] : []), '-s', lab.nat('cone2').publicAddress, '-j', 'DROP'])
const TRACK_BYTES = 3 * 44_100 * 4 * 10 // 30 s of CD audio

interface Ctx {
  root: string
  lab: Lab
  devices: Map<string, LabDevice>
  /** Track SHA-256 and bytes, by the device that alone holds it. */
  tracks: Map<string, { sha256: string; bytes: Buffer }>
}

interface CircleDevice {
  name: string
  link: { path: string; via?: string; rttMs: number | null } | null
  unreachable: string | null
}

async function circle(device: LabDevice): Promise<CircleDevice[]> {
  const { json } = await device.call<{ devices: CircleDevice[] }>('GET', '/api/circle')
  return json.devices
}

/** Resolves with `name` as `device` lists it once it is linked (by any path). */
const linkedAs = (device: LabDevice, name: string) => async () => (await circle(device)).find((d) => d.name === name && d.link)

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function fetchOn(device: LabDevice, sha256: string): Promise<Buffer> {
  return readFile((await fetchWith(device, sha256)).path)
}

async function fetchWith(device: LabDevice, sha256: string): Promise<{ path: string; sources: Record<string, number> }> {
  const { status, json } = await device.call<{ path: string; sources: Record<string, number> }>('POST', '/api/fetch', { sha256 })
  if (status !== 200) throw new Error(`fetch: ${status} ${JSON.stringify(json)}`)
  return json
}

if (unavailable) {
  test.skip(`own devices behind NATs punch or relay (skipped: ${unavailable})`, () => {})
} else {
  test.before(async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'djcloud-nat-'))
    ;(t.context as Ctx).root = root
    const names = ['hub', 'home', 'laptop', 'symhome', 'symlaptop', 'phone']
    const homes = await makeHomes(join(root, 'one'), names)
    const other = await makeHomes(join(root, 'two'), ['hub2', 'nr1', 'nr2'])
    const tracks = new Map<string, { sha256: string; bytes: Buffer }>()
    // Each holder's own track; "both" is held by home (across the WAN) and the phone (on the laptop's LAN).
    const held: Array<[number, string, number]> = [[1, 'home', 1], [3, 'symhome', 3], [5, 'phone', 5], [1, 'both', 7], [5, 'both', 7]]
    for (const [i, track, seed] of held) {
      const music = join(homes[i]!, 'music')
      await mkdir(music, { recursive: true })
      await writeNoiseWav(join(music, `${track}.wav`), TRACK_BYTES, seed)
      const bytes = await readFile(join(music, `${track}.wav`))
      tracks.set(track, { sha256: sha(bytes), bytes })
    }
    for (const i of [1, 3, 5]) {
      const r = await runCli(['scan', join(homes[i]!, 'music')], { DJCLOUD_HOME: homes[i]! })
      if (r.code !== 0) throw new Error(r.stderr)
    }
    const lab = await createLab({
      nats: [{ name: 'cone1', kind: 'cone' }, { name: 'cone2', kind: 'cone' }, { name: 'sym1', kind: 'symmetric' }, { name: 'sym2', kind: 'symmetric' }],
      hosts: [
        { name: 'hub' }, { name: 'hub2' },
        { name: 'home', behind: 'cone1' }, { name: 'laptop', behind: 'cone2' },
        { name: 'symhome', behind: 'sym1' }, { name: 'symlaptop', behind: 'sym2' },
        { name: 'nr1', behind: 'sym1' }, { name: 'nr2', behind: 'sym2' }, { name: 'phone', behind: 'cone2' },
      ],
      rttMs: RTT,
    })
    ;(t.context as Ctx).lab = lab
    await blockCone2(lab, '-I')
    const devices = new Map<string, LabDevice>()
    const { device: hub, servers } = await startAdmin(lab, 'hub', homes[0]!, { timings })
    devices.set('hub', hub)
    for (const [i, name] of names.entries()) if (i > 0) devices.set(name, await startMember(lab, name, homes[i]!, servers, { timings }))
    const second = await startAdmin(lab, 'hub2', other[0]!, { timings, args: ['--no-relay'] })
    devices.set('hub2', second.device)
    for (const [i, name] of ['nr1', 'nr2'].entries()) devices.set(name, await startMember(lab, name, other[i + 1]!, second.servers, { timings }))
    Object.assign(t.context as Ctx, { devices, tracks })
  })
  test.after.always(async (t) => {
    const { lab, root } = t.context as Partial<Ctx>
    await lab?.destroy()
    if (root) await rm(root, { recursive: true, force: true })
  })

  test.serial('behind two cone NATs, laptop and home link by a punched hole the hub brokered (first relayed while a punch cannot pass, upgraded once it can), and a track moves over it, not through the hub', async (t) => {
    const { lab, devices, tracks } = t.context as Ctx
    const laptop = devices.get('laptop')!
    const relayed = await until(linkedAs(laptop, 'home'), 60_000)
    t.is(relayed.link!.path, 'relayed', 'while cone1 drops what comes from cone2, the hub relays')
    await blockCone2(lab, '-D')
    await until(async () => ((await circle(laptop)).find((d) => d.name === 'home')?.link?.path === 'punched' ? true : undefined), 30_000)
    // The relayed link is closed once the punched one is up.
    await until(async () => {
      const links = (await laptop.call<{ devices: Array<{ name: string; path: string }> }>('GET', '/api/devices')).json.devices.filter((d) => d.name === 'home')
      return links.length > 0 && links.every((l) => l.path === 'punched') ? true : undefined
    }, 30_000)
    // The round trip shows once two samples came (the ping and a lookup or the other side's ping).
    const home = await until(async () => (await circle(laptop)).find((d) => d.name === 'home' && d.link?.rttMs !== null), 30_000)
    t.is(home.link!.path, 'punched', JSON.stringify(home))
    t.is(home.link!.via, 'hub')
    t.true(home.link!.rttMs !== null && home.link!.rttMs >= RTT, `rtt ${home.link!.rttMs}`)
    const seen = await lab.capture('hub')
    const track = tracks.get('home')!
    t.is(sha(await fetchOn(laptop, track.sha256)), track.sha256)
    const atHub = await seen.stop()
    t.true(atHub.length < track.bytes.length / 4, `the hub carried ${atHub.length} bytes: only brokering`)
    const { stdout } = await laptop.cli(['devices'])
    t.regex(stdout, /home\s+online\s+punched via hub\s+[\d.]+ ms/)
    // The hub sees the laptop's links come from its NAT's public address.
    t.regex(stdout, new RegExp(`this device is seen at ${lab.nat('cone2').publicAddress.replaceAll('.', '\\.')}:\\d+`))
  })

  test.serial('behind two symmetric NATs the punch fails and the hub relays: the track arrives whole, and the hub saw no byte of it', async (t) => {
    const { lab, devices, tracks } = t.context as Ctx
    const symlaptop = devices.get('symlaptop')!
    const symhome = await until(linkedAs(symlaptop, 'symhome'), 60_000)
    t.is(symhome.link!.path, 'relayed', JSON.stringify(symhome))
    t.is(symhome.link!.via, 'hub')
    const seen = await lab.capture('hub')
    const track = tracks.get('symhome')!
    t.is(sha(await fetchOn(symlaptop, track.sha256)), track.sha256)
    const atHub = await seen.stop()
    t.true(atHub.length > track.bytes.length, 'the track crossed the hub')
    for (let off = 0; off < track.bytes.length; off += 65_537) t.is(atHub.indexOf(track.bytes.subarray(off, off + 48)), -1, `track bytes at ${off} seen at the hub`)
  })

  test.serial('behind two symmetric NATs with no relay, the device list says why within 30 s, naming the NATs', async (t) => {
    const { devices } = t.context as Ctx
    const nr1 = devices.get('nr1')!
    // From the moment both are linked to their hub (before that the reason is that nobody knows nr2).
    await until(async () => ((await circle(devices.get('hub2')!)).filter((d) => d.link).length === 2 ? true : undefined), 30_000)
    const t0 = performance.now()
    const nr2 = await until(async () => (await circle(nr1)).find((d) => d.name === 'nr2' && /symmetric/.test(d.unreachable ?? '')), 30_000)
    t.true(performance.now() - t0 < 30_000)
    t.regex(nr2.unreachable!, /changes ports \(symmetric\)/)
    t.regex(nr2.unreachable!, /no linked device relays/)
    t.notRegex(nr2.unreachable!, /\n/)
    t.is(nr2.link, null)
  })

  test.serial('laptop and phone on one LAN link directly, and a track both the phone and home hold comes from the phone, the nearer', async (t) => {
    const { devices, tracks } = t.context as Ctx
    const laptop = devices.get('laptop')!
    const phone = await until(async () => (await circle(laptop)).find((d) => d.name === 'phone' && d.link?.path === 'direct' && d.link.rttMs !== null), 60_000)
    t.true(phone.link!.rttMs !== null && phone.link!.rttMs < RTT / 2, `LAN rtt ${phone.link!.rttMs} ms`)
    await until(linkedAs(laptop, 'home'), 60_000)
    const track = tracks.get('both')!
    const got = await fetchWith(laptop, track.sha256)
    t.is(sha(await readFile(got.path)), track.sha256)
    const fromPhone = got.sources.phone ?? 0
    const total = Object.values(got.sources).reduce((a, b) => a + b, 0)
    t.true(fromPhone > total * 0.9, `sources ${JSON.stringify(got.sources)}`)
  })

  test.serial('with the venue\'s WAN cut, laptop and phone still stream from each other', async (t) => {
    const { lab, devices, tracks } = t.context as Ctx
    const laptop = devices.get('laptop')!
    await lab.cutWan('cone2')
    try {
      const track = tracks.get('phone')!
      const res = await laptop.request('GET', `/stream/${track.sha256}`)
      t.is(res.statusCode, 200)
      const chunks: Buffer[] = []
      for await (const c of res as AsyncIterable<Buffer>) chunks.push(c)
      t.is(sha(Buffer.concat(chunks)), track.sha256)
    } finally {
      await lab.restoreWan('cone2')
    }
  })
}
