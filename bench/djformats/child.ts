// One measured operation in a process of its own (so its peak RSS is that
// operation's alone), bundled by esbuild as the CLI ships. Prints JSON:
//   floor FILE            saxes over the file with no handlers: the floor
//   import FORMAT FILE URL  read + match + plan (a dry run) against the node's library, cues and notes at URL
//   export FORMAT OUT URL   the node's answers read from URL, the export built and written atomically
// URL is the parent's stand-in for the node's API (the answers a node gives
// for the same tracks), so this process holds what the CLI holds, no more.
import { createReadStream } from 'node:fs'
import { SaxesParser } from 'saxes'
import { readDjFile, type DjFormat, type DjTrack } from '../../src/djformats/index.ts'
import { httpNodeAccess, importLibrary, jsonEntries, type ApiCall, type ApiEntries } from '../../src/djimport/index.ts'
import { exportLibrary } from '../../src/djexport/index.ts'

const CHUNK = 256 * 1024 // bytes: what the readers read at once

/** The node's API at `base` (the benchmark's stand-in server in the parent process), called as the CLI calls it. */
function httpApi(base: string): ApiCall {
  return async <T>(method: string, path: string): Promise<T> => {
    if (method !== 'GET') throw new Error(`the benchmark does not write: ${method} ${path}`)
    const res = await fetch(base + path)
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
    return (await res.json()) as T
  }
}

/** The large answers read as they arrive, as the CLI reads them. */
function httpEntries(base: string): ApiEntries {
  return async (path, key, onEntry) => {
    const res = await fetch(base + path)
    if (!res.ok || !res.body) throw new Error(`${path}: HTTP ${res.status}`)
    await jsonEntries(res.body as unknown as AsyncIterable<Uint8Array>, key, onEntry)
  }
}

const [op, a = '', b = '', url = ''] = process.argv.slice(2)
let result: Record<string, unknown>
if (op === 'floor') {
  const t0 = performance.now()
  const parser = new SaxesParser({ position: true, xmlns: false })
  const decoder = new TextDecoder('utf-8')
  for await (const chunk of createReadStream(a, { highWaterMark: CHUNK })) parser.write(decoder.decode(chunk as Buffer, { stream: true }))
  parser.close()
  result = { ms: performance.now() - t0 }
} else if (op === 'import') {
  const t0 = performance.now()
  // As `djcloud import` reads it: each entry matched and planned as the file is read.
  const source = { format: a as DjFormat, read: (onTrack: (t: DjTrack) => void) => readDjFile(b, a as DjFormat, { onTrack }) }
  const { plan } = await importLibrary(source, httpNodeAccess(httpApi(url), httpEntries(url)), { exists: () => true, dryRun: true })
  result = { ms: performance.now() - t0, entries: plan.summary.entries, matched: plan.summary.matched, cuesAdded: plan.summary.cuesAdded, notesSet: plan.summary.notesSet, playlistEntries: plan.summary.playlistEntriesAdded }
} else if (op === 'export') {
  const t0 = performance.now()
  const r = await exportLibrary(httpApi(url), b, { format: a as DjFormat, entries: httpEntries(url) })
  result = { ms: performance.now() - t0, tracks: r.summary.tracks, cues: r.summary.cues + r.summary.loops, playlistEntries: r.summary.playlistEntries, writerSkipped: r.writerSkipped.length }
} else throw new Error(`unknown operation ${op}`)
// CPU time (user + system, GC threads included) beside the wall time: on a shared machine the wall time is mostly waiting.
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({ ...result, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 }))
