// The gig benchmark (see bench/README.md): pulling a playlist of 50 tracks
// (~500 MB) held by two own devices onto a third, next to `cp` of the same
// bytes from local disk in the same run; and the metadata backup of a
// 10,000-track library with analyses and cues (size, export and restore
// time), next to `tar czf | openssl enc -aes-256-ctr` of the same metadata.
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile as readFileBytes, rm, stat, writeFile, copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { loadIdentity, deriveOwnerSecrets } from '../../src/identity/index.ts'
import { LocalLibrary } from '../../src/library/index.ts'
import { ManifestBook, ManifestStore, setCues } from '../../src/manifest/index.ts'
import { parseHeader, openBackup, decompressContent } from '../../src/backup/index.ts'
import { gitCommit, machineInfo, round, type MachineInfo } from '../common.ts'
import { flushToDisk } from '../scan/measure.ts'
import { syntheticTracks } from '../manifest/tracks.ts'
import type { Service } from '../swarm/procs.ts'
import { djcloud, serveNode, type ServedNode } from '../djcloud-procs.ts'
import { makeHomes, writeNoiseWav } from '../../src/demo/index.ts'
import { inWorkDir } from '../work-dir.ts'

export interface GigBenchOptions {
  /** Tracks in the playlist. */
  tracks: number
  /** Bytes of each track. */
  trackBytes: number
  /** Recordings in the backed-up library. */
  library: number
  tmp: string
  log: (line: string) => void
}

export interface GigBenchResults {
  date: string
  machine: MachineInfo
  commit: string | null
  method: string[]
  pull: { tracks: number; bytes: number; ms: number; cpMs: number; ratio: number; ready: boolean; sources: Record<string, number> }
  backup: {
    recordings: number
    cued: number
    bytes: number
    /** POST /api/backup/push answered (export from the open stores, sealed, pointer put). */
    pushMs: number
    /** From the push until both friends hold the version. */
    heldMs: number
    /** `djcloud backup restore` on a new home, from the phrase and a friend's DHT address, process start to exit. */
    restoreMs: number
    yardstick: { plainBytes: number; bytes: number; ms: number; restoreMs: number }
    sizeRatio: number
    pushRatio: number
    restoreRatio: number
  }
}

async function call<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size
  return n
}

