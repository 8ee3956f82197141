// The benchmark's track and circle: a file of random bytes (incompressible,
// like audio), its torrent as the library would make it, a throwaway circle
// with one device per process, and the same info dict as a standard .torrent
// for libtorrent.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  addDevice, encodeCertificate, generateKeyPair, issueCertificate, newRoster, signRoster, type DeviceCertificate, type KeyPair,
} from '../../src/identity/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import { encodeInfoDict, metaFromTrack, type TorrentMeta } from '../../src/swarm/index.ts'
import { DOWNLOADER, SEEDERS, type ConfigFile } from './config.ts'

export interface Fixture {
  /** The track, named by its SHA-256 (libtorrent looks for <save_path>/<torrent name>). */
  path: string
  meta: TorrentMeta
  configPath: string
  torrentPath: string
}

const CHUNK = 4 * 1024 * 1024

/** Writes `size` random bytes under dir/seed and hashes them (SHA-256 and SHA-1 pieces) on the way. */
async function randomTrack(dir: string, size: number): Promise<{ tmpPath: string; sha256: string; pieceLength: number; pieces: Buffer }> {
  const pieceLength = pieceLengthFor(size)
  if (CHUNK % pieceLength !== 0) throw new Error('piece length must divide the write chunk')
  const tmpPath = join(dir, 'track.tmp')
  const fh = await open(tmpPath, 'w')
  const whole = createHash('sha256')
  const pieces: Buffer[] = []
  try {
    for (let at = 0; at < size; at += CHUNK) {
      const buf = randomBytes(Math.min(CHUNK, size - at))
      whole.update(buf)
      for (let p = 0; p < buf.length; p += pieceLength) pieces.push(createHash('sha1').update(buf.subarray(p, p + pieceLength)).digest())
      await fh.write(buf, 0, buf.length, at)
    }
  } finally {
    await fh.close()
  }
  return { tmpPath, sha256: whole.digest('hex'), pieceLength, pieces: Buffer.concat(pieces) }
}

export async function makeFixture(work: string, size: number): Promise<Fixture> {
  const seedDir = join(work, 'seed')
  await mkdir(seedDir, { recursive: true })
  const t = await randomTrack(seedDir, size)
  const path = join(seedDir, t.sha256)
  await rename(t.tmpPath, path)

  const owner = generateKeyPair()
  const devices = new Map<string, { key: KeyPair; cert: DeviceCertificate }>()
  for (const name of [...SEEDERS, DOWNLOADER]) {
    const key = generateKeyPair()
    const cert = issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() })
    devices.set(name, { key, cert })
  }
  const certs = [...devices.values()].map((d) => d.cert)
  let roster = newRoster(owner.publicKey, certs[0]!)
  for (const c of certs.slice(1)) roster = addDevice(roster, c)
  const circleSecret = generateKeyPair().seed
  const meta = metaFromTrack({ sha256: t.sha256, size, pieceLength: t.pieceLength, pieces: t.pieces }, circleSecret)

  const config: ConfigFile = {
    roster: Buffer.from(signRoster(roster, owner.seed)).toString('hex'),
    circleSecret: Buffer.from(circleSecret).toString('hex'),
    devices: Object.fromEntries(
      [...devices].map(([name, d]) => [name, { seed: Buffer.from(d.key.seed).toString('hex'), certificate: Buffer.from(encodeCertificate(d.cert)).toString('hex') }]),
    ),
    track: { sha256: t.sha256, size, pieceLength: t.pieceLength, pieces: t.pieces.toString('hex') },
    source: path,
    plainBinding: randomBytes(32).toString('hex'),
  }
  const configPath = join(work, 'circle.json')
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 })

  // A metainfo file is a dict whose "info" value is the info dict's exact bytes: the same infohash.
  const torrentPath = join(work, `${t.sha256}.torrent`)
  await writeFile(torrentPath, Buffer.concat([Buffer.from('d4:info'), encodeInfoDict(meta, circleSecret), Buffer.from('e')]))
  return { path, meta, configPath, torrentPath }
}
