// Command line of the DJ formats benchmark: import (read + match + plan) and
// export (the node's answers parsed, the file built and written) of a
// 20,000-track rekordbox XML and Traktor NML with 8 cues a track, each in a
// process of its own bundled as the CLI ships, against the floor: saxes with
// no handlers over the same file, in the same run. Targets: < 5 s and
// < 200 MB peak RSS each (reported, not enforced).
import { build } from 'esbuild'
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { readDjFile, rekordboxXml, traktorNml, writeDjFile, type DjFormat, type DjTrack } from '../../src/djformats/index.ts'
import { httpNodeAccess, importLibrary, type ApiCall, type ImportPlan } from '../../src/djimport/index.ts'
import { benchMain, gitCommit, machineInfo, median, positiveCount, round, table, type MachineInfo } from '../common.ts'
import { apiTexts, djLibrary, importedTexts, standInAnswer } from './library.ts'

const USAGE = `Usage: npm run bench:djformats -- [options]

  --tracks N   tracks in the collection, 8 cues each (default 20000)
  --runs N     runs of each operation; the median time and the highest peak RSS are reported (default 3)
  --quick      a smoke run: 2000 tracks, 1 run; results not written unless --out is given
  --out FILE   where to write the JSON results (default bench/results/djformats.json)
  --tmp DIR    where the files go (default: the OS temp dir, $TMPDIR)
`

const TARGET_MS = 5000
const TARGET_RSS_MB = 200

interface Op {
  /** Wall time, median of the runs. */
  ms: number
  /** CPU time of the process (user + system, from start-up), median of the runs. */
  cpuMs: number
  peakRssMb: number
  samplesMs: number[]
  ratioToFloor?: number
  cpuRatioToFloor?: number
  met?: boolean
}
interface FormatResults {
  fileMB: number
  floor: Op
  import: Op & { entries: number; matched: number; cuesAdded: number; notesSet: number }
  /** The same file imported again into the node the first import made: nothing to change. */
  reimport: Op & { entries: number; matched: number; changes: number }
  export: Op & { tracks: number; cues: number; fileMB: number }
}
export interface DjformatsBenchResults {
  bench: 'djformats'
  date: string
  commit: string | null
  machine: MachineInfo
  loadAverage: { start: number[]; end: number[] }
  tracks: number
  cuesPerTrack: 8
  runs: number
  targets: { ms: number; peakRssMb: number }
  rekordbox: FormatResults
  traktor: FormatResults
}

