// Gig preparation and backups across the WAN lab (docs/wan-lab.md), at
// 100 ms RTT and 1% loss, each host behind an 8 Mbit/s uplink: Alex's
// laptop (the admin: tracker, DHT bootstrap) pulls a playlist whose tracks
// his phone and NAS hold; his backup is pushed to his friend Fiona's device
// (her own circle, her own tracker, met over the DHT); then every device of
// Alex's is gone, and a brand-new home in a fifth host restores the backup
// from her with the recovery phrase alone. Real
// `djcloud serve` processes, one per namespace; commands run in the device's
// namespace, as on the device.
import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadIdentity } from '../../src/identity/index.ts'
import type { GigReport } from '../../src/node/index.ts'
import { BIN, runCli } from '../helpers/cli.ts'
import { friendCircles } from '../helpers/friends.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav, writeTrack } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'
import { createLab, labUnavailable } from '../helpers/wan-lab/index.ts'
import { devicesLinked, startAdmin, startMember, type LabDevice } from '../helpers/lab-devices.ts'

const unavailable = labUnavailable()
const labTest = unavailable ? test.skip : test
const title = (s: string) => (unavailable ? `${s} (skipped: ${unavailable})` : s)
const timings = { redial: 1_000, manifestPoll: 2_000, shareRound: 1_000, backupPoll: 1_000 } // ms: devices redial, look up friends and poll backup pointers often here

async function cliJson<T>(d: LabDevice, args: string[]): Promise<T> {
  const r = await d.cli([...args, '--json'])
  if (r.code !== 0) throw new Error(`${d.name}: djcloud ${args.join(' ')} (exit ${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

labTest(title('over a 100 ms, 1% loss WAN a gig pull from two devices is gig-ready, and a backup pushed to a friend restores onto a new home'), async (t) => {
  t.timeout(170_000)
  const root = await tempDir(t)
  const { alex: [alex, phone, nas], fiona: [fiona] } = await friendCircles(root, ['alex-pc', 'alex-phone', 'alex-nas'])
  const fresh = join(root, 'new-laptop')
  const phraseFile = join(root, 'phrase.txt')
  await writeFile(phraseFile, (await loadIdentity(alex!)).phrase!)
  // The phone and the NAS each hold a track of the set; both hold the long one.
  for (const [home, i] of [[phone!, 1], [nas!, 2]] as const) {
    const m = join(home, 'music')
    await mkdir(m)
    await writeTrack(join(m, `own-${i}.wav`), { title: `Own ${i}`, artist: 'Alex' }, i, 20)
    await writeNoiseWav(join(m, 'long.wav'), 4_000_000, 7) // title "Noise 7"
    const r = await runCli(['scan', m], { DJCLOUD_HOME: home })
    if (r.code !== 0) throw new Error(r.stderr)
  }

  const hosts = ['alex', 'phone', 'nas', 'fiona', 'fresh']
  const lab = await createLab({ hosts: hosts.map((name) => ({ name, uplinkMbit: 8 })), rttMs: 100, lossPercent: 1 })
  t.teardown(() => lab.destroy())
  const { device: a, servers } = await startAdmin(lab, 'alex', alex!, { timings })
  const own = [a, await startMember(lab, 'phone', phone!, servers, { timings }), await startMember(lab, 'nas', nas!, servers, { timings })]
  // Fiona's circle has its own tracker; her device meets Alex's over the DHT he bootstraps.
  const { device: f } = await startAdmin(lab, 'fiona', fiona!, { timings, args: ['--bootstrap', servers.bootstrap] })

  // 1. Gig pull on the laptop: every track fetched over the WAN and verified.
  await until(() => devicesLinked(a, ['alex-phone', 'alex-nas']), 60_000)
  const ids = await until(async () => {
    const { json } = await a.call<{ tracks: Array<{ sha256: string; tags: { title: string }; holders: unknown[] }> }>('GET', '/api/library')
    return json.tracks.length === 3 && json.tracks.every((x) => x.holders.length > 0) ? new Map(json.tracks.map((x) => [x.tags.title, x.sha256])) : undefined
  }, 60_000)
  await cliJson(a, ['playlist', 'create', 'Set'])
  await cliJson(a, ['playlist', 'add', 'Set', ids.get('Own 1')!, ids.get('Noise 7')!, ids.get('Own 2')!])
  const report = await cliJson<GigReport>(a, ['pull', '--playlist', 'Set'])
  t.true(report.ready, JSON.stringify(report))
  t.deepEqual([report.fetched, report.missing], [3, 0])
  t.true(report.tracks.every((x) => x.verified))
  const sources = new Set(report.tracks.flatMap((x) => Object.keys(x.sources)))
  t.deepEqual([...sources].sort(), ['alex-nas', 'alex-phone'])

  // 2. Backup: pushed by the laptop, held by Fiona's device.
  const pushed = await cliJson<{ seq: number }>(a, ['backup', 'push'])
  t.is(pushed.seq, 1)
  await until(async () => {
    const s = await cliJson<{ friends: Array<{ name: string; versions: number[] }> }>(a, ['backup', 'status'])
    return s.friends.some((x) => x.name === 'Fiona' && x.versions.includes(1)) ? true : undefined
  }, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\nALEX\n${a.stderr().slice(-3000)}\nFIONA\n${f.stderr().slice(-3000)}`)
  })

  // 3. Alex's devices are gone (an own device would answer first); a brand-new home, in a host of its own, restores from Fiona over the WAN.
  for (const d of own) await d.stop()
  const restore = await lab
    .host('fresh')
    .run(process.execPath, [BIN, 'backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', `${lab.host('fiona').address}:7464`, '--name', 'new-laptop', '--json', '--home', fresh], {
      env: { ...process.env, DJCLOUD_HOME: '' },
      timeoutMs: 90_000,
    })
  t.is(restore.code, 0, restore.stderr)
  const restored = JSON.parse(restore.stdout) as { seq: number; source: string; playlists: number }
  t.is(restored.seq, 1)
  t.regex(restored.source, /^fiona-pc /)
  t.is(restored.playlists, 1)
})
