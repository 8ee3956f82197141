// Preloaded into the measured djcloud process (node --import): at exit it
// writes the process's peak RSS (getrusage ru_maxrss, KiB, all threads) to
// $DJCLOUD_BENCH_RSS_FILE. Plain JS because it loads before tsx does.
import { writeFileSync } from 'node:fs'

const out = process.env.DJCLOUD_BENCH_RSS_FILE
if (out) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)))
