// Quick fixtures for tests and benchmarks: the homes of one circle made in
// this process by issuing certificates directly (no pairing round trip), and
// small tagged WAVs synthesised in JS (fast, no external tools, distinct
// bytes per seed).
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  addDevice, generateKeyPair, initIdentity, issueCertificate, loadIdentity, saveJoinedIdentity, saveRoster, type Identity,
} from '../identity/index.ts'
import { buildId3, type Id3Fields } from './id3.ts'
import { synthLoop } from './synth.ts'
import { encodeWav } from './wav.ts'

/** Homes under `root`, one per name: names[0] the admin (init), the others members on its roster. */
export async function makeHomes(root: string, names: string[]): Promise<string[]> {
  const homes = names.map((n) => join(root, n))
  let admin: Identity = await initIdentity(homes[0]!, { name: names[0] })
  const members: Array<{ home: string; device: ReturnType<typeof generateKeyPair>; cert: ReturnType<typeof issueCertificate> }> = []
  for (let i = 1; i < names.length; i++) {
    const device = generateKeyPair()
    const cert = issueCertificate(admin.owner!.seed, { owner: admin.owner!.publicKey, device: device.publicKey, name: names[i]!, role: 'member', created: Date.now() })
    admin = await saveRoster(admin, addDevice(admin.roster, cert))
    members.push({ home: homes[i]!, device, cert })
  }
  const rosterBytes = await readFile(join(homes[0]!, 'identity', 'roster'))
  for (const m of members) {
    await saveJoinedIdentity(m.home, { device: m.device, certificate: m.cert, rosterBytes, circleSecret: admin.circleSecret })
  }
  await loadIdentity(homes[0]!)
  return homes
}

/** A short tagged WAV (8 kHz mono loop) at `path`. */
export async function writeTrack(path: string, tags: Id3Fields, seed = 1, seconds = 1): Promise<string> {
  const pcm = synthLoop({ bpm: tags.bpm ?? 120, key: 'A minor', seconds, seed, sampleRate: 8000 })
  await writeFile(path, encodeWav(pcm, 8000, 1, buildId3(tags)))
  return path
}

/** A large valid WAV of random 16-bit PCM (noise), written fast: for transfer tests. */
export async function writeNoiseWav(path: string, bytes: number, seed = 1): Promise<string> {
  const pcm = Buffer.alloc(bytes & ~1)
  let block = createHash('sha256').update(`noise-${seed}`).digest()
  for (let at = 0; at < pcm.length; at += block.length) {
    block.copy(pcm, at)
    block = createHash('sha256').update(block).digest()
  }
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2)
  await writeFile(path, encodeWav(samples, 44100, 2, buildId3({ title: `Noise ${seed}` })))
  return path
}