/** Pull: a playlist of `tracks` noise WAVs held by home-pc and phone, pulled onto the laptop. */
async function pullPart(work: string, opts: GigBenchOptions, services: Service<ServedNode>[]): Promise<GigBenchResults['pull']> {
  const { log } = opts
  const [homePc, phone, laptop] = await makeHomes(join(work, 'pull'), ['home-pc', 'phone', 'laptop'])
  const music = join(work, 'music')
  await mkdir(music)
  for (let i = 0; i < opts.tracks; i++) await writeNoiseWav(join(music, `track-${String(i).padStart(2, '0')}.wav`), opts.trackBytes, 1000 + i)
  const phoneMusic = join(work, 'phone-music')
  await mkdir(phoneMusic)
  for (const f of await readdir(music)) await copyFile(join(music, f), join(phoneMusic, f))
  djcloud(homePc!, ['scan', music])
  djcloud(phone!, ['scan', phoneMusic])
  const bytes = await dirBytes(music)
  flushToDisk()

  const admin = await serveNode('home-pc', homePc!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  services.push(admin, await serveNode('phone', phone!, ['--tracker', admin.ready.tracker!]))
  const lap = await serveNode('laptop', laptop!, ['--tracker', admin.ready.tracker!])
  services.push(lap)
  const token = (await loadToken(laptop!))!
  // The playlist, made on the laptop once its union lists every track with both holders online.
  const end = Date.now() + 120_000
  let shas: string[] = []
  for (;;) {
    const { tracks } = await call<{ tracks: Array<{ sha256: string; holders?: Array<{ name: string; online: boolean }> }> }>(lap.ready.api, token, 'GET', '/api/library')
    const ready = tracks.filter((t) => (t.holders ?? []).filter((h) => h.online && h.name !== 'laptop').length === 2)
    if (ready.length === opts.tracks) {
      shas = ready.map((t) => t.sha256)
      break
    }
    if (Date.now() > end) throw new Error(`the laptop lists ${ready.length} of ${opts.tracks} tracks with both holders online`)
    await new Promise((r) => setTimeout(r, 500))
  }
  await call(lap.ready.api, token, 'POST', '/api/playlists', { name: 'Gig' })
  await call(lap.ready.api, token, 'POST', '/api/playlists/Gig/tracks', { tracks: shas })
  log(`pull: ${opts.tracks} tracks, ${(bytes / 1e6).toFixed(0)} MB on home-pc and phone; playlist "Gig" made on the laptop`)

  // Yardstick: cp of the same files from local disk (page cache warm: just written and read by the scans).
  const cpDir = join(work, 'cp-copy')
  let t0 = performance.now()
  execFileSync('cp', ['-r', music, cpDir])
  execFileSync('sync')
  const cpMs = performance.now() - t0
  await rm(cpDir, { recursive: true, force: true })

  t0 = performance.now()
  const started = await call<{ job: { id: string } }>(lap.ready.api, token, 'POST', '/api/pull', { playlist: 'Gig' })
  let job: { state: string; report?: { ready: boolean; tracks: Array<{ sources?: Record<string, number> }> } }
  for (;;) {
    job = (await call<{ job: typeof job }>(lap.ready.api, token, 'GET', `/api/pull/${started.job.id}`)).job
    if (job.report) break
    await new Promise((r) => setTimeout(r, 20))
  }
  execFileSync('sync')
  const ms = performance.now() - t0
  const sources: Record<string, number> = {}
  for (const t of job.report!.tracks) for (const [k, v] of Object.entries(t.sources ?? {})) sources[k] = (sources[k] ?? 0) + v
  log(`pull: ${(ms / 1000).toFixed(2)} s (ready: ${job.report!.ready}), cp: ${(cpMs / 1000).toFixed(2)} s`)
  return { tracks: opts.tracks, bytes, ms: round(ms), cpMs: round(cpMs), ratio: round(ms / cpMs, 2), ready: job.report!.ready, sources }
}

async function loadToken(home: string): Promise<string | undefined> {
  const { readApiToken } = await import('../../src/player/index.ts')
  return readApiToken(home)
}

/** Fills an admin home's stores: `library` analysed recordings (waveforms included), cues on a fifth, its library manifest. */
async function fillLibrary(home: string, library: number): Promise<number> {
  const id = await loadIdentity(home)
  const lib = await LocalLibrary.open(home, { circleSecret: id.circleSecret })
  const tracks = syntheticTracks(library, 701)
  // Waveforms shaped like music (a loud body, quieter intro and breakdown, bands
  // moving with it, a little noise), not random bytes: they compress as real ones do.
  const level = (columns: number, seed: number) => {
    const data = Buffer.alloc(columns * 4)
    const noise = randomBytes(columns * 4)
    for (let c = 0; c < columns; c++) {
      const x = c / columns
      const body = x < 0.08 || (x > 0.5 && x < 0.6) ? 0.35 : 0.85
      const beat = 0.1 * Math.sin((c + seed) * 1.7)
      for (let b = 0; b < 4; b++) data[c * 4 + b] = Math.max(0, Math.min(255, Math.round(255 * (body + beat) * [1, 0.8, 0.5, 0.3][b]! + (noise[c * 4 + b]! % 9) - 4)))
    }
    return { columns, secondsPerColumn: 1, data: data.toString('base64') }
  }
  const self = Buffer.from(id.device.publicKey).toString('hex')
  let cued = 0
  for (const [i, t] of tracks.entries()) {
    const result = {
      version: 2, duration: t.tags.duration!, bpm: t.tags.bpm!, tempoRange: { min: 85, max: 175 }, bpmConfidence: 0.8, beatOffset: 0.1,
      key: 'A minor', camelot: '8A', openKey: '1m', keyStrength: 0.7, lufs: -9, peakDb: -0.5,
    }
    await lib.putAnalysis(t.audioHash, { version: 2, at: Date.now(), source: 'local', result }, { levels: [level(128, i), level(1024, i)] })
    if (i % 5 === 0) {
      const cues = [
        { id: `hot-a-${String(i).padStart(6, '0')}`, kind: 'hot' as const, slot: 'A' as const, position: 12.5, name: 'Drop' },
        { id: `memory-${String(i).padStart(6, '0')}`, kind: 'memory' as const, position: 64 },
      ]
      await lib.putCueEdits(t.audioHash, setCues(self, new Map(), cues))
      cued++
    }
  }
  await lib.close()
  const book = await ManifestBook.open({ store: await ManifestStore.open(home, id.circleSecret), identity: () => id })
  await book.publishLibrary(tracks)
  return cued
}

/**
 * Backup over the network: the owner's node pushes (export from its open
 * stores, sealed, the DHT pointer put) and two friends' nodes fetch and hold
 * the version; then a brand-new home restores from the recovery phrase and a
 * friend's DHT address. Next to tar czf | openssl enc of the same metadata.
 */
async function backupPart(work: string, opts: GigBenchOptions, services: Service<ServedNode>[]): Promise<GigBenchResults['backup']> {
  const { log } = opts
  const [owner] = await makeHomes(join(work, 'owner'), ['owner-pc'])
  const [fiona] = await makeHomes(join(work, 'fiona'), ['fiona-pc'])
  const [gus] = await makeHomes(join(work, 'gus'), ['gus-pc'])
  const ownerId = (h: string) => (JSON.parse(djcloud(h, ['id'])) as { ownerId: string }).ownerId
  const [o, f, g] = [ownerId(owner!), ownerId(fiona!), ownerId(gus!)]
  djcloud(owner!, ['trust', 'add', f, '--role', 'friend', '--name', 'Fiona'])
  djcloud(owner!, ['trust', 'add', g, '--role', 'friend', '--name', 'Gus'])
  for (const friend of [fiona!, gus!]) djcloud(friend, ['trust', 'add', o, '--role', 'friend', '--name', 'Owner'])
  const phrase = (await loadIdentity(owner!)).phrase!
  const phraseFile = join(work, 'phrase.txt')
  await writeFile(phraseFile, phrase, { mode: 0o600 })
  const cued = await fillLibrary(owner!, opts.library)
  log(`backup: ${opts.library} analysed recordings with waveforms, cues on ${cued}, a library manifest of ${opts.library} tracks`)

  // Friends poll the owner's pointer every 500 ms here (10 minutes by default; a linked friend gets a notice).
  process.env.DJCLOUD_BACKUP_POLL_MS = '500'
  const ownerNode = await serveNode('owner-pc', owner!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'])
  services.push(ownerNode)
  const bootstrap = ownerNode.ready.bootstrap ?? `127.0.0.1:${ownerNode.ready.dhtPort}`
  const friendNodes = await Promise.all([fiona!, gus!].map((h, i) => serveNode(i ? 'gus-pc' : 'fiona-pc', h, ['--tracker-port', '0', '--tracker-host', '127.0.0.1', '--bootstrap', bootstrap])))
  services.push(...friendNodes)
  const token = (await loadToken(owner!))!

  let t0 = performance.now()
  const pushed = await call<{ seq: number; bytes: number }>(ownerNode.ready.api, token, 'POST', '/api/backup/push')
  const pushMs = performance.now() - t0
  for (;;) {
    const s = await call<{ friends: Array<{ name: string; versions: number[] }> }>(ownerNode.ready.api, token, 'GET', '/api/backup/status')
    if (['Fiona', 'Gus'].every((n) => s.friends.some((x) => x.name === n && x.versions.includes(pushed.seq)))) break
    if (performance.now() - t0 > 120_000) throw new Error(`friends did not hold backup ${pushed.seq} within 120 s`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const heldMs = performance.now() - t0
  const friendDht = `127.0.0.1:${friendNodes[0]!.ready.dhtPort}`
  await ownerNode.stop() // the owner's devices are gone: the copies at friends are what is left

  const fresh = join(work, 'restored-home')
  t0 = performance.now()
  djcloud(fresh, ['backup', 'restore', '--phrase-file', phraseFile, '--bootstrap', friendDht, '--name', 'new-laptop'])
  const restoreMs = performance.now() - t0
  const bytes = pushed.bytes
  log(`backup: ${(bytes / 1e6).toFixed(1)} MB, push ${(pushMs / 1000).toFixed(2)} s (both friends holding it at ${(heldMs / 1000).toFixed(2)} s), restore from the phrase ${(restoreMs / 1000).toFixed(2)} s`)

  // Yardstick: the same metadata as push encodes it (the sealed file decrypted and
  // decompressed), in one file: tar czf | openssl enc -aes-256-ctr, and back.
  const pushedDir = join(owner!, 'backup', 'pushed')
  const names = (await readdir(pushedDir)).sort()
  const sealed = await readFileBytes(join(pushedDir, names.at(-1)!))
  const plain = decompressContent(openBackup(sealed, parseHeader(sealed), deriveOwnerSecrets(phrase).backupKey))
  const plainDir = join(work, 'metadata')
  await mkdir(plainDir)
  await writeFile(join(plainDir, 'metadata.bencode'), plain)
  flushToDisk()
  const out = join(work, 'metadata.tar.gz.enc')
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: work })
  t0 = performance.now()
  sh(`tar czf - -C ${plainDir} . | openssl enc -aes-256-ctr -pbkdf2 -pass pass:bench -out ${out}`)
  const yMs = performance.now() - t0
  const yBytes = (await stat(out)).size
  const back = join(work, 'metadata-back')
  await mkdir(back)
  t0 = performance.now()
  sh(`openssl enc -d -aes-256-ctr -pbkdf2 -pass pass:bench -in ${out} | tar xzf - -C ${back}`)
  const yRestoreMs = performance.now() - t0
  log(`yardstick: ${(plain.length / 1e6).toFixed(1)} MB of metadata -> ${(yBytes / 1e6).toFixed(1)} MB in ${(yMs / 1000).toFixed(2)} s, back in ${(yRestoreMs / 1000).toFixed(2)} s`)
  return {
    recordings: opts.library,
    cued,
    bytes,
    pushMs: round(pushMs),
    heldMs: round(heldMs),
    restoreMs: round(restoreMs),
    yardstick: { plainBytes: plain.length, bytes: yBytes, ms: round(yMs), restoreMs: round(yRestoreMs) },
    sizeRatio: round(bytes / yBytes, 2),
    pushRatio: round(pushMs / yMs, 2),
    restoreRatio: round(restoreMs / yRestoreMs, 2),
  }
}

export function runGigBench(opts: GigBenchOptions): Promise<GigBenchResults> {
  return inWorkDir(opts.tmp, 'djcloud-bench-gig-', (work) => gigBench(opts, work))
}

async function gigBench(opts: GigBenchOptions, work: string): Promise<GigBenchResults> {
  const services: Service<ServedNode>[] = []
  try {
    const pull = await pullPart(work, opts, services)
    await Promise.all(services.splice(0).map((s) => s.stop()))
    const backup = await backupPart(work, opts, services)
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      commit: gitCommit(['src', 'bench/gig']).commit,
      method: [
        `pull: home-pc (admin, tracker) and phone hold ${opts.tracks} distinct ${(opts.trackBytes / 1e6).toFixed(0)} MB WAVs (seeded noise, written by the benchmark); the laptop, holding none, makes a playlist of them and POST /api/pull runs; time from the POST to the job's report (every track fetched from both holders, SHA-256 verified, re-read and verified, pinned), then sync; three \`djcloud serve\` processes on 127.0.0.1, analysis off`,
        'yardstick for pull: cp -r of the same files from local disk to a new folder, then sync, in the same run (page cache warm for both: the files were just written and scanned)',
        `backup: the owner's admin home with ${opts.library} analysed recordings (summary and two waveform levels each, as stored), cue registers on a fifth of them, and a signed library manifest of ${opts.library} tracks (bench/manifest/tracks.ts); two friends' nodes (the owner on their rosters, they on its); push = POST /api/backup/push on the owner's node (export from its open stores, bencode, brotli, XChaCha20-Poly1305, owner signature, DHT pointer put); held = until both friends hold it (they poll the pointer every 500 ms here, 10 minutes by default); then the owner's node stops and \`djcloud backup restore --phrase-file F --bootstrap <a friend's DHT address>\` runs on a brand-new home (find the pointer, fetch from a friend, verify, decrypt, restore the stores), timed from process start to exit`,
        'yardstick for backup: the same metadata as push encodes it (the sealed file decrypted and decompressed) in one file, `tar czf - | openssl enc -aes-256-ctr -pbkdf2` and back (`openssl enc -d | tar xzf -`), in the same run',
      ],
      pull,
      backup,
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()))
  }
}