/** The node's API as the export and import read it, answered from prepared texts (a stand-in for a node holding the tracks). */
async function serveTexts(texts: Record<string, string>): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = standInAnswer(texts)
  const server = createServer((req, res) => {
    const text = answer(req.url ?? '')
    if (text === undefined) return void res.writeHead(404).end('{}')
    res.writeHead(200, { 'content-type': 'application/json' }).end(text)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** The first import's plan of a file against the node's answers before it (as the child's import makes it), made in this process. */
async function firstImportPlan(format: DjFormat, file: string, texts: Record<string, string>): Promise<ImportPlan> {
  const answer = standInAnswer(texts)
  const call: ApiCall = async <T>(method: string, path: string) => {
    const text = method === 'GET' ? answer(path) : undefined
    if (text === undefined) throw new Error(`the stand-in does not answer ${method} ${path.slice(0, 80)}`)
    return JSON.parse(text) as T
  }
  const source = { format, read: (onTrack: (t: DjTrack) => void) => readDjFile(file, format, { onTrack }) }
  return (await importLibrary(source, httpNodeAccess(call), { exists: () => true, dryRun: true })).plan
}

async function runChild(child: string, args: string[]): Promise<Record<string, number>> {
  const { stdout } = await promisify(execFile)(process.execPath, [child, ...args], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout) as Record<string, number>
}

async function measure(child: string, args: string[], runs: number): Promise<Op & { counts: Record<string, number> }> {
  const all: Array<Record<string, number>> = []
  for (let i = 0; i < runs; i++) all.push(await runChild(child, args))
  const samples = all.map((r) => r.ms!)
  return { counts: all[0]!, ms: round(median(samples), 0), cpuMs: round(median(all.map((r) => r.cpuMs!)), 0), samplesMs: samples.map((s) => round(s, 0)), peakRssMb: round(Math.max(...all.map((r) => r.peakRssMb!)), 0) }
}

export async function runDjformatsBench(opts: { tracks: number; runs: number; tmp: string; log: (line: string) => void }): Promise<DjformatsBenchResults> {
  const dir = await mkdtemp(join(opts.tmp, 'djformats-bench-'))
  const start = loadavg().map((v) => round(v, 2))
  try {
    opts.log(`writing a ${opts.tracks}-track collection as rekordbox XML and Traktor NML`)
    const lib = djLibrary(opts.tracks)
    const files: Record<Exclude<DjFormat, 'serato'>, string> = { rekordbox: join(dir, 'rekordbox.xml'), traktor: join(dir, 'collection.nml') }
    await writeDjFile(files.rekordbox, rekordboxXml(lib))
    await writeDjFile(files.traktor, traktorNml(lib))
    const child = join(dir, 'child.mjs')
    await build({ entryPoints: [new URL('./child.ts', import.meta.url).pathname], outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['audio-decode', 'essentia.js'], logLevel: 'warning' })
    // A node holding the tracks, before the import (no cues, notes or playlists) and after it (for the export).
    const beforeTexts = apiTexts(opts.tracks, false)
    const before = await serveTexts(beforeTexts)
    const after = await serveTexts(apiTexts(opts.tracks, true))
    const out = {} as Record<DjFormat, FormatResults>
    let again: Awaited<ReturnType<typeof serveTexts>> | undefined
    try {
    for (const format of ['rekordbox', 'traktor'] as const) {
      const file = files[format]
      opts.log(`${format}: the floor (saxes, no handlers)`)
      const floor = await measure(child, ['floor', file], opts.runs)
      opts.log(`${format}: import (read + match + plan)`)
      const imp = await measure(child, ['import', format, file, before.url], opts.runs)
      // The node after the first import of this file: its cues, notes and playlists as that import writes them.
      opts.log(`${format}: re-import (the node holds what the first import wrote)`)
      again = await serveTexts(importedTexts(beforeTexts, await firstImportPlan(format, file, beforeTexts)))
      const reimp = await measure(child, ['import', format, file, again.url], opts.runs)
      await again.close()
      again = undefined
      opts.log(`${format}: export (build + write)`)
      const exported = join(dir, `export-${format}`)
      const exp = await measure(child, ['export', format, exported, after.url], opts.runs)
      const grade = ({ ms, cpuMs, samplesMs, peakRssMb }: Op) => ({ ms, cpuMs, samplesMs, peakRssMb, ratioToFloor: round(ms / floor.ms, 2), cpuRatioToFloor: round(cpuMs / floor.cpuMs, 2), met: ms < TARGET_MS && peakRssMb < TARGET_RSS_MB })
      out[format] = {
        fileMB: round((await stat(file)).size / 1e6, 1),
        floor: { ms: floor.ms, cpuMs: floor.cpuMs, samplesMs: floor.samplesMs, peakRssMb: floor.peakRssMb },
        import: { ...grade(imp), entries: imp.counts.entries!, matched: imp.counts.matched!, cuesAdded: imp.counts.cuesAdded!, notesSet: imp.counts.notesSet! },
        reimport: { ...grade(reimp), entries: reimp.counts.entries!, matched: reimp.counts.matched!, changes: reimp.counts.changes! },
        export: { ...grade(exp), tracks: exp.counts.tracks!, cues: exp.counts.cues!, fileMB: round((await stat(exported)).size / 1e6, 1) },
      }
      for (const op of ['import', 'reimport'] as const)
        for (const k of ['entries', 'matched'] as const) if (out[format][op][k] !== opts.tracks) throw new Error(`${format} ${op}: ${k} ${out[format][op][k]} of ${opts.tracks}`)
      if (out[format].reimport.changes !== 0) throw new Error(`${format} re-import: ${out[format].reimport.changes} changes (a re-import of the same file changes nothing)`)
      if (out[format].export.tracks !== opts.tracks) throw new Error(`${format} export wrote ${out[format].export.tracks} of ${opts.tracks} tracks`)
    }
    } finally {
      await before.close()
      await after.close()
      await again?.close()
    }
    return {
      bench: 'djformats',
      date: new Date().toISOString(),
      commit: gitCommit(['src', 'bench']).commit,
      machine: machineInfo(),
      loadAverage: { start, end: loadavg().map((v) => round(v, 2)) },
      tracks: opts.tracks,
      cuesPerTrack: 8,
      runs: opts.runs,
      targets: { ms: TARGET_MS, peakRssMb: TARGET_RSS_MB },
      ...out,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
export function formatResults(r: DjformatsBenchResults): string {
  const rows = [['', 'file', 'wall (median)', 'CPU (median)', 'peak RSS', 'x floor (wall, CPU)', `target < ${r.targets.ms / 1000} s, < ${r.targets.peakRssMb} MB`]]
  for (const f of ['rekordbox', 'traktor'] as const) {
    const x = r[f]
    const ratio = (o: Op) => `${o.ratioToFloor!.toFixed(2)}x, ${o.cpuRatioToFloor!.toFixed(2)}x`
    rows.push([`${f}: floor (saxes, no handlers)`, `${x.fileMB} MB`, s(x.floor.ms), s(x.floor.cpuMs), `${x.floor.peakRssMb} MB`, '1.00x', ''])
    rows.push([`${f}: import (read + match + plan)`, '', s(x.import.ms), s(x.import.cpuMs), `${x.import.peakRssMb} MB`, ratio(x.import), x.import.met ? 'met' : 'MISSED'])
    rows.push([`${f}: re-import (nothing to change)`, '', s(x.reimport.ms), s(x.reimport.cpuMs), `${x.reimport.peakRssMb} MB`, ratio(x.reimport), x.reimport.met ? 'met' : 'MISSED'])
    rows.push([`${f}: export (build + write)`, `${x.export.fileMB} MB`, s(x.export.ms), s(x.export.cpuMs), `${x.export.peakRssMb} MB`, ratio(x.export), x.export.met ? 'met' : 'MISSED'])
  }
  return [
    `djformats benchmark, ${r.date}, ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; ${r.tracks} tracks x ${r.cuesPerTrack} cues, ${r.runs} runs each; load average ${r.loadAverage.start[0]} at the start, ${r.loadAverage.end[0]} at the end`,
    '',
    table(rows),
  ].join('\n')
}

export function djformatsBenchMain(argv: string[]): Promise<number> {
  return benchMain({
    name: 'djformats',
    argv,
    usage: USAGE,
    flags: { tracks: { type: 'string' }, runs: { type: 'string' } },
    options: (v, quick) => ({ tracks: positiveCount(v.tracks as string | undefined, quick ? 2000 : 20_000), runs: positiveCount(v.runs as string | undefined, quick ? 1 : 3) }),
    run: (o) => runDjformatsBench(o),
    format: formatResults,
  })
}
