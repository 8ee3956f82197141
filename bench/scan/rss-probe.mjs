// Preloaded into the measured djcloud process (node --import): at exit it
// writes the process's peak RSS in KiB to $DJCLOUD_BENCH_RSS_FILE. Plain JS
// because it loads before anything else.
//
// It reads VmHWM from /proc/self/status, the high-water mark of this process's
// own memory map. getrusage's ru_maxrss is not usable here: Linux carries it
// over fork and exec, so a child reports its parent's peak if that was higher
// (the benchmark parent holds generated audio and peaks near 200 MB).
import { readFileSync, writeFileSync } from 'node:fs'

function peakKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1])
  } catch {}
  return process.resourceUsage().maxRSS
}

const out = process.env.DJCLOUD_BENCH_RSS_FILE
if (out) process.on('exit', () => writeFileSync(out, String(peakKiB())))
