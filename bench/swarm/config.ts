// What the benchmark's parent hands its seeder and downloader processes: a
// throwaway circle (owner-signed roster, each device's key and certificate),
// the circle secret and the track's torrent. Written once to a 0600 JSON file
// in the benchmark's temp directory; binary fields are hex.
import { readFile } from 'node:fs/promises'
import { verifyRoster, type Roster } from '../../src/identity/index.ts'
import { metaFromTrack, type LocalCredentials, type TorrentMeta } from '../../src/swarm/index.ts'

export const SEEDERS = ['seeder-1', 'seeder-2', 'seeder-3']
export const DOWNLOADER = 'downloader'

export interface ConfigFile {
  /** The owner's signed roster (signRoster), listing every device below. */
  roster: string
  circleSecret: string
  devices: Record<string, { seed: string; certificate: string }>
  track: { sha256: string; size: number; pieceLength: number; pieces: string }
  /** The complete file the seeders serve (and the downloader checks its reads against). */
  source: string
  /**
   * Random bytes of this run, the channel binding both ends of a plaintext
   * link (djcloud-plain, the encryption-cost baseline) hand to authenticate
   * in place of a TLS exporter value.
   */
  plainBinding: string
}

export interface BenchConfig {
  roster: Roster
  circleSecret: Uint8Array
  meta: TorrentMeta
  source: string
  plainBinding: Uint8Array
  credentials(device: string): LocalCredentials
}

const hex = (s: string) => Buffer.from(s, 'hex')

export async function loadConfig(path: string): Promise<BenchConfig> {
  const c = JSON.parse(await readFile(path, 'utf8')) as ConfigFile
  const roster = verifyRoster(hex(c.roster))
  const circleSecret = hex(c.circleSecret)
  const meta = metaFromTrack({ ...c.track, pieces: hex(c.track.pieces) }, circleSecret)
  return {
    roster,
    circleSecret,
    meta,
    source: c.source,
    plainBinding: Uint8Array.from(hex(c.plainBinding)),
    credentials(device) {
      const d = c.devices[device]
      if (!d) throw new Error(`no device "${device}" in ${path}`)
      return { deviceSeed: hex(d.seed), certificate: hex(d.certificate) }
    },
  }
}

/** `--name value` pairs of a child's command line. */
export function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]
    if (!k?.startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad arguments: ${argv.join(' ')}`)
    out[k.slice(2)] = argv[i + 1]!
  }
  return out
}
