// The soak's end checks once every node has stopped: each home's stores open
// (the LevelDB library store, the manifest store and its state file), every
// library file still on disk hashes to its record's SHA-256, every finished
// file in the cache hashes to its name, and every backup copy (pushed, or
// held for the owner at the friend) hashes to its name and carries the
// owner's signature.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { loadIdentity } from '../../src/identity/index.ts'
import { LocalLibrary } from '../../src/library/index.ts'
import { ManifestStore } from '../../src/manifest/index.ts'
import { verifyBackup } from '../../src/backup/index.ts'
import type { Tally } from './tally.ts'

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  await pipeline(createReadStream(path), h)
  return h.digest('hex')
}

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false)

async function libraryFiles(name: string, home: string, circleSecret: Uint8Array, tally: Tally): Promise<void> {
  let lib: LocalLibrary
  try {
    lib = await LocalLibrary.open(home, { circleSecret })
  } catch (err) {
    return tally.loss('store-unopenable', `${name}: the library store: ${(err as Error).message}`)
  }
  try {
    tally.checked('library stores opened')
    for (const rec of await lib.list({ includeMissing: false })) {
      for (const p of rec.paths) {
        if (!(await exists(p))) continue // removed by the soak after the last scan
        const sha = await sha256File(p)
        if (sha === rec.sha256) tally.checked('library files verified by SHA-256')
        else tally.loss('library-file-corrupt', `${name}: ${p} hashes to ${sha.slice(0, 12)}, its record says ${rec.sha256.slice(0, 12)}`)
      }
    }
  } finally {
    await lib.close()
  }
}

async function manifestStore(name: string, home: string, circleSecret: Uint8Array, tally: Tally): Promise<void> {
  // ManifestStore.open starts over on an unreadable state file, so read it first.
  const state = await readFile(join(home, 'manifests', 'state.json'), 'utf8').catch(() => undefined)
  if (state !== undefined) {
    try {
      if ((JSON.parse(state) as { v?: number }).v !== 1) throw new Error('not version 1')
    } catch (err) {
      tally.loss('store-unopenable', `${name}: manifests/state.json: ${(err as Error).message}`)
    }
  }
  try {
    await ManifestStore.open(home, circleSecret)
    tally.checked('manifest stores opened')
  } catch (err) {
    tally.loss('store-unopenable', `${name}: the manifest store: ${(err as Error).message}`)
  }
}

async function cacheFiles(name: string, home: string, tally: Tally): Promise<void> {
  const dir = join(home, 'cache')
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const part = /^([0-9a-f]{64})\.part$/.exec(f)
    if (part) {
      // A download left partial (cut by a stop, never opened again). Whole and right: cut in its final check.
      const whole = (await sha256File(join(dir, f))) === part[1]
      tally.checked(whole ? 'partial downloads left behind whole and correct (cut in the final check)' : 'partial downloads left behind incomplete')
      continue
    }
    if (!/^[0-9a-f]{64}$/.test(f)) continue // .have/.info and the state file
    const sha = await sha256File(join(dir, f))
    if (sha === f) tally.checked('cached files verified by SHA-256')
    else tally.loss('cache-file-corrupt', `${name}: cache/${f.slice(0, 12)} hashes to ${sha.slice(0, 12)}`)
  }
}

async function backupCopies(name: string, dir: string, owner: Uint8Array, tally: Tally): Promise<void> {
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d+)-([0-9a-f]{64})\.djbackup$/.exec(f)
    if (!m) continue
    const bytes = await readFile(join(dir, f))
    const sha = createHash('sha256').update(bytes).digest('hex')
    try {
      if (sha !== m[2]) throw new Error(`hashes to ${sha.slice(0, 12)}`)
      verifyBackup(bytes, owner)
      tally.checked('backup copies verified (SHA-256 and signature)')
    } catch (err) {
      tally.loss('backup-copy-corrupt', `${name}: ${f}: ${(err as Error).message}`)
    }
  }
}

export async function storeChecks(homes: Record<string, string>, ownerHex: string, tally: Tally): Promise<void> {
  const owner = Buffer.from(ownerHex, 'hex')
  for (const [name, home] of Object.entries(homes)) {
    const { circleSecret } = await loadIdentity(home)
    await libraryFiles(name, home, circleSecret, tally)
    await manifestStore(name, home, circleSecret, tally)
    await cacheFiles(name, home, tally)
    await backupCopies(name, join(home, 'backup', 'pushed'), owner, tally)
    await backupCopies(name, join(home, 'backup', 'held', ownerHex), owner, tally)
  }
}
