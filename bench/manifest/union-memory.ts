// Child process of the manifest benchmark: the memory a device needs to hold
// three other own devices' libraries and the union list made from them. The
// parent bundles this file with esbuild and runs it with plain node (as the
// CLI ships: no tsx loader thread in its RSS), in a fresh process so nothing
// else of the benchmark is in its figures.
//   node --expose-gc union-memory.mjs CONFIG.json   -> one JSON line on stdout
//
// As the node holds them: a ManifestBook opened on this device's home takes
// each other device's signed library root and every page it names, verified
// (applyLibrary, blobs read from that device's store on disk, as the device
// channel would hand them over); then the union (unionTracks) over the book's
// remote views, and the sorted list the API serves (listUnion).
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadIdentity } from '../../src/identity/index.ts'
import { ManifestBook, ManifestStore, listUnion, unionTracks } from '../../src/manifest/index.ts'

export interface UnionMemoryConfig {
  selfHome: string
  devices: Array<{ name: string; blobsDir: string; root: string }>
}

export interface UnionMemoryReport {
  remoteTracks: number
  unionTracks: number
  listed: number
  /** KiB, /proc/self/status. */
  baselineRssKiB: number
  /** Peak once the three libraries are applied, before the union. */
  peakAfterApplyKiB: number
  peakRssKiB: number
  /** RSS at the end, the union dropped and garbage collected. */
  rssBookOnlyAfterGcKiB: number
  /** process.resourceUsage().maxRSS (KiB): getrusage, which Linux carries over fork and exec. */
  maxRssKiB: number
  /** Heap after GC before anything was applied (bytes). */
  heapBaselineAfterGc: number
  /** Bytes, with the book, the union and the list all held. */
  heapUsed: number
  heapUsedAfterGc: number
  /** Heap after GC with only the book held (the union dropped), as between API requests. */
  heapBookOnlyAfterGc: number
  external: number
  arrayBuffers: number
  applyMs: number
  unionMs: number
}

function status(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) : NaN
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as UnionMemoryConfig
  const id = await loadIdentity(config.selfHome)
  const store = await ManifestStore.open(config.selfHome, id.circleSecret)
  const book = await ManifestBook.open({ store, identity: () => id })
  gc()
  const baselineRssKiB = status('VmRSS')
  const heapBaselineAfterGc = process.memoryUsage().heapUsed

  let t0 = performance.now()
  for (const d of config.devices) {
    const fetch = (sha: string) => readFile(join(d.blobsDir, sha)).catch(() => null)
    const ok = await book.applyLibrary(await readFile(join(d.blobsDir, d.root)), fetch, d.name)
    if (!ok) throw new Error(`the book refused ${d.name}'s library: ${JSON.stringify(book.refusals.at(-1))}`)
  }
  const applyMs = performance.now() - t0
  const peakAfterApplyKiB = status('VmHWM')

  t0 = performance.now()
  const remotes = book.remoteLibraries()
  let union: ReturnType<typeof unionTracks> | null = unionTracks({
    self: { device: hex(id.device.publicKey), name: id.certificate.name },
    local: [],
    remotes,
    online: new Set(remotes.map((r) => r.device)),
  })
  let list: ReturnType<typeof listUnion> | null = listUnion(union.values())
  const unionMs = performance.now() - t0

  const mem = process.memoryUsage()
  gc()
  const heapUsedAfterGc = process.memoryUsage().heapUsed
  const counts = { remoteTracks: remotes.reduce((n, r) => n + r.tracks.length, 0), unionTracks: union.size, listed: list.length }
  union = null
  list = null
  gc()
  const heapBookOnlyAfterGc = process.memoryUsage().heapUsed
  const rssBookOnlyAfterGcKiB = status('VmRSS')
  const report: UnionMemoryReport = {
    ...counts,
    baselineRssKiB,
    heapBaselineAfterGc,
    peakAfterApplyKiB,
    peakRssKiB: status('VmHWM'),
    rssBookOnlyAfterGcKiB,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsed: mem.heapUsed,
    heapUsedAfterGc,
    heapBookOnlyAfterGc,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    applyMs,
    unionMs,
  }
  if (book.remoteLibraries().length !== config.devices.length) throw new Error('the book lost a device')
  process.stdout.write(JSON.stringify(report) + '\n')
}

await main()
