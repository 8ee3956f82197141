// A holder for the lookup benchmark, in a process of its own:
//   node --import tsx bench/swarm/holder.ts CONFIG NAME TRACKER_URL
// Runs a Swarm (device channel + on-demand torrents) offering every track of
// the config, announces the device channel to the tracker, prints {"port": N}
// and lives until stdin closes or SIGTERM.
import { readFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { decodeCertificate, verifyRoster } from '../../src/identity/index.ts'
import { Swarm, announce, announceSigner, metaFromTrack } from '../../src/swarm/index.ts'
import type { LookupConfig } from './lookup-config.ts'

const [configPath, name, trackerUrl] = process.argv.slice(2) as [string, string, string]
const c = JSON.parse(await readFile(configPath, 'utf8')) as LookupConfig
const hex = (s: string) => Buffer.from(s, 'hex')
const roster = verifyRoster(hex(c.roster))
const circleSecret = hex(c.circleSecret)
const me = c.devices[name]!
const swarm = new Swarm({
  credentials: { deviceSeed: hex(me.seed), certificate: hex(me.certificate) },
  roster: () => roster,
  circleSecret,
  cacheDir: join(c.dir, `cache-${name}`),
  host: '127.0.0.1',
})
swarm.on('warning', () => {})
for (const t of c.tracks) swarm.offer(metaFromTrack({ ...t, pieces: hex(t.pieces) }, circleSecret), t.path)
const port = await swarm.start()
const certificate = decodeCertificate(hex(me.certificate))
await announce(trackerUrl, {
  infoHash: swarm.channel,
  peerId: randomBytes(20),
  port,
  event: 'started',
  roster,
  signer: announceSigner({ device: { seed: hex(me.seed), publicKey: certificate.device }, certificate }),
})
process.stdout.write(JSON.stringify({ port }) + '\n')
const stop = () => void swarm.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
