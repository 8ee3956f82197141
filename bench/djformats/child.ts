// One measured operation in a process of its own (so its peak RSS is that
// operation's alone), bundled by esbuild as the CLI ships. Prints JSON:
//   floor FILE            saxes over the file with no handlers: the floor
//   import FORMAT FILE URL  read + match + plan (a dry run) against the node's library, cues and notes at URL, printed
//   export FORMAT OUT URL   the node's answers read from URL, the export built and written atomically
// URL is the parent's stand-in for the node's API (the answers a node gives
// for the same tracks), so this process holds what the CLI holds, no more.
import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { SaxesParser } from 'saxes'
import { FILE_CHUNK, readDjFile, type DjFormat, type DjLibrary, type DjTrack } from '../../src/djformats/index.ts'
import { httpNodeAccess, importLibraryInto, spoolTrackPlans, type ApiCall, type ApiEntries } from '../../src/djimport/index.ts'
import { exportLibrary } from '../../src/djexport/index.ts'
import { printImport } from '../../src/cli/import-output.ts'
import { callNode, nodeEntries } from '../../src/cli/remote-library.ts'

/** The node's API at `base` (the benchmark's stand-in server in the parent process), called as the CLI calls it (src/cli/remote-library.ts). */
function httpApi(base: string): ApiCall {
  const node = { pid: process.ppid, api: base, peerPort: 0 }
  return (method, path, body) => {
    if (method !== 'GET') throw new Error(`the benchmark does not write: ${method} ${path}`)
    return callNode(node, '', method, path, body)
  }
}

/** The large answers read as they arrive, as the CLI reads them. */
const httpEntries = (base: string): ApiEntries => nodeEntries({ pid: process.ppid, api: base, peerPort: 0 }, '')

const [op, a = '', b = '', url = ''] = process.argv.slice(2)
let result: Record<string, unknown>
if (op === 'floor') {
  const t0 = performance.now()
  const parser = new SaxesParser({ position: true, xmlns: false })
  const decoder = new TextDecoder('utf-8')
  for await (const chunk of createReadStream(a, { highWaterMark: FILE_CHUNK })) parser.write(decoder.decode(chunk as Buffer, { stream: true }))
  parser.close()
  result = { ms: performance.now() - t0 }
} else if (op === 'import') {
  const t0 = performance.now()
  // As `djcloud import --dry-run` runs it: each entry matched and planned as the file is read, the tracks' plans
  // spooled to a temporary file, then the plan printed from it (as text, to a stream that drops it).
  let lib: DjLibrary | undefined
  const source = { format: a as DjFormat, read: async (onTrack: (t: DjTrack) => void) => (lib = await readDjFile(b, a as DjFormat, { onTrack })) }
  const tracks = spoolTrackPlans()
  let printed = 0
  const out = new Writable({ write: (chunk: Buffer, _e, done) => ((printed += chunk.length), done()) })
  try {
    const r = await importLibraryInto(source, httpNodeAccess(httpApi(url), httpEntries(url)), { exists: () => true, dryRun: true }, tracks)
    await printImport(out, b, lib!, r, { dryRun: true, json: process.env.DJFORMATS_BENCH_JSON === '1' })
    const s = r.plan.summary
    result = { ms: performance.now() - t0, entries: s.entries, matched: s.matched, cuesAdded: s.cuesAdded, notesSet: s.notesSet, playlistEntries: s.playlistEntriesAdded, printedMB: printed / 1e6 }
  } finally {
    tracks.close()
  }
} else if (op === 'export') {
  const t0 = performance.now()
  const r = await exportLibrary(httpApi(url), b, { format: a as DjFormat, entries: httpEntries(url) })
  result = { ms: performance.now() - t0, tracks: r.summary.tracks, cues: r.summary.cues + r.summary.loops, playlistEntries: r.summary.playlistEntries, writerSkipped: r.writerSkipped.length }
} else throw new Error(`unknown operation ${op}`)
// CPU time (user + system, GC threads included) beside the wall time: on a shared machine the wall time is mostly waiting.
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({ ...result, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 }))
