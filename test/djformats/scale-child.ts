// Run in a process of its own by scale.test.ts, so its peak RSS is the
// reader's (and writer's) alone: reads the file named on the command line,
// writes it back out in the same format, prints what it measured as JSON.
// With --entries: the file read entry by entry (onTrack), nothing kept, and
// the process's peak RSS (VmHWM) printed.
import { readFileSync } from 'node:fs'
import { readDjFile, rekordboxXml, traktorNml, writeDjFile } from '../../src/djformats/index.ts'

const [path = '', out = ''] = process.argv.slice(2)
if (out === '--entries') {
  let tracks = 0
  await readDjFile(path, undefined, { onTrack: () => void tracks++ })
  const peakKiB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS)
  process.stdout.write(JSON.stringify({ tracks, peakRssMb: peakKiB / 1024 }))
  process.exit(0)
}
const t0 = performance.now()
const lib = await readDjFile(path)
const readMs = performance.now() - t0
const readRssMb = process.resourceUsage().maxRSS / 1024
const t1 = performance.now()
await writeDjFile(out, lib.format === 'rekordbox' ? rekordboxXml(lib) : traktorNml(lib))
const writeMs = performance.now() - t1
const cues = lib.tracks.reduce((n, t) => n + t.cues.length, 0)
process.stdout.write(JSON.stringify({ format: lib.format, tracks: lib.tracks.length, cues, readMs, writeMs, readRssMb, maxRssMb: process.resourceUsage().maxRSS / 1024 }))
