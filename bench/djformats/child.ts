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
import { request, type IncomingMessage } from 'node:http'
import { httpNodeAccess, importLibraryInto, jsonEntries, printImport, spoolTrackPlans, type ApiCall, type ApiEntries } from '../../src/djimport/index.ts'
import { exportLibrary } from '../../src/djexport/index.ts'

/**
 * A GET to the node's API at `base` (the benchmark's stand-in server in the
 * parent process) as the CLI makes it (src/cli/remote-library.ts: node:http,
 * Node's keep-alive agent; not fetch, whose undici costs ~15 MB of RSS).
 */
function get(base: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(base + path), { method: 'GET' })
    req.on('response', (res) => (res.statusCode === 200 ? resolve(res) : reject(new Error(`${path}: HTTP ${res.statusCode}`))))
    req.on('error', reject)
    req.end()
  })
}

function httpApi(base: string): ApiCall {
  return async <T>(method: string, path: string): Promise<T> => {
    if (method !== 'GET') throw new Error(`the benchmark does not write: ${method} ${path}`)
    const res = await get(base, path)
    let text = ''
    res.setEncoding('utf8')
    for await (const chunk of res) text += chunk as string
    return JSON.parse(text) as T
  }
}

/** The large answers read as they arrive, as the CLI reads them. */
function httpEntries(base: string): ApiEntries {
  return async (path, key, onEntry) => jsonEntries(await get(base, path), key, onEntry)
}

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
  const source = { format: a as DjFormat, read: async (onTrack: (t: DjTrack) => void | Promise<void>) => (lib = await readDjFile(b, a as DjFormat, { onTrack })) }
  const tracks = spoolTrackPlans()
  let printed = 0
  const out = new Writable({ write: (chunk: Buffer, _e, done) => ((printed += chunk.length), done()) })
  try {
    const r = await importLibraryInto(source, httpNodeAccess(httpApi(url), httpEntries(url)), { exists: () => true, dryRun: true }, tracks)
    await printImport(out, b, lib!, r, { dryRun: true, json: process.env.DJFORMATS_BENCH_JSON === '1' })
    const s = r.plan.summary
    result = { ms: performance.now() - t0, entries: s.entries, matched: s.matched, cuesAdded: s.cuesAdded, notesSet: s.notesSet, changes: s.changes, playlistEntries: s.playlistEntriesAdded, printedMB: printed / 1e6 }
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
